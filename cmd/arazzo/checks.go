package main

// The contract checks of `arazzo run`: --check sets each check's severity,
// --sarif writes what they found as SARIF at the steps that found it.

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/report"
)

type checkFlags struct {
	spec  []string
	sarif string
	// file is --sarif, created before anything is sent (openSinks) so that
	// an unwritable path stops the command first.
	file *os.File
}

func (c *checkFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&c.spec, "check", nil, "contract checks as CHECK=SEVERITY,... (checks: all, request, status, content-type, schema; severities: error, warn, off; default all=warn)")
	f.StringVar(&c.sarif, "sarif", "", "write the contract violations to this SARIF 2.1.0 file, at the steps that met them")
}

// parse turns --check into the engine's checks, every one warn by default
// so that no workflow that passed before starts failing.
func (c *checkFlags) parse() (engine.Checks, error) {
	checks, _ := engine.ParseChecks(nil, "all=warn")
	for _, s := range c.spec {
		var err error
		if checks, err = engine.ParseChecks(checks, s); err != nil {
			return nil, fmt.Errorf("--check %v", err)
		}
	}
	return checks, nil
}

// writeSARIF writes --sarif: each violation a result at the step's
// operation in its document. records and jobs are in the same order.
func (c *checkFlags) writeSARIF(jobs []job, records []report.RunRecord) error {
	if c.sarif == "" {
		return nil
	}
	var diags diag.List
	for i, rec := range records {
		if rec.Result == nil || i >= len(jobs) {
			continue
		}
		diags = append(diags, violationDiagnostics(jobs[i].file, jobs[i].plan, rec.Result)...)
	}
	f := c.file
	if f == nil {
		var err error
		if f, err = os.Create(c.sarif); err != nil {
			return fmt.Errorf("--sarif: %v", err)
		}
	}
	c.file = nil
	err := report.WriteSARIF(f, diags, tool())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--sarif: %v", err)
	}
	return nil
}

// violationDiagnostics places a run's violations at the steps that met
// them: rule check-<check>, level from the check's severity.
func violationDiagnostics(file string, plan *engine.Plan, res *engine.Result) diag.List {
	var out diag.List
	for _, sr := range res.Steps {
		var line, col int
		if w := plan.Workflow(sr.WorkflowID); w != nil {
			if s := w.Step(sr.StepID); s != nil {
				pos := s.Doc.Pos
				for _, f := range []string{"operationId", "operationPath"} {
					if s.Doc.Has(f) {
						pos = s.Doc.At(f)
					}
				}
				line, col = pos.Line, pos.Col
			}
		}
		for _, v := range sr.Checks {
			sev := diag.Warning
			if v.Severity == engine.CheckError {
				sev = diag.Error
			}
			out = append(out, diag.Diagnostic{File: file, Line: line, Column: col, Severity: sev, Rule: "check-" + string(v.Check),
				Message: fmt.Sprintf("step %s (attempt %d): %s", sr.StepID, v.Attempt, v)})
		}
	}
	return out
}
