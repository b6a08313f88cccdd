package report

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// stickyWriter keeps the first write error and drops every later write, so
// a renderer writes line after line and checks once at the end.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

func (s *stickyWriter) printf(format string, args ...any) {
	fmt.Fprintf(s, format, args...)
}

// Tool names the program that wrote a report: HAR's creator, SARIF's
// driver.
type Tool struct {
	Name    string
	Version string
	// InformationURI is a page about the tool (SARIF only).
	InformationURI string
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// millis is a duration as milliseconds to the microsecond, the unit HAR
// uses and the event log follows.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
