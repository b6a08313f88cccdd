package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
)

// githubAnnotations prints diagnostics as GitHub Actions workflow commands,
// which the Actions UI shows as annotations on the file and line.
func githubAnnotations(out io.Writer, diags diag.List) {
	esc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	for _, d := range diags {
		level := "error"
		if d.Severity == diag.Warning {
			level = "warning"
		}
		fmt.Fprintf(out, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", level, prop.Replace(filepath.ToSlash(d.File)), d.Line, d.Column, prop.Replace("arazzo "+d.Rule), esc.Replace(d.Message))
	}
}

// SARIF 2.1.0, the format code-scanning tools upload.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

func writeSARIF(out io.Writer, diags diag.List) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "arazzo", Version: versionString(), InformationURI: "https://github.com/arazzo-go/arazzo"}}, Results: []sarifResult{}}
	rules := map[string]bool{}
	for _, d := range diags {
		if !rules[d.Rule] {
			rules[d.Rule] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: d.Rule, ShortDescription: sarifMessage{Text: "Arazzo rule " + d.Rule}})
		}
		level := "error"
		if d.Severity == diag.Warning {
			level = "warning"
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(d.File)}}}
		if d.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: max(d.Column, 1)}
		}
		run.Results = append(run.Results, sarifResult{RuleID: d.Rule, Level: level, Message: sarifMessage{Text: d.Message}, Locations: []sarifLocation{loc}})
	}
	sort.Slice(run.Tool.Driver.Rules, func(i, j int) bool { return run.Tool.Driver.Rules[i].ID < run.Tool.Driver.Rules[j].ID })
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// JUnit XML: one test case per workflow run.
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

// runRecord is one finished workflow run, for reports.
type runRecord struct {
	File     string
	Result   *engine.Result
	Err      error // set when nothing ran (invalid inputs)
	Duration time.Duration
	Started  time.Time
}

func writeJUnit(out io.Writer, records []runRecord) error {
	byFile := map[string]*junitSuite{}
	var order []string
	total := junitSuites{}
	var all time.Duration
	for _, rec := range records {
		s := byFile[rec.File]
		if s == nil {
			s = &junitSuite{Name: rec.File, Timestamp: rec.Started.UTC().Format(time.RFC3339)}
			byFile[rec.File] = s
			order = append(order, rec.File)
		}
		c := junitCase{Classname: rec.File, Time: seconds(rec.Duration)}
		switch {
		case rec.Result == nil:
			c.Name = "(not run)"
			c.Failure = &junitFailure{Message: rec.Err.Error(), Type: "invalid-inputs", Text: rec.Err.Error()}
		default:
			c.Name = rec.Result.WorkflowID
			var steps []string
			for _, st := range rec.Result.Steps {
				steps = append(steps, fmt.Sprintf("%s/%s: %s, %d run(s), last status %d", st.WorkflowID, st.StepID, st.Outcome, st.Runs, st.StatusCode))
			}
			c.SystemOut = strings.Join(steps, "\n")
			if e := rec.Result.Error; e != nil {
				c.Failure = &junitFailure{Message: e.Error(), Type: "step " + e.StepID, Text: fmt.Sprintf("step: %s\nattempt: %d\nstatus: %d\nmessage: %s\nbody: %s", e.StepID, e.Attempt, e.StatusCode, e.Message, e.BodyExcerpt)}
			}
		}
		if c.Name == "" {
			c.Name = "(unknown)"
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		total.Tests++
		if c.Failure != nil {
			s.Failures++
			total.Failures++
		}
		all += rec.Duration
	}
	for _, f := range order {
		s := byFile[f]
		var d time.Duration
		for _, rec := range records {
			if rec.File == f {
				d += rec.Duration
			}
		}
		s.Time = seconds(d)
		total.Suites = append(total.Suites, *s)
	}
	total.Time = seconds(all)
	if _, err := io.WriteString(out, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(out)
	enc.Indent("", "  ")
	if err := enc.Encode(total); err != nil {
		return err
	}
	_, err := io.WriteString(out, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
