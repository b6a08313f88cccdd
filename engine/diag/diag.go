// Package diag holds the diagnostics that every stage reports: a position in
// a file, a severity, a stable rule id and a message.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a diagnostic stops the document from running.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText makes the severity a plain string in JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one finding, printed as `file:line:col: severity: message [rule]`.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	// Cause is the error behind the finding, when there is one (a source
	// that cannot be loaded), for errors.Is and errors.As.
	Cause error `json:"-"`
	// Scoped says the finding affects only the workflows named in
	// Workflows (none at all when that is empty), not the whole document.
	Scoped    bool     `json:"-"`
	Workflows []string `json:"-"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Line, d.Column)
	}
	fmt.Fprintf(&b, ": %s: %s [%s]", d.Severity, d.Message, d.Rule)
	return b.String()
}

// List collects diagnostics.
type List []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (l List) Errors() List {
	var out List
	for _, d := range l {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// Within lowers to warnings the scoped errors that affect none of the
// workflows runs executes: what a run leaves alone does not stop it.
func (l List) Within(runs func(workflowID string) bool) List {
	out := make(List, 0, len(l))
	for _, d := range l {
		if d.Severity == Error && d.Scoped && !affects(d.Workflows, runs) {
			d.Severity = Warning
			d.Message += " (not used by the workflows this run executes)"
		}
		out = append(out, d)
	}
	return out
}

func affects(ids []string, runs func(string) bool) bool {
	for _, id := range ids {
		if runs(id) {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file, line, column, then rule, so output is
// stable whatever order the checks ran in.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule < b.Rule
	})
}

// Error makes a list usable as an error value: the first errors, one a line.
func (l List) Error() string {
	var lines []string
	for _, d := range l.Errors() {
		lines = append(lines, d.String())
		if len(lines) == 10 {
			lines = append(lines, fmt.Sprintf("... and %d more", len(l.Errors())-10))
			break
		}
	}
	return strings.Join(lines, "\n")
}
