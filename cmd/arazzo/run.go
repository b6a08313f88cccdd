package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

type runFlags struct {
	workflow     string
	inputs       []string
	inputsFile   string
	servers      []string
	pollInterval string
	maxSteps     int
	timeout      time.Duration
	output       string
	allowRemote  bool
	aws          awsFlags
}

func newRunCmd() *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a workflow of an Arazzo document",
		Long: `run executes one workflow of an Arazzo document against the APIs its sources
describe, and prints what each step did and the workflow's outputs.

Exit status: 0 the workflow succeeded; 1 it failed (a step failed, the loop
guard or the timeout stopped it); 2 the document, the inputs or the command
line are invalid (nothing was sent); 130 interrupted.`,
		Example: `  arazzo run workflows/pets.arazzo.yaml --input petId=42
  arazzo run flow.yaml --workflow login --inputs inputs.json --output json
  arazzo run flow.yaml --server petstore=http://localhost:8080 --poll-interval 2s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorkflow(cmd, args[0], &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.workflow, "workflow", "", "workflowId to run (optional when the document has one workflow)")
	f.StringArrayVar(&fl.inputs, "input", nil, "an input as NAME=VALUE, converted to the input's schema type (repeatable)")
	f.StringVar(&fl.inputsFile, "inputs", "", "a JSON file of inputs (- for stdin); --input wins over it")
	f.StringArrayVar(&fl.servers, "server", nil, "base URL for a source as SOURCE=URL (repeatable)")
	f.StringVar(&fl.pollInterval, "poll-interval", "", "wait before a goto re-enters a step: a Go duration or seconds (default 5s)")
	f.IntVar(&fl.maxSteps, "max-steps", engine.DefaultMaxSteps, "stop after this many step executions")
	f.DurationVar(&fl.timeout, "timeout", 0, "stop the run after this long (0: no limit)")
	f.StringVar(&fl.output, "output", "text", "output format: text or json")
	f.BoolVar(&fl.allowRemote, "allow-remote", false, "load http(s) source descriptions")
	f.StringVar(&fl.aws.region, "region", "", "AWS region for signed sources (default: AWS_REGION, the profile, or the description's default)")
	f.StringVar(&fl.aws.profile, "profile", "", "AWS shared-config profile for credentials (default: AWS_PROFILE or default)")
	f.IntVar(&fl.aws.maxAttempts, "aws-max-attempts", 3, "attempts for throttled or transient AWS errors, with the SDK's standard backoff (1: no retries)")
	f.StringVar(&fl.aws.emulate, "emulate", "", "send AWS calls to a built-in emulator instead (healthlake); no AWS account needed")
	return cmd
}

func runWorkflow(cmd *cobra.Command, file string, fl *runFlags) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if fl.output != "text" && fl.output != "json" {
		return withCode(exitUsage, fmt.Errorf("unknown --output %q (text or json)", fl.output))
	}
	opts := &engine.Options{MaxSteps: fl.maxSteps, Timeout: fl.timeout, Servers: map[string]string{}}
	if fl.pollInterval != "" {
		d, err := parseDuration(fl.pollInterval)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--poll-interval: %v", err))
		}
		opts.PollInterval = d
		if d == 0 {
			opts.PollInterval = -1 // explicit zero: no wait
		}
	}
	for _, s := range fl.servers {
		name, u, ok := strings.Cut(s, "=")
		if !ok || name == "" || u == "" {
			return withCode(exitUsage, fmt.Errorf("--server %q: want SOURCE=URL", s))
		}
		opts.Servers[name] = u
	}
	plan, diags := engine.LoadFile(ctx, file, &source.Loader{AllowRemote: fl.allowRemote})
	if plan == nil {
		for _, d := range diags.Errors() {
			fmt.Fprintln(stderr, d.String())
		}
		return withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document; nothing was run", file))
	}
	for name := range opts.Servers {
		if plan.Source(name) == nil {
			return withCode(exitUsage, fmt.Errorf("--server names source %q, which %s does not declare", name, file))
		}
	}
	wf, err := pickWorkflow(plan, fl.workflow)
	if err != nil {
		return withCode(exitUsage, err)
	}
	inputs, err := readInputs(cmd.InOrStdin(), fl, wf)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if fl.aws.emulate != "" && fl.pollInterval == "" {
		opts.PollInterval = time.Second // the emulator's jobs move on every poll
	}
	stopAWS, err := configureAWS(ctx, plan, opts, &fl.aws, func(msg string) { fmt.Fprintln(stderr, msg) })
	defer stopAWS()
	if err != nil {
		return withCode(exitUsage, err)
	}
	if fl.output == "text" {
		opts.Observers = append(opts.Observers, &textLog{w: stdout})
	}
	res, err := plan.Run(ctx, wf.ID, inputs, opts)
	if res == nil {
		return withCode(exitUsage, err)
	}
	if fl.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printResult(stdout, res)
	}
	if res.Status == engine.Succeeded {
		return nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return withCode(exitInterrupted, nil)
	}
	if fl.output == "json" {
		return withCode(exitFailed, nil)
	}
	return withCode(exitFailed, errors.New(res.Error.Error()))
}

// parseDuration accepts a Go duration ("2s", "500ms") or plain seconds ("1.5").
func parseDuration(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (for example 2s, 500ms or 1.5)", s)
	}
	return d, nil
}

func pickWorkflow(plan *engine.Plan, id string) (*engine.Workflow, error) {
	var ids []string
	for _, w := range plan.Workflows {
		ids = append(ids, w.ID)
	}
	if id == "" {
		if len(plan.Workflows) == 1 {
			return plan.Workflows[0], nil
		}
		return nil, fmt.Errorf("the document has %d workflows; choose one with --workflow (%s)", len(ids), strings.Join(ids, ", "))
	}
	if w := plan.Workflow(id); w != nil {
		return w, nil
	}
	return nil, fmt.Errorf("no workflow %q; the document has: %s", id, strings.Join(ids, ", "))
}

// readInputs merges --inputs FILE and --input NAME=VALUE (which wins).
func readInputs(stdin io.Reader, fl *runFlags, wf *engine.Workflow) (map[string]any, error) {
	inputs := map[string]any{}
	if fl.inputsFile != "" {
		var r io.Reader = stdin
		if fl.inputsFile != "-" {
			f, err := os.Open(fl.inputsFile)
			if err != nil {
				return nil, fmt.Errorf("--inputs: %v", err)
			}
			defer f.Close()
			r = f
		}
		d := json.NewDecoder(r)
		d.UseNumber()
		if err := d.Decode(&inputs); err != nil {
			return nil, fmt.Errorf("--inputs %s: not a JSON object: %v", fl.inputsFile, err)
		}
	}
	var props map[string]any
	if wf.Inputs != nil {
		props, _ = wf.Inputs.Properties()
	}
	for _, kv := range fl.inputs {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--input %q: want NAME=VALUE", kv)
		}
		v, err := convertInput(raw, props[name])
		if err != nil {
			return nil, fmt.Errorf("--input %s: %v", name, err)
		}
		inputs[name] = v
	}
	return inputs, nil
}

// convertInput reads a command-line value as the input's declared type.
func convertInput(raw string, prop any) (any, error) {
	p, _ := prop.(map[string]any)
	typ, _ := p["type"].(string)
	switch typ {
	case "integer", "number":
		n := json.Number(strings.TrimSpace(raw))
		if _, err := n.Float64(); err != nil || !json.Valid([]byte(n)) {
			return nil, fmt.Errorf("%q is not a %s", raw, typ)
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean (true or false)", raw)
		}
		return b, nil
	case "object", "array", "null":
		d := json.NewDecoder(strings.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("%q is not JSON (the input is of type %s)", raw, typ)
		}
		return v, nil
	}
	return raw, nil
}

// textLog prints one line per interesting event: the plain log used when
// output is not a terminal.
type textLog struct{ w io.Writer }

func (l *textLog) OnEvent(e engine.Event) {
	switch e.Kind {
	case engine.WorkflowStarted:
		fmt.Fprintf(l.w, "workflow %s started\n", e.WorkflowID)
	case engine.RequestSent:
		fmt.Fprintf(l.w, "  %s → %s %s\n", stepLabel(e), e.Request.Method, e.Request.URL)
	case engine.ResponseReceived:
		fmt.Fprintf(l.w, "  %s ← %d (%s)\n", stepLabel(e), e.Response.StatusCode, e.Duration.Round(time.Millisecond))
	case engine.StepFinished:
		if e.Status == engine.Failed {
			fmt.Fprintf(l.w, "  %s failed: %s\n", stepLabel(e), e.Err)
		}
	case engine.ActionTaken:
		switch e.ActionType {
		case "goto-step", "goto-workflow", "retry", "end":
			fmt.Fprintf(l.w, "  %s → %s %s%s\n", stepLabel(e), e.ActionType, e.Target, named(e.Action))
		}
	case engine.Waiting:
		fmt.Fprintf(l.w, "  waiting %s before %s (%s)\n", e.Wait, e.StepID, e.Message)
	case engine.Notice:
		fmt.Fprintf(l.w, "  %s note: %s\n", stepLabel(e), e.Message)
	case engine.CallerRetry:
		fmt.Fprintf(l.w, "  %s %s\n", stepLabel(e), e.Message)
	case engine.WorkflowFinished:
		fmt.Fprintf(l.w, "workflow %s %s\n", e.WorkflowID, e.Status)
	}
}

func stepLabel(e engine.Event) string {
	s := e.StepID
	if e.Visit > 1 {
		s += fmt.Sprintf(" #%d", e.Visit)
	}
	if e.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d)", e.Attempt)
	}
	return s
}

func named(a string) string {
	if a == "" {
		return ""
	}
	return " [" + a + "]"
}

func printResult(w io.Writer, res *engine.Result) {
	fmt.Fprintf(w, "\n%s: %s\n", res.WorkflowID, res.Status)
	for _, s := range res.Steps {
		fmt.Fprintf(w, "  %-24s runs=%-4d status=%-4s %s\n", s.WorkflowID+"/"+s.StepID, s.Runs, strconv.Itoa(s.StatusCode), s.Outcome)
	}
	if len(res.Outputs) > 0 {
		fmt.Fprintln(w, "outputs:")
		names := make([]string, 0, len(res.Outputs))
		for k := range res.Outputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			b, _ := json.Marshal(res.Outputs[k])
			fmt.Fprintf(w, "  %s: %s\n", k, b)
		}
	}
}
