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

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
)

type runFlags struct {
	workflow     string
	all          bool
	inputs       []string
	inputsFile   string
	servers      []string
	serverVars   []string
	pollInterval string
	maxSteps     int
	timeout      time.Duration
	output       string
	allowRemote  bool
	allowPrivate bool
	sourceRoot   string
	quiet        bool
	verbose      bool
	trace        string
	junit        string
	dryRun       bool
	aws          awsFlags
}

func newRunCmd(h host) *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run a workflow of an Arazzo document (or every workflow with --all)",
		Long: `run executes one workflow of an Arazzo document against the APIs its sources
describe, and prints what each step did and the workflow's outputs. On a
terminal it shows live progress; in a pipe, one line per event.

Exit status: 0 the workflow succeeded; 1 it failed (a step failed, the loop
guard or the timeout stopped it; with --all, any failed); 2 the document, the
inputs or the command line are invalid (nothing was sent); 130 interrupted.`,
		Example: `  arazzo run workflows/amazon-healthlake-export.arazzo.yaml --emulate healthlake \
      --inputs examples/healthlake-export.inputs.json
  arazzo run flow.yaml --workflow login --input user=ann --output json
  arazzo run flow.yaml --server petstore=http://localhost:8080 --poll-interval 2s --trace run.har
  arazzo run --all workflows/*.yaml --inputs inputs-by-workflow.json --junit report.xml
  arazzo run flow.yaml --dry-run --input petId=42`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorkflows(cmd, h, args, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.workflow, "workflow", "", "workflowId to run (optional when the document has one workflow)")
	f.BoolVar(&fl.all, "all", false, "run every workflow of every FILE; --inputs then maps workflowId to its inputs")
	f.StringArrayVar(&fl.inputs, "input", nil, "an input as NAME=VALUE, converted to the input's schema type (repeatable)")
	f.StringVar(&fl.inputsFile, "inputs", "", "a JSON file of inputs (- for stdin); --input wins over it")
	f.StringArrayVar(&fl.servers, "server", nil, "base URL for a source as SOURCE=URL (repeatable)")
	f.StringArrayVar(&fl.serverVars, "server-var", nil, "an OpenAPI server variable as SOURCE.NAME=VALUE, or NAME=VALUE for every source (repeatable)")
	f.StringVar(&fl.pollInterval, "poll-interval", "", "wait before a goto re-enters a step: a Go duration or seconds (default 5s)")
	f.IntVar(&fl.maxSteps, "max-steps", engine.DefaultMaxSteps, "stop after this many step executions")
	f.DurationVar(&fl.timeout, "timeout", 0, "stop the run after this long (0: no limit)")
	f.StringVar(&fl.output, "output", "text", "output format: text or json")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "print only the result")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "print every request and response (headers, truncated bodies)")
	f.StringVar(&fl.trace, "trace", "", "write every exchange to this HAR 1.2 file as the run goes")
	f.StringVar(&fl.junit, "junit", "", "write a JUnit XML report to this file")
	f.BoolVar(&fl.dryRun, "dry-run", false, "check the inputs and print the first request of each step without sending anything")
	f.BoolVar(&fl.allowRemote, "allow-remote", false, "load http(s) source descriptions")
	f.BoolVar(&fl.allowPrivate, "allow-private", false, "with --allow-remote, allow sources on loopback, private and link-local addresses")
	f.StringVar(&fl.sourceRoot, "source-root", "", "only load local sources inside this directory (for documents you do not trust)")
	f.StringVar(&fl.aws.region, "region", "", "AWS region for signed sources (default: AWS_REGION, the profile, or the description's default)")
	f.StringVar(&fl.aws.profile, "profile", "", "AWS shared-config profile for credentials (default: AWS_PROFILE or default)")
	f.IntVar(&fl.aws.maxAttempts, "aws-max-attempts", 3, "attempts for throttled or transient AWS errors, with the SDK's standard backoff (1: no retries)")
	f.StringVar(&fl.aws.emulate, "emulate", "", "send AWS calls to a built-in emulator instead (healthlake); no AWS account needed")
	return cmd
}

// job is one workflow to run.
type job struct {
	file   string
	plan   *engine.Plan
	wf     *engine.Workflow
	inputs map[string]any
}

func runWorkflows(cmd *cobra.Command, h host, files []string, fl *runFlags) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if fl.output != "text" && fl.output != "json" {
		return withCode(exitUsage, fmt.Errorf("unknown --output %q (text or json)", fl.output))
	}
	if !fl.all && len(files) != 1 {
		return withCode(exitUsage, fmt.Errorf("run takes one FILE (or several with --all), got %d", len(files)))
	}
	if fl.all && (fl.workflow != "" || len(fl.inputs) > 0) {
		return withCode(exitUsage, errors.New("--all runs every workflow: give inputs per workflow with --inputs, not --workflow or --input"))
	}
	base := engine.Options{MaxSteps: fl.maxSteps, Timeout: fl.timeout, Servers: map[string]string{}}
	if fl.pollInterval != "" {
		d, err := parseDuration(fl.pollInterval)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--poll-interval: %v", err))
		}
		base.PollInterval = d
		if d == 0 {
			base.PollInterval = -1 // explicit zero: no wait
		}
	} else if fl.aws.emulate != "" {
		base.PollInterval = time.Second // the emulator's jobs move on every poll
	}
	for _, s := range fl.servers {
		name, u, ok := strings.Cut(s, "=")
		if !ok || name == "" || u == "" {
			return withCode(exitUsage, fmt.Errorf("--server %q: want SOURCE=URL", s))
		}
		base.Servers[name] = u
	}
	for _, sv := range fl.serverVars {
		key, val, ok := strings.Cut(sv, "=")
		src, name, qualified := strings.Cut(key, ".")
		if !qualified {
			src, name = "", key
		}
		if !ok || name == "" {
			return withCode(exitUsage, fmt.Errorf("--server-var %q: want SOURCE.NAME=VALUE or NAME=VALUE", sv))
		}
		if base.ServerVariables == nil {
			base.ServerVariables = map[string]map[string]string{}
		}
		if base.ServerVariables[src] == nil {
			base.ServerVariables[src] = map[string]string{}
		}
		base.ServerVariables[src][name] = val
	}
	fileInputs, err := readInputsFile(cmd.InOrStdin(), h.path(fl.inputsFile))
	if err != nil {
		return withCode(exitUsage, err)
	}

	// Load and check everything first: a bad document or bad inputs stop
	// the command before anything is sent.
	loader := &source.Loader{AllowRemote: fl.allowRemote, AllowPrivate: fl.allowPrivate, Root: h.path(fl.sourceRoot)}
	var jobs []job
	for _, file := range files {
		plan, diags := engine.LoadFile(ctx, h.path(file), loader)
		if plan == nil {
			for _, d := range diags.Errors() {
				fmt.Fprintln(stderr, d.String())
			}
			return withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document; nothing was run", file))
		}
		for name := range base.Servers {
			if plan.Source(name) == nil && !fl.all {
				return withCode(exitUsage, fmt.Errorf("--server names source %q, which %s does not declare", name, file))
			}
		}
		if fl.all {
			for _, w := range plan.Workflows {
				in, _ := fileInputs[w.ID].(map[string]any)
				jobs = append(jobs, job{file: file, plan: plan, wf: w, inputs: in})
			}
			continue
		}
		wf, err := pickWorkflow(plan, fl.workflow)
		if err != nil {
			return withCode(exitUsage, err)
		}
		in, err := mergeInputs(fileInputs, fl.inputs, wf)
		if err != nil {
			return withCode(exitUsage, err)
		}
		jobs = append(jobs, job{file: file, plan: plan, wf: wf, inputs: in})
	}

	// Signing is set up once per document.
	optsFor := map[*engine.Plan]*engine.Options{}
	for _, j := range jobs {
		if _, done := optsFor[j.plan]; done {
			continue
		}
		o := base
		o.Servers = map[string]string{}
		for k, v := range base.Servers {
			o.Servers[k] = v
		}
		note := func(msg string) {
			if !fl.quiet && fl.output == "text" {
				fmt.Fprintln(stderr, msg)
			}
		}
		stop, err := configureAWS(ctx, j.plan, &o, &fl.aws, h.getenv, note)
		defer stop()
		if err != nil {
			return withCode(exitUsage, err)
		}
		optsFor[j.plan] = &o
	}

	if fl.dryRun {
		return dryRun(cmd, jobs, optsFor, fl)
	}

	var har *harWriter
	if fl.trace != "" {
		f, err := os.Create(h.path(fl.trace))
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--trace: %v", err))
		}
		defer f.Close()
		if har, err = newHARWriter(f); err != nil {
			return withCode(exitUsage, fmt.Errorf("--trace: %v", err))
		}
	}
	tty := fl.output == "text" && !fl.quiet && !fl.verbose && isTerminal(stdout)
	var records []runRecord
	var results []*engine.Result
	for _, j := range jobs {
		opts := *optsFor[j.plan]
		opts.Observers = nil
		var prog *progress
		switch {
		case fl.output != "text" || fl.quiet:
		case tty:
			prog = newProgress(stdout, j.wf, time.Now)
			opts.Observers = append(opts.Observers, prog)
			prog.Start()
		default:
			opts.Observers = append(opts.Observers, &textLog{w: stdout, verbose: fl.verbose})
		}
		if har != nil {
			opts.Observers = append(opts.Observers, har)
		}
		start := time.Now()
		res, err := j.plan.Run(ctx, j.wf.ID, j.inputs, &opts)
		if prog != nil {
			prog.Stop()
		}
		records = append(records, runRecord{File: j.file, Result: res, Err: err, Duration: time.Since(start), Started: start})
		if res == nil {
			if !fl.all {
				if har != nil {
					har.Close()
				}
				return withCode(exitUsage, err)
			}
			fmt.Fprintf(stderr, "%s: %s: not run: %v\n", j.file, j.wf.ID, err)
			continue
		}
		results = append(results, res)
		if fl.output == "text" {
			printResult(stdout, res, prog == nil)
		}
	}
	if har != nil {
		if err := har.Close(); err != nil {
			return fmt.Errorf("--trace: %v", err)
		}
	}
	if fl.junit != "" {
		f, err := os.Create(h.path(fl.junit))
		if err != nil {
			return fmt.Errorf("--junit: %v", err)
		}
		err = writeJUnit(f, records)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--junit: %v", err)
		}
	}
	if fl.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		var v any = results
		if !fl.all {
			v = results[0]
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else if fl.all {
		printSummary(stdout, records)
	}
	failed := 0
	var firstErr error
	for _, rec := range records {
		if rec.Result == nil || rec.Result.Status != engine.Succeeded {
			failed++
			if firstErr == nil && rec.Result != nil && rec.Result.Error != nil {
				firstErr = errors.New(rec.Result.Error.Error())
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case errors.Is(ctx.Err(), context.Canceled):
		return withCode(exitInterrupted, nil)
	case fl.output == "json" || fl.all:
		return withCode(exitFailed, nil)
	}
	return withCode(exitFailed, firstErr)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func printSummary(w io.Writer, records []runRecord) {
	fmt.Fprintf(w, "\n%-40s %-32s %-10s %s\n", "FILE", "WORKFLOW", "STATUS", "TIME")
	for _, rec := range records {
		status, wf := "not run", "-"
		if rec.Result != nil {
			status, wf = rec.Result.Status, rec.Result.WorkflowID
		}
		fmt.Fprintf(w, "%-40s %-32s %-10s %s\n", rec.File, wf, status, rec.Duration.Round(time.Millisecond))
	}
}

func dryRun(cmd *cobra.Command, jobs []job, optsFor map[*engine.Plan]*engine.Options, fl *runFlags) error {
	out := cmd.OutOrStdout()
	var all []engine.DryRequest
	for _, j := range jobs {
		reqs, err := j.plan.DryRun(cmd.Context(), j.wf.ID, j.inputs, optsFor[j.plan])
		if err != nil {
			return withCode(exitUsage, err)
		}
		all = append(all, reqs...)
		if fl.output == "text" {
			fmt.Fprintf(out, "workflow %s (dry run: nothing is sent)\n", j.wf.ID)
			for _, r := range reqs {
				switch {
				case r.Error != "":
					fmt.Fprintf(out, "\n%s: cannot be built yet: %s\n", r.StepID, r.Error)
				case r.Calls != "":
					b, _ := json.Marshal(r.Inputs)
					fmt.Fprintf(out, "\n%s: calls workflow %s with inputs %s\n", r.StepID, r.Calls, b)
				default:
					fmt.Fprintf(out, "\n%s:\n  %s %s\n", r.StepID, r.Method, r.URL)
					for _, k := range sortedKeys(r.Header) {
						fmt.Fprintf(out, "  %s: %s\n", k, strings.Join(r.Header[k], ", "))
					}
					if r.Body != "" {
						fmt.Fprintf(out, "  %s\n", r.Body)
					}
					for _, n := range r.Notes {
						fmt.Fprintf(out, "  note: %s\n", n)
					}
				}
			}
		}
	}
	if fl.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(all)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// readInputsFile reads --inputs: a JSON object (from a file, or stdin for -).
func readInputsFile(stdin io.Reader, name string) (map[string]any, error) {
	inputs := map[string]any{}
	if name == "" {
		return inputs, nil
	}
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--inputs: %v", err)
		}
		defer f.Close()
		r = f
	}
	d := json.NewDecoder(r)
	d.UseNumber()
	if err := d.Decode(&inputs); err != nil {
		return nil, fmt.Errorf("--inputs %s: not a JSON object: %v", name, err)
	}
	return inputs, nil
}

// mergeInputs applies --input NAME=VALUE over the file's inputs.
func mergeInputs(fileInputs map[string]any, flags []string, wf *engine.Workflow) (map[string]any, error) {
	inputs := map[string]any{}
	for k, v := range fileInputs {
		inputs[k] = v
	}
	var props map[string]any
	if wf.Inputs != nil {
		props, _ = wf.Inputs.Properties()
	}
	for _, kv := range flags {
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
// output is not a terminal. With verbose it also prints each request and
// response: method, URL, status, headers and truncated bodies.
type textLog struct {
	w       io.Writer
	verbose bool
}

const verboseBody = 2048

func (l *textLog) OnEvent(e engine.Event) {
	switch e.Kind {
	case engine.WorkflowStarted:
		fmt.Fprintf(l.w, "workflow %s started\n", e.WorkflowID)
	case engine.RequestSent:
		fmt.Fprintf(l.w, "  %s → %s %s\n", stepLabel(e), e.Request.Method, e.Request.URL)
		if l.verbose {
			l.headers("    > ", e.Request.Header)
			l.body("    > ", e.Request.Body)
		}
	case engine.ResponseReceived:
		fmt.Fprintf(l.w, "  %s ← %d (%s)\n", stepLabel(e), e.Response.StatusCode, e.Duration.Round(time.Millisecond))
		if l.verbose {
			l.headers("    < ", e.Response.Header)
			l.body("    < ", e.Response.Body)
		}
	case engine.StepFinished:
		if e.Status == engine.Failed {
			fmt.Fprintf(l.w, "  %s failed: %s\n", stepLabel(e), e.Err)
		}
	case engine.ActionTaken:
		switch e.ActionType {
		case "goto-step", "goto-workflow", "retry", "end":
			fmt.Fprintf(l.w, "  %s → %s %s%s\n", stepLabel(e), e.ActionType, e.Target, named(e.Action))
		}
	case engine.CriterionEvaluated:
		if l.verbose {
			fmt.Fprintf(l.w, "    %s criterion %q: %v %s\n", e.Message, e.Criterion, e.Passed, e.Err)
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

func (l *textLog) headers(prefix string, h map[string][]string) {
	for _, k := range sortedKeys(h) {
		fmt.Fprintf(l.w, "%s%s: %s\n", prefix, k, strings.Join(h[k], ", "))
	}
}

func (l *textLog) body(prefix string, b []byte) {
	if len(b) == 0 {
		return
	}
	s := string(b)
	if len(s) > verboseBody {
		s = s[:verboseBody] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	fmt.Fprintf(l.w, "%s%s\n", prefix, strings.ReplaceAll(s, "\n", "\n"+prefix))
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

// printResult prints the status, each step (unless the live view already
// showed them) and the outputs.
func printResult(w io.Writer, res *engine.Result, steps bool) {
	fmt.Fprintf(w, "\n%s: %s\n", res.WorkflowID, res.Status)
	if res.Error != nil {
		fmt.Fprintf(w, "  error: %s\n", res.Error)
	}
	for _, s := range res.Steps {
		if !steps {
			break
		}
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
