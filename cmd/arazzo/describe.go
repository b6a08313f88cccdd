package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

// loadPlan loads a document for the read-only commands; diagnostics that
// are errors make it a usage error (exit 2).
func loadPlan(cmd *cobra.Command, h host, file string, allowRemote bool) (*engine.Plan, error) {
	plan, diags := engine.LoadFile(cmd.Context(), h.path(file), &source.Loader{AllowRemote: allowRemote}, h.compileOptions()...)
	diags = withFlagHints(diags)
	if plan == nil {
		for _, d := range diags.Errors() {
			fmt.Fprintln(cmd.ErrOrStderr(), d.String())
		}
		return nil, withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document (run arazzo validate %s)", file, file))
	}
	return plan, nil
}

type inputInfo struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Required    bool   `json:"required"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
}

type stepInfo struct {
	StepID    string `json:"stepId"`
	Operation string `json:"operation,omitempty"`
	Method    string `json:"method,omitempty"`
	Path      string `json:"path,omitempty"`
	Workflow  string `json:"workflow,omitempty"`
	// 1.1: an AsyncAPI step's action, the step's dependencies and timeout.
	Message   string   `json:"message,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
	TimeoutMS int64    `json:"timeoutMs,omitempty"`
}

type workflowInfo struct {
	WorkflowID string      `json:"workflowId"`
	Summary    string      `json:"summary,omitempty"`
	DependsOn  []string    `json:"dependsOn,omitempty"`
	Inputs     []inputInfo `json:"inputs"`
	Steps      []stepInfo  `json:"steps"`
	Outputs    []string    `json:"outputs"`
}

func describeWorkflow(w *engine.Workflow) workflowInfo {
	info := workflowInfo{WorkflowID: w.ID, Summary: w.Doc.Summary, Inputs: []inputInfo{}, Outputs: []string{}}
	for _, d := range w.DependsOn {
		info.DependsOn = append(info.DependsOn, d.ID)
	}
	if w.Inputs != nil {
		props, req := w.Inputs.Properties()
		required := map[string]bool{}
		for _, r := range req {
			required[r] = true
		}
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if required[names[i]] != required[names[j]] {
				return required[names[i]]
			}
			return names[i] < names[j]
		})
		for _, n := range names {
			p, _ := props[n].(map[string]any)
			in := inputInfo{Name: n, Required: required[n], Default: p["default"]}
			in.Type, _ = p["type"].(string)
			in.Description, _ = p["description"].(string)
			in.Description = strings.TrimSpace(in.Description)
			in.Secret = w.SecretInput(n)
			info.Inputs = append(info.Inputs, in)
		}
	}
	for _, s := range w.Order() {
		si := stepInfo{StepID: s.ID, DependsOn: s.AfterText, TimeoutMS: s.Timeout.Milliseconds()}
		switch {
		case s.Operation != nil:
			si.Operation, si.Method, si.Path = s.Operation.ID, s.Operation.Method, s.Operation.Path
		case s.Callee != nil:
			si.Workflow = s.Callee.ID
		case s.Kind == engine.MessageStep:
			si.Message = s.Doc.Action + " " + s.Doc.OperationID + s.Doc.ChannelPath + s.Doc.OperationPath
			if t := s.Message; t != nil && t.Channel != nil {
				addr := t.Channel.Address
				if addr == "" {
					addr = t.Channel.ID
				}
				si.Message = t.Action + " " + addr
				if srv := s.Source.AsyncServer(); srv != nil {
					si.Message += " (" + srv.Protocol + ")"
				}
			}
			if len(s.Unsupported) > 0 {
				si.Message += " (not supported by run)"
			}
		}
		info.Steps = append(info.Steps, si)
	}
	for _, o := range w.Outputs {
		info.Outputs = append(info.Outputs, o.Name)
	}
	return info
}

func newDescribeCmd(h host) *cobra.Command {
	var workflow, output string
	var auth bool
	cmd := &cobra.Command{
		Use:   "describe FILE",
		Short: "List a document's workflows, their inputs, steps and outputs",
		Example: `  arazzo describe workflows/amazon-healthlake-export.arazzo.yaml
  arazzo describe flow.yaml --workflow login --output json
  arazzo describe flow.yaml --auth      # each security scheme's --auth flag and variables`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return withCode(exitUsage, fmt.Errorf("unknown --output %q (text or json)", output))
			}
			plan, err := loadPlan(cmd, h, args[0], false)
			if err != nil {
				return err
			}
			if auth {
				return printAuth(cmd.OutOrStdout(), describeAuth(plan), output == "json")
			}
			var infos []workflowInfo
			for _, w := range plan.Workflows {
				if workflow == "" || w.ID == workflow {
					infos = append(infos, describeWorkflow(w))
				}
			}
			if len(infos) == 0 {
				_, err := pickWorkflow(plan, workflow)
				return withCode(exitUsage, err)
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			for i, w := range infos {
				if i > 0 {
					fmt.Fprintln(out)
				}
				printWorkflowInfo(out, w)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&workflow, "workflow", "", "only this workflow")
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	cmd.Flags().BoolVar(&auth, "auth", false, "list each source's security schemes with the --auth flag and environment variables that give their credentials")
	return cmd
}

func printWorkflowInfo(out io.Writer, w workflowInfo) {
	fmt.Fprintf(out, "workflow %s\n", w.WorkflowID)
	if w.Summary != "" {
		fmt.Fprintf(out, "  %s\n", w.Summary)
	}
	if len(w.DependsOn) > 0 {
		fmt.Fprintf(out, "  depends on: %s\n", strings.Join(w.DependsOn, ", "))
	}
	fmt.Fprintln(out, "  inputs:")
	if len(w.Inputs) == 0 {
		fmt.Fprintln(out, "    (none)")
	}
	for _, in := range w.Inputs {
		flags := []string{orDash(in.Type)}
		if in.Required {
			flags = append(flags, "required")
		}
		if in.Default != nil {
			b, _ := json.Marshal(in.Default)
			flags = append(flags, "default "+string(b))
		}
		if in.Secret {
			flags = append(flags, "secret")
		}
		fmt.Fprintf(out, "    %-20s %-28s %s\n", in.Name, strings.Join(flags, ", "), firstLine(in.Description))
	}
	fmt.Fprintln(out, "  steps:")
	for i, s := range w.Steps {
		target := "calls workflow " + s.Workflow
		switch {
		case s.Message != "":
			target = "AsyncAPI " + s.Message
		case s.Workflow == "":
			target = fmt.Sprintf("%s %s (%s)", s.Method, s.Path, s.Operation)
		}
		if len(s.DependsOn) > 0 {
			target += ", after " + strings.Join(s.DependsOn, ", ")
		}
		if s.TimeoutMS > 0 {
			target += fmt.Sprintf(", timeout %dms", s.TimeoutMS)
		}
		fmt.Fprintf(out, "    %d. %-24s %s\n", i+1, s.StepID, target)
	}
	fmt.Fprintf(out, "  outputs: %s\n", orDash(strings.Join(w.Outputs, ", ")))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
