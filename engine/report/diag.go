package report

import (
	"encoding/json"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/arazzo-go/arazzo/engine/diag"
)

// WriteGitHubAnnotations writes diagnostics as GitHub Actions workflow
// commands, which the Actions UI shows as annotations on the file and
// line.
func WriteGitHubAnnotations(w io.Writer, diags diag.List) error {
	// Messages and properties have their own escapes in the workflow
	// command syntax; a raw newline would end the command.
	msg := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	sw := &stickyWriter{w: w}
	for _, d := range diags {
		sw.printf("::%s file=%s,line=%d,col=%d,title=%s::%s\n", d.Severity, prop.Replace(filepath.ToSlash(d.File)), d.Line, d.Column, prop.Replace("arazzo "+d.Rule), msg.Replace(d.Message))
	}
	return sw.err
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
	InformationURI string      `json:"informationUri,omitempty"`
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

// WriteSARIF writes diagnostics as one SARIF 2.1.0 run of tool, with a
// rule for each rule id that occurs. Paths become forward-slash URIs
// relative as given, which code-scanning services resolve against the
// repository.
func WriteSARIF(w io.Writer, diags diag.List, tool Tool) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI}}, Results: []sarifResult{}}
	rules := map[string]bool{}
	for _, d := range diags {
		if !rules[d.Rule] {
			rules[d.Rule] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: d.Rule, ShortDescription: sarifMessage{Text: "Arazzo rule " + d.Rule}})
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(d.File)}}}
		if d.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: max(d.Column, 1)}
		}
		run.Results = append(run.Results, sarifResult{RuleID: d.Rule, Level: d.Severity.String(), Message: sarifMessage{Text: d.Message}, Locations: []sarifLocation{loc}})
	}
	sort.Slice(run.Tool.Driver.Rules, func(i, j int) bool { return run.Tool.Driver.Rules[i].ID < run.Tool.Driver.Rules[j].ID })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
