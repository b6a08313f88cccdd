package main

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

func newInputsCmd(h host) *cobra.Command {
	var workflow string
	var all, allowRemote bool
	cmd := &cobra.Command{
		Use:   "inputs FILE",
		Short: "Print a JSON skeleton of a workflow's inputs, ready for run --inputs",
		Long: `inputs prints a JSON object with one member per input of the workflow, filled
from the schema: its example, else its default, else the first enum value, else
an empty value of its type ("" 0 false [] {}, objects with their own members).
Edit it and pass it to arazzo run --inputs.

With --all, the object is keyed by workflowId, one skeleton per workflow: the
form run --inputs accepts to give the workflows a run enters by dependsOn, goto
or retry their own inputs.`,
		Example: `  arazzo inputs flow.arazzo.yaml --workflow login > in.json
  arazzo run flow.arazzo.yaml --workflow login --inputs in.json
  arazzo inputs --all flow.arazzo.yaml > all.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			// A broken workflow elsewhere in the document does not hide the
			// inputs of this one.
			plan, diags := engine.LoadFile(cmd.Context(), h.path(file), &source.Loader{AllowRemote: allowRemote},
				append(h.compileOptions(), engine.PartialPlans())...)
			if plan == nil {
				for _, d := range withFlagHints(diags).Errors() {
					fmt.Fprintln(cmd.ErrOrStderr(), d.String())
				}
				return withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document (run arazzo validate %s)", file, file))
			}
			var out any
			if all {
				if workflow != "" {
					return withCode(exitUsage, fmt.Errorf("--all and --workflow exclude each other"))
				}
				m := map[string]any{}
				for _, w := range plan.Workflows {
					m[w.ID] = skeleton(w)
				}
				out = m
			} else {
				w, err := pickWorkflow(plan, workflow)
				if err != nil {
					return withCode(exitUsage, err)
				}
				out = skeleton(w)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&workflow, "workflow", "", "workflowId (optional when the document has one workflow)")
	cmd.Flags().BoolVar(&all, "all", false, "every workflow, keyed by workflowId")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "load http(s) source descriptions")
	return cmd
}

// skeleton is a value for each declared input of w.
func skeleton(w *engine.Workflow) map[string]any {
	out := map[string]any{}
	if w.Inputs == nil {
		return out
	}
	props, _ := w.Inputs.Properties()
	for name, p := range props {
		out[name] = sample(p, 0)
	}
	return out
}

// sample is a value a person can start from for a schema.
func sample(schema any, depth int) any {
	s, _ := schema.(map[string]any)
	if s == nil {
		return nil
	}
	if v, ok := s["example"]; ok {
		return v
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if v, ok := s["default"]; ok {
		return v
	}
	if v, ok := s["const"]; ok {
		return v
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := s["type"].(string)
	if ts, ok := s["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	switch typ {
	case "string":
		return ""
	case "integer", "number":
		return 0
	case "boolean":
		return false
	case "array":
		return []any{}
	case "null":
		return nil
	}
	props, _ := s["properties"].(map[string]any)
	if typ == "object" || props != nil {
		m := map[string]any{}
		if depth < 8 {
			names := make([]string, 0, len(props))
			for n := range props {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				m[n] = sample(props[n], depth+1)
			}
		}
		return m
	}
	return ""
}
