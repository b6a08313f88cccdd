package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/engine"
)

// RunRecord is one workflow run, for the reports over several runs
// (WriteJUnit, WriteSummary).
type RunRecord struct {
	File     string         // the document the workflow is in
	Result   *engine.Result // nil when nothing ran
	Err      error          // why nothing ran (invalid inputs), when Result is nil
	Started  time.Time
	Duration time.Duration
}

// JUnit XML, the test report format CI systems read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
	took      time.Duration
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes runs as JUnit XML: a test suite per document, a test
// case per workflow run. A failed run's failure names the step, attempt,
// status and body excerpt; each case's system-out lists its steps.
func WriteJUnit(w io.Writer, runs []RunRecord) error {
	var suites []*junitSuite
	byFile := map[string]*junitSuite{}
	total := junitSuites{}
	var all time.Duration
	for _, rec := range runs {
		s := byFile[rec.File]
		if s == nil {
			s = &junitSuite{Name: rec.File, Timestamp: rec.Started.UTC().Format(time.RFC3339)}
			byFile[rec.File] = s
			suites = append(suites, s)
		}
		c := junitTestCase(rec)
		s.Cases = append(s.Cases, c)
		s.Tests++
		total.Tests++
		if c.Failure != nil {
			s.Failures++
			total.Failures++
		}
		s.took += rec.Duration
		all += rec.Duration
	}
	for _, s := range suites {
		s.Time = seconds(s.took)
		total.Suites = append(total.Suites, *s)
	}
	total.Time = seconds(all)
	sw := &stickyWriter{w: w}
	io.WriteString(sw, xml.Header)
	enc := xml.NewEncoder(sw)
	enc.Indent("", "  ")
	if err := enc.Encode(total); err != nil {
		return err
	}
	io.WriteString(sw, "\n")
	return sw.err
}

func junitTestCase(rec RunRecord) junitCase {
	c := junitCase{Classname: rec.File, Time: seconds(rec.Duration)}
	if rec.Result == nil {
		msg := "not run"
		if rec.Err != nil {
			msg = rec.Err.Error()
		}
		c.Name = "(not run)"
		c.Failure = &junitFailure{Message: msg, Type: "invalid-inputs", Text: msg}
		return c
	}
	c.Name = rec.Result.WorkflowID
	if c.Name == "" {
		c.Name = "(unknown)"
	}
	var steps []string
	for _, st := range rec.Result.Steps {
		steps = append(steps, fmt.Sprintf("%s/%s: %s, %d run(s), last status %d", st.WorkflowID, st.StepID, st.Outcome, st.Runs, st.StatusCode))
		// Contract violations: a warning is told here; an error also
		// failed the step, so the failure below carries it.
		for _, v := range st.Checks {
			steps = append(steps, fmt.Sprintf("  %s (attempt %d): %s", v.Severity, v.Attempt, v))
		}
	}
	c.SystemOut = strings.Join(steps, "\n")
	if e := rec.Result.Error; e != nil {
		c.Failure = &junitFailure{Message: e.Error(), Type: "step " + e.StepID,
			Text: fmt.Sprintf("step: %s\nattempt: %d\nstatus: %d\nmessage: %s\nbody: %s", e.StepID, e.Attempt, e.StatusCode, e.Message, e.BodyExcerpt)}
	}
	return c
}

// seconds is JUnit's time: seconds with three decimals.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
