package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/engine/lint"
	"github.com/arazzo-go/arazzo/engine/report"
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
	timeout      string
	reqTimeout   string
	output       string
	allowRemote  bool
	allowPrivate bool
	sourceRoot   string
	quiet        bool
	verbose      bool
	trace        string
	events       string
	junit        string
	dryRun       bool
	tty          bool // the live view draws the runs
	aws          awsFlags
	auth         authFlags
	checks       checkFlags
	state        string        // --state: record the run to resume it (durable.go)
	temporal     temporalFlags // --temporal-address: run on Temporal (temporal.go)
	resend       bool          // resume --resend
}

func newRunCmd(h host) *cobra.Command {
	fl := &runFlags{}
	cmd := runCmdWith(h, fl)
	fl.temporal.register(cmd.Flags(), true)
	return cmd
}

// runCmdWith binds run's flags to fl: `arazzo mcp` takes from it the flags
// that configure execution, so the two accept the same ones.
func runCmdWith(h host, fl *runFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run a workflow of an Arazzo document (or every workflow with --all)",
		Long: `run executes one workflow of an Arazzo document against the APIs its sources
describe, and prints what each step did and the workflow's outputs. On a
terminal it shows live progress; in a pipe, one line per event.

Exit status: 0 the workflow succeeded; 1 it failed (a step failed, the loop
guard or the timeout stopped it; with --all, any failed); 2 the document, the
inputs or the command line are invalid (nothing was sent); 130 interrupted.

With --temporal-address the run is submitted to Temporal and run by an
arazzo worker (credentials are the worker's); run follows it and prints it
as a local run, with the same exit status. Ctrl-C cancels the Temporal
workflow; --detach submits it, prints its id and exits at once.`,
		Example: `  arazzo run workflows/amazon-healthlake-export.arazzo.yaml --emulate healthlake \
      --inputs examples/healthlake-export.inputs.json
  arazzo run flow.yaml --workflow login --input user=ann --output json
  arazzo run flow.yaml --server petstore=http://localhost:8080 --poll-interval 2s --trace run.har
  arazzo run flow.yaml --input petId=42 --events - | jq -c 'select(.kind == "response.received")'
  arazzo run --all workflows/*.yaml --inputs inputs-by-workflow.json --junit report.xml
  arazzo run flow.yaml --dry-run --input petId=42
  arazzo run flow.yaml --input petId=42 --temporal-address localhost:7233 --task-queue arazzo`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorkflows(cmd, h, args, fl)
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
	f.StringVar(&fl.timeout, "timeout", "1h", "stop the run after this long: a Go duration or seconds (0: no limit)")
	f.StringVar(&fl.reqTimeout, "request-timeout", "60s", "give up on a request (its response body included) after this long: a Go duration or seconds")
	f.StringVar(&fl.output, "output", "text", "output format: text or json")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "print only the result")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "print every request and response (headers, truncated bodies)")
	f.StringVar(&fl.trace, "trace", "", "write every exchange to this HAR 1.2 file as the run goes")
	f.StringVar(&fl.events, "events", "", "write every event of the run as a JSON line to this file (- for stdout, which then carries only the events)")
	f.StringVar(&fl.junit, "junit", "", "write a JUnit XML report to this file")
	f.BoolVar(&fl.dryRun, "dry-run", false, "check the inputs and print the first request of each step without sending anything")
	f.BoolVar(&fl.allowRemote, "allow-remote", false, "load http(s) source descriptions")
	f.BoolVar(&fl.allowPrivate, "allow-private", false, "with --allow-remote, allow sources on loopback, private and link-local addresses")
	f.StringVar(&fl.sourceRoot, "source-root", "", "only load local sources inside this directory (for documents you do not trust)")
	f.StringVar(&fl.aws.region, "region", "", "AWS region for signed sources (default: AWS_REGION, the profile, or the description's default)")
	f.StringVar(&fl.aws.profile, "profile", "", "AWS shared-config profile for credentials (default: AWS_PROFILE or default)")
	f.IntVar(&fl.aws.maxAttempts, "aws-max-attempts", 3, "attempts for throttled or transient AWS errors, with the SDK's standard backoff (1: no retries)")
	f.StringArrayVar(&fl.aws.signingNames, "signing-name", nil, "SigV4 signing name of a source, SOURCE=NAME, where the description's is wrong or missing (repeatable)")
	f.StringVar(&fl.aws.emulate, "emulate", "", "send calls to a built-in emulator instead: healthlake (AWS), auth (the auth example's API) or petstore (the pet purchase example's Kafka broker and pet store); no account needed")
	f.StringArrayVar(&fl.auth.values, "auth", nil, "a credential as SOURCE.SCHEME=VALUE or SOURCE.SCHEME.FIELD=VALUE (repeatable; see arazzo describe --auth)")
	f.StringVar(&fl.auth.file, "auth-file", "", "a JSON or YAML file of credentials: source → scheme → VALUE or {field: value}")
	fl.checks.register(f)
	f.StringVar(&fl.state, "state", "", "record the run in this state file as it goes, so that arazzo resume FILE can continue it after a crash")
	return cmd
}

// textOut reports whether stdout gets the text view and results: not
// with --output json, nor when --events - makes it the event stream.
func (fl *runFlags) textOut() bool { return fl.output == "text" && fl.events != "-" }

// job is one workflow to run.
type job struct {
	file   string
	plan   *engine.Plan
	wf     *engine.Workflow
	inputs map[string]any
	// byWorkflow are inputs for workflows entered by dependsOn, goto or
	// retry, from an --inputs file keyed by workflowId.
	byWorkflow map[string]map[string]any
	resume     *engine.RunState // continue this recorded run (resume)
}

// runWorkflows is `arazzo run`: parse the flags, load and check every
// document, set up the options of each, run the workflows, report.
// Everything that can be wrong with the command line, the documents or
// the inputs stops it before anything is sent.
func runWorkflows(cmd *cobra.Command, h host, files []string, fl *runFlags) error {
	ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := checkTemporalRun(fl); err != nil {
		return withCode(exitUsage, err)
	}
	jobs, optsFor, stop, err := prepareJobs(cmd, h, files, fl)
	defer stop()
	if err != nil {
		return err
	}
	if fl.temporal.detach {
		return detachRuns(cmd, h, fl, jobs, optsFor)
	}
	if fl.state != "" {
		closeState, err := beginState(cmd, h, fl, jobs[0], optsFor[jobs[0].plan])
		defer closeState()
		if err != nil {
			return err
		}
	}
	if fl.dryRun {
		return dryRun(cmd, jobs, optsFor, fl)
	}
	sinks, err := openSinks(fl, stdout)
	if err != nil {
		return withCode(exitUsage, err)
	}
	startupOver()
	procs.start()
	records, err := execute(ctx, h, fl, jobs, optsFor, sinks.observers, stdout, stderr)
	if serr := sinks.close(); err == nil {
		err = serr
	}
	if err != nil {
		if sinks.junit != nil {
			sinks.junit.Close()
		}
		return err
	}
	if err := fl.checks.writeSARIF(jobs, records); err != nil {
		if sinks.junit != nil {
			sinks.junit.Close()
		}
		return err
	}
	return writeReports(ctx, fl, records, sinks.junit, stdout)
}

// prepareJobs is what run and mcp share: check the flags, load every
// document, pick its workflows and their inputs, set up the options of
// each. Call stop even on error.
func prepareJobs(cmd *cobra.Command, h host, files []string, fl *runFlags) (jobs []job, optsFor map[*engine.Plan]*engine.Options, stop func(), err error) {
	ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
	stop = func() {}
	// Output files and --inputs are read and written where the command
	// runs; documents keep their names as given, for messages.
	for _, p := range []*string{&fl.inputsFile, &fl.trace, &fl.events, &fl.junit, &fl.sourceRoot, &fl.auth.file, &fl.checks.sarif} {
		*p = h.path(*p)
	}
	base, fileInputs, err := parseRunFlags(fl, files, cmd.InOrStdin())
	if err != nil {
		return nil, nil, stop, withCode(exitUsage, err)
	}
	if jobs, err = loadJobs(ctx, h, fl, files, base, fileInputs, stderr); err != nil {
		return nil, nil, stop, err
	}
	if optsFor, stop, err = planOptions(ctx, h, fl, jobs, base, stderr); err != nil {
		return nil, nil, stop, withCode(exitUsage, err)
	}
	return jobs, optsFor, stop, nil
}

// parseRunFlags checks the flags that do not depend on a document and
// turns them into the options every run starts from, and the --inputs
// file.
func parseRunFlags(fl *runFlags, files []string, stdin io.Reader) (engine.Options, map[string]any, error) {
	base := engine.Options{MaxSteps: fl.maxSteps, Servers: map[string]string{}}
	switch {
	case fl.maxSteps <= 0:
		return base, nil, fmt.Errorf("--max-steps %d: give a positive number of step executions", fl.maxSteps)
	case fl.aws.maxAttempts < 1:
		return base, nil, fmt.Errorf("--aws-max-attempts %d: give 1 (no retries) or more", fl.aws.maxAttempts)
	case fl.quiet && fl.verbose:
		return base, nil, errors.New("--quiet and --verbose contradict each other: give one")
	case fl.output != "text" && fl.output != "json":
		return base, nil, fmt.Errorf("unknown --output %q (text or json)", fl.output)
	case !fl.all && len(files) != 1:
		return base, nil, fmt.Errorf("run takes one FILE (or several with --all), got %d", len(files))
	case fl.all && (fl.workflow != "" || len(fl.inputs) > 0):
		return base, nil, errors.New("--all runs every workflow: give inputs per workflow with --inputs, not --workflow or --input")
	case fl.events == "-" && fl.output == "json":
		return base, nil, errors.New("--events - and --output json both write to stdout: give --events a file")
	}
	var err error
	if base.Timeout, err = parseDuration(fl.timeout); err != nil {
		return base, nil, fmt.Errorf("--timeout: %v", err)
	}
	if base.RequestTimeout, err = parseDuration(fl.reqTimeout); err != nil || base.RequestTimeout == 0 {
		if err == nil {
			err = errors.New("a request needs a time limit above 0")
		}
		return base, nil, fmt.Errorf("--request-timeout: %v", err)
	}
	if fl.pollInterval != "" {
		d, err := parseDuration(fl.pollInterval)
		if err != nil {
			return base, nil, fmt.Errorf("--poll-interval: %v", err)
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
			return base, nil, fmt.Errorf("--server %q: want SOURCE=URL", s)
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && !brokerScheme(pu.Scheme)) || pu.Host == "" {
			return base, nil, fmt.Errorf("--server %s: %q is not an absolute http(s) URL (for example http://localhost:8080/v1) or a broker address (kafka://localhost:9092, nats://localhost:4222, mqtt://localhost:1883, amqp://localhost:5672)", name, u)
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
			return base, nil, fmt.Errorf("--server-var %q: want SOURCE.NAME=VALUE or NAME=VALUE", sv)
		}
		if base.ServerVariables == nil {
			base.ServerVariables = map[string]map[string]string{}
		}
		if base.ServerVariables[src] == nil {
			base.ServerVariables[src] = map[string]string{}
		}
		base.ServerVariables[src][name] = val
	}
	checks, err := fl.checks.parse()
	if err != nil {
		return base, nil, err
	}
	base.Checks = checks
	fileInputs, err := readInputsFile(stdin, fl.inputsFile)
	return base, fileInputs, err
}

// loadJobs loads every document and picks its workflows and their inputs:
// a bad document, workflow or input stops the command before anything is
// sent.
func loadJobs(ctx context.Context, h host, fl *runFlags, files []string, base engine.Options, fileInputs map[string]any, stderr io.Writer) ([]job, error) {
	loader := &source.Loader{AllowRemote: fl.allowRemote, AllowPrivate: fl.allowPrivate, Root: fl.sourceRoot}
	var jobs []job
	for _, file := range files {
		plan, diags := engine.LoadFile(ctx, h.path(file), loader, append(h.compileOptions(), engine.PartialPlans())...)
		diags = withFlagHints(diags)
		if interrupted(diags) {
			return nil, withCode(exitInterrupted, nil)
		}
		if plan == nil {
			for _, d := range diags.Errors() {
				fmt.Fprintln(stderr, d.String())
			}
			return nil, withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document; nothing was run", file))
		}
		for name := range base.Servers {
			if plan.Source(name) == nil && !fl.all {
				return nil, withCode(exitUsage, fmt.Errorf("--server names source %q, which %s does not declare", name, file))
			}
		}
		if fl.all {
			var ids []string
			for _, w := range plan.Workflows {
				ids = append(ids, w.ID)
			}
			if err := refuseOrWarn(plan, diags, ids, file, fl, stderr); err != nil {
				return nil, err
			}
			byWF, _ := perWorkflow(plan, fileInputs)
			for _, w := range plan.Workflows {
				in, _ := fileInputs[w.ID].(map[string]any)
				jobs = append(jobs, job{file: file, plan: plan, wf: w, inputs: in, byWorkflow: byWF})
			}
			continue
		}
		wf, err := pickWorkflow(plan, fl.workflow)
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		if err := refuseOrWarn(plan, diags, []string{wf.ID}, file, fl, stderr); err != nil {
			return nil, err
		}
		own := fileInputs
		byWF, keyed := perWorkflow(plan, fileInputs)
		if keyed {
			own, _ = fileInputs[wf.ID].(map[string]any)
		}
		in, err := mergeInputs(own, fl.inputs, wf)
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		jobs = append(jobs, job{file: file, plan: plan, wf: wf, inputs: in, byWorkflow: byWF})
	}
	return jobs, nil
}

// planOptions gives each document its own options, with signing set up
// once per document. The returned function stops what signing started
// (an emulator); call it even on error.
func planOptions(ctx context.Context, h host, fl *runFlags, jobs []job, base engine.Options, stderr io.Writer) (map[*engine.Plan]*engine.Options, func(), error) {
	var stops []func()
	stopAll := func() {
		for _, stop := range stops {
			stop()
		}
	}
	note := func(msg string) {
		if !fl.quiet && fl.output == "text" {
			fmt.Fprintln(stderr, msg)
		}
	}
	var plans []*engine.Plan
	for _, j := range jobs {
		plans = append(plans, j.plan)
	}
	layers, secrets, err := authLayers(&fl.auth, plans, h.getenv)
	if err != nil {
		return nil, stopAll, err
	}
	// One security middleware for every plan and run, first so that it
	// wraps the HTTP client itself (mutual TLS needs its transport).
	auth := security.New(security.Config{Layers: layers})
	optsFor := map[*engine.Plan]*engine.Options{}
	finder := newCompanionFinder(h, stderr) // one go build, however many documents
	for _, j := range jobs {
		if _, done := optsFor[j.plan]; done {
			continue
		}
		o := base
		o.Servers = maps.Clone(base.Servers)
		if fl.temporal.submitting() {
			// The workers apply credentials and signing: a submitter needs none.
			optsFor[j.plan] = &o
			continue
		}
		o.Middleware = []engine.Middleware{auth}
		if procs.active() {
			o.Middleware = append(o.Middleware, procs)
		}
		o.Secrets = append(append([]string{}, base.Secrets...), secrets...)
		fl.aws.dryRun = fl.dryRun
		emulate := fl.aws.emulate
		if fl.dryRun {
			emulate = "" // a dry run sends nothing: no emulator to start
		}
		stop, err := emulateAuth(j.plan, &o, emulate, note)
		stops = append(stops, stop)
		if err != nil {
			return nil, stopAll, err
		}
		stop, err = emulatePetstore(ctx, finder, j.plan, &o, emulate, note)
		stops = append(stops, stop)
		if err != nil {
			return nil, stopAll, err
		}
		stop, err = configureAWS(ctx, j.plan, &o, &fl.aws, layers, h.getenv, note)
		stops = append(stops, stop)
		if err != nil {
			return nil, stopAll, err
		}
		optsFor[j.plan] = &o
	}
	return optsFor, stopAll, nil
}

// sinks are the reports written while the workflows run (--trace,
// --events): observers of every run, ended once all runs are over.
type sinks struct {
	observers []engine.Observer
	list      []sink
	junit     *os.File // written by writeReports once the runs are over
}

type sink struct {
	flag string       // names the report in errors
	end  func() error // finishes the report; its first error
	file io.Closer    // nil for stdout
}

func openSinks(fl *runFlags, stdout io.Writer) (*sinks, error) {
	s := &sinks{}
	// The JUnit report is written when the runs are over, but its file is
	// created now: an unwritable path must stop the command before any
	// request is sent, not after a job was started.
	if fl.junit != "" {
		f, err := os.Create(fl.junit)
		if err != nil {
			return nil, fmt.Errorf("--junit: %v", err)
		}
		s.junit = f
	}
	if fl.checks.sarif != "" {
		f, err := os.Create(fl.checks.sarif)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--sarif: %v", err)
		}
		fl.checks.file = f
	}
	if fl.trace != "" {
		f, err := os.Create(fl.trace)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--trace: %v", err)
		}
		har := report.NewHAR(f, tool())
		s.add(har, sink{"--trace", har.Close, f})
	}
	switch fl.events {
	case "":
	case "-":
		events := report.NewJSONLines(stdout)
		s.add(events, sink{"--events", events.Err, nil})
	default:
		f, err := os.Create(fl.events)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("--events: %v", err)
		}
		events := report.NewJSONLines(f)
		s.add(events, sink{"--events", events.Err, f})
	}
	return s, nil
}

func (s *sinks) add(o engine.Observer, k sink) {
	s.observers = append(s.observers, o)
	s.list = append(s.list, k)
}

// close ends every report, closes its file, and returns the first error.
func (s *sinks) close() error {
	var first error
	for _, k := range s.list {
		err := k.end()
		if k.file != nil {
			if cerr := k.file.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && first == nil {
			first = fmt.Errorf("%s: %v", k.flag, err)
		}
	}
	return first
}

// execute runs the jobs one after the other, each watched by its live
// view or text log and by the sinks, and prints each text result. A job
// with invalid inputs stops the command, unless --all runs the others.
func execute(ctx context.Context, h host, fl *runFlags, jobs []job, optsFor map[*engine.Plan]*engine.Options, sinks []engine.Observer, stdout, stderr io.Writer) ([]report.RunRecord, error) {
	tty := fl.textOut() && !fl.quiet && !fl.verbose && h.terminal(stdout)
	fl.tty = tty
	var records []report.RunRecord
	for _, j := range jobs {
		opts := *optsFor[j.plan]
		opts.Observers = nil
		opts.WorkflowInputs = j.byWorkflow
		var prog *progress
		var textLog *report.TextLog
		switch {
		case !fl.textOut() || fl.quiet:
		case tty:
			prog = newProgress(stdout, j.wf, time.Now)
			opts.Observers = append(opts.Observers, prog)
			prog.Start()
		default:
			textLog = report.NewTextLog(stdout, fl.verbose)
			opts.Observers = append(opts.Observers, textLog)
		}
		opts.Observers = append(opts.Observers, sinks...)
		start := time.Now()
		var res *engine.Result
		var err error
		switch {
		case j.resume != nil:
			res, err = j.plan.Resume(ctx, j.resume, j.inputs, &opts)
		case fl.temporal.submitting():
			res, err = runOnTemporal(ctx, h, fl, j, &opts, stderr)
		default:
			res, err = j.plan.Run(ctx, j.wf.ID, j.inputs, &opts)
		}
		if prog != nil {
			prog.Stop()
		}
		if textLog != nil {
			textLog.Flush() // before the results, on the same stdout
		}
		records = append(records, report.RunRecord{File: j.file, Result: res, Err: err, Duration: time.Since(start), Started: start})
		if res == nil {
			if !fl.all && errors.Is(err, context.Canceled) {
				return records, withCode(exitInterrupted, err) // a Temporal run cancelled before it ended
			}
			if !fl.all {
				return records, withCode(exitUsage, err)
			}
			fmt.Fprintf(stderr, "%s: %s: not run: %v\n", j.file, j.wf.ID, err)
			continue
		}
		if fl.textOut() {
			report.WriteResult(stdout, res, prog == nil)
		}
	}
	return records, nil
}

// writeReports writes what is written once every run is over (--junit,
// the JSON results, the --all summary) and says how the command exits.
func writeReports(ctx context.Context, fl *runFlags, records []report.RunRecord, junit *os.File, stdout io.Writer) error {
	if junit != nil {
		err := report.WriteJUnit(junit, records)
		if cerr := junit.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--junit: %v", err)
		}
	}
	if fl.output == "json" {
		var results []*engine.Result
		for _, rec := range records {
			if rec.Result != nil {
				results = append(results, rec.Result)
			}
		}
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
	} else if fl.all && fl.textOut() {
		report.WriteSummary(stdout, records)
	}
	return exitStatus(ctx, fl, records)
}

// exitStatus is 0 when every run succeeded, 130 when interrupted, 1
// otherwise; a single text-mode run also says why it failed.
func exitStatus(ctx context.Context, fl *runFlags, records []report.RunRecord) error {
	failed, interrupted := 0, false
	var firstErr error
	for _, rec := range records {
		if rec.Result == nil || rec.Result.Status != engine.Succeeded {
			failed++
			interrupted = interrupted || errors.Is(rec.Err, context.Canceled)
			if firstErr == nil && rec.Result != nil && rec.Result.Error != nil {
				firstErr = rec.Result.Error
				if h := hint(firstErr); h != "" && fl.tty {
					// The live view and the result already showed the error.
					firstErr = errors.New(h)
				} else if h != "" {
					firstErr = fmt.Errorf("%w (%s)", firstErr, h)
				} else if fl.tty {
					firstErr = nil
				}
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case interrupted:
		return withCode(exitInterrupted, nil)
	case fl.output == "json" || fl.all:
		return withCode(exitFailed, nil)
	}
	return withCode(exitFailed, firstErr)
}

// hint names the flag that deals with a run error's cause, or "": the
// engine names no flags, the CLI does.
func hint(err error) string {
	var nse *engine.NoServerError
	var te *engine.TransportError
	var stop *engine.StoppedError
	switch {
	case errors.As(err, &nse):
		return fmt.Sprintf("give one with --server %s=URL", nse.Source)
	case errors.Is(err, engine.ErrStepLimit):
		return "raise the limit with --max-steps"
	case errors.As(err, &te) && errors.Is(te, context.DeadlineExceeded):
		return "raise the limit with --request-timeout"
	case errors.As(err, &stop) && errors.Is(stop, context.DeadlineExceeded):
		return "raise the limit with --timeout, or --timeout 0 for none"
	case errors.Is(err, engine.ErrUnsafeResend):
		return "arazzo resume --resend sends it again"
	}
	return ""
}

// terminal says whether the live view can draw on w: a terminal that
// understands cursor movement (TERM=dumb does not).
func (h host) terminal(w io.Writer) bool {
	fd := isTerminal
	if h.isTerminal != nil {
		fd = h.isTerminal
	}
	return fd(w) && h.getenv("TERM") != "dumb"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
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
			if err := report.WriteDryRun(out, j.wf.ID, reqs); err != nil {
				return err
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

// parseDuration accepts a Go duration ("2s", "500ms") or plain seconds ("1.5").
func parseDuration(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || secs > 1e9 {
			return 0, fmt.Errorf("%q is not a duration of 0 or more (for example 2s, 500ms or 1.5)", s)
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
	// Anything after the object would be ignored: refuse it.
	if tok, err := d.Token(); err != io.EOF {
		what := fmt.Sprintf("%v", tok)
		if err != nil {
			what = err.Error()
		}
		return nil, fmt.Errorf("--inputs %s: content after the JSON object (at byte %d: %s)", name, d.InputOffset(), what)
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
		if _, declared := props[name]; !declared && wf.Inputs != nil && wf.Inputs.Closed() {
			return nil, fmt.Errorf("--input %s: workflow %s has no input %q%s", name, wf.ID, name, didYouMean(name, props))
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

// didYouMean suggests the declared name nearest to a mistyped one (lint's
// rule for a slip), or lists the names when none is near.
func didYouMean(name string, props map[string]any) string {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	switch best := lint.DidYouMean(name, names); {
	case best != "":
		return fmt.Sprintf(" (did you mean %s?)", best)
	case len(names) > 0:
		return " (its inputs: " + strings.Join(names, ", ") + ")"
	}
	return " (it declares none)"
}

// refuseOrWarn stops the command for errors that affect what it will run
// (the workflows, what they depend on, call and go to, the sources they
// use) and shows as warnings the dialects it runs in canonical form and
// the errors it leaves alone. Other warnings are validate's business.
func refuseOrWarn(plan *engine.Plan, diags diag.List, ids []string, file string, fl *runFlags, stderr io.Writer) error {
	reach := plan.Reach(ids...)
	scoped := diags.Within(func(id string) bool { return reach[id] })
	if errs := scoped.Errors(); len(errs) > 0 {
		for _, d := range errs {
			fmt.Fprintln(stderr, d.String())
		}
		return withCode(exitUsage, fmt.Errorf("%s is not a valid Arazzo document for %s; nothing was run", file, strings.Join(ids, ", ")))
	}
	if fl.quiet {
		return nil
	}
	for i, d := range scoped {
		if runWarns(d.Rule) || (d.Severity == diag.Warning && diags[i].Severity == diag.Error) {
			fmt.Fprintln(stderr, d.String())
		}
	}
	return nil
}

// perWorkflow reads an --inputs file keyed by workflowId: every key names a
// workflow of the plan and every value is an object. keyed is false for a
// file of one workflow's inputs (its keys are input names).
func perWorkflow(plan *engine.Plan, file map[string]any) (byWF map[string]map[string]any, keyed bool) {
	if len(file) == 0 {
		return nil, false
	}
	byWF = map[string]map[string]any{}
	for k, v := range file {
		m, ok := v.(map[string]any)
		if !ok || plan.Workflow(k) == nil {
			return nil, false
		}
		byWF[k] = m
	}
	return byWF, true
}

// runWarns names the warnings run shows: what it runs differently from
// what the document says (a canonical form, a left-out operation).
func runWarns(rule string) bool {
	return strings.HasPrefix(rule, "dialect-") || rule == "output-name" || rule == "source-operation-unusable"
}
