package main

// Durable runs: `run --state FILE` records a run into a store file as it
// goes, `resume FILE` continues it after a crash, `runs FILE` lists what
// the file holds (engine/durable.go, engine/store/boltstore).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/store/boltstore"
)

// notRecorded are the flags a stored run does not keep: inputs (the state
// has them, secrets left out), credentials, where reports go and how this
// invocation prints.
var notRecorded = []string{"input", "inputs", "auth", "state", "trace", "events", "junit", "sarif", "output", "quiet", "verbose", "dry-run", "all", "resend", "run"}

// beginState opens --state and starts recording the job's run into it.
// The returned function closes the store.
func beginState(cmd *cobra.Command, h host, fl *runFlags, j job, opts *engine.Options) (func(), error) {
	none := func() {}
	if fl.all || fl.dryRun {
		return none, withCode(exitUsage, errors.New("--state records one run: it does not go with --all or --dry-run"))
	}
	doc, err := filepath.Abs(h.path(j.file))
	if err != nil {
		return none, withCode(exitUsage, err)
	}
	hash, err := engine.DocumentHash(doc, j.plan)
	if err != nil {
		return none, withCode(exitUsage, fmt.Errorf("--state: %v", err))
	}
	store, err := boltstore.Open(h.path(fl.state))
	if err != nil {
		return none, withCode(exitUsage, fmt.Errorf("--state %v", err))
	}
	flags := map[string][]string{}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if slices.Contains(notRecorded, f.Name) {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			flags[f.Name] = sv.GetSlice()
		} else {
			flags[f.Name] = []string{f.Value.String()}
		}
	})
	jr, err := store.Begin(boltstore.Meta{Document: doc, Hash: hash, Flags: flags})
	if err != nil {
		store.Close()
		return none, err
	}
	opts.Journal = jr
	if !fl.quiet && fl.textOut() {
		fmt.Fprintf(cmd.ErrOrStderr(), "recording run %s in %s (continue it with: arazzo resume %s)\n", jr.ID(), fl.state, fl.state)
	}
	return func() { store.Close() }, nil
}

func newResumeCmd(h host) *cobra.Command {
	fl := &runFlags{}
	var runID string
	cmd := runCmdWith(h, fl)
	cmd.Use = "resume FILE"
	cmd.Short = "Continue a run recorded with run --state FILE after it stopped"
	cmd.Long = `resume continues a run that ` + "`arazzo run --state FILE`" + ` recorded, from where it
stopped (a crash, a kill, an interrupt): the same document (refused if it
changed), workflow, inputs and flags, with step outputs, visits and retry
counters as they were. A poll goes on polling the same job. A request that
was sent but whose response was never recorded is sent again only when that
is safe (GET, HEAD, PUT, DELETE, OPTIONS, or a request carrying a client
token such as ClientToken or an Idempotency-Key header); otherwise resume
stops, naming the step, and --resend sends it anyway.

Secret inputs are not recorded: give them again with --input or --inputs.
Other run flags given here override the recorded ones.`
	cmd.Example = `  arazzo resume run.state
  arazzo resume run.state --input apiToken=$TOKEN
  arazzo resume run.state --run 20261126-081500-0a1b2c3d4e5f --resend`
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return resume(cmd, h, args[0], runID, fl)
	}
	cmd.Flags().BoolVar(&fl.resend, "resend", false, "send again a request that was sent but whose response was never recorded, even when that is not known to be safe")
	cmd.Flags().StringVar(&runID, "run", "", "the run to resume, when FILE holds more than one that can be (see arazzo runs)")
	return cmd
}

func resume(cmd *cobra.Command, h host, file, runID string, fl *runFlags) error {
	if fl.all || fl.dryRun || fl.state != "" {
		return withCode(exitUsage, errors.New("resume continues one recorded run: --all, --dry-run and --state do not apply"))
	}
	store, err := openExisting(h.path(file))
	if err != nil {
		return withCode(exitUsage, err)
	}
	defer store.Close()
	run, err := pickRun(store, runID, file)
	if err != nil {
		return withCode(exitUsage, err)
	}
	// The recorded flags, where this command line does not set them.
	for name, vals := range run.Flags {
		f := cmd.Flags().Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		for _, v := range vals {
			if err := f.Value.Set(v); err != nil {
				return withCode(exitUsage, fmt.Errorf("recorded flag --%s %q: %v", name, v, err))
			}
		}
	}
	if !cmd.Flags().Changed("workflow") {
		fl.workflow = run.State.WorkflowID
	}
	jobs, optsFor, stop, err := prepareJobs(cmd, h, []string{run.Document}, fl)
	defer stop()
	if err != nil {
		return err
	}
	j := &jobs[0]
	if hash, err := engine.DocumentHash(run.Document, j.plan); err != nil || hash != run.Hash {
		if err == nil {
			err = errors.New("it changed since the run started, so the recorded position may not mean the same; start a new run")
		}
		return withCode(exitUsage, fmt.Errorf("%s: %v", run.Document, err))
	}
	for name := range j.inputs {
		if !slices.Contains(run.State.SecretInputs, name) {
			return withCode(exitUsage, fmt.Errorf("input %s is recorded with the run and cannot change as it resumes; give only the secret inputs it left out (%s)",
				name, orNone(run.State.SecretInputs)))
		}
	}
	j.resume = &run.State
	opts := optsFor[j.plan]
	opts.Journal = store.Continue(run)
	opts.Resend = fl.resend
	if !fl.quiet && fl.textOut() {
		fmt.Fprintf(cmd.ErrOrStderr(), "resuming run %s of %s at %s\n", run.ID, run.State.WorkflowID, position(&run.State))
	}
	sinks, err := openSinks(fl, cmd.OutOrStdout())
	if err != nil {
		return withCode(exitUsage, err)
	}
	procs.start()
	records, err := execute(cmd.Context(), h, fl, jobs, optsFor, sinks.observers, cmd.OutOrStdout(), cmd.ErrOrStderr())
	if serr := sinks.close(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	return writeReports(cmd.Context(), fl, records, sinks.junit, cmd.OutOrStdout())
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// openExisting opens a state file that must exist: a mistyped name is an
// error, not a new empty store.
func openExisting(path string) (*boltstore.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return boltstore.Open(path)
}

// pickRun finds the run to resume: the one named, or the only one that
// has not ended.
func pickRun(store *boltstore.Store, id, file string) (*boltstore.Run, error) {
	if id != "" {
		run, err := store.Load(id)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if run.State.Status != "" {
			return nil, fmt.Errorf("run %s is over (%s): there is nothing to resume", id, run.State.Status)
		}
		return run, nil
	}
	runs, err := store.List()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	var open []*boltstore.Run
	for _, r := range runs {
		if r.State.Status == "" {
			open = append(open, r)
		}
	}
	switch len(open) {
	case 0:
		return nil, fmt.Errorf("%s holds no run that can be resumed (%d over; see arazzo runs %s)", file, len(runs), file)
	case 1:
		return open[0], nil
	}
	var ids []string
	for _, r := range open {
		ids = append(ids, r.ID)
	}
	return nil, fmt.Errorf("%s holds %d runs that can be resumed: choose one with --run (%s)", file, len(open), strings.Join(ids, ", "))
}

// position says where a stored run is: the innermost running step.
func position(st *engine.RunState) string {
	if n := len(st.Frames); n > 0 {
		fr := st.Frames[n-1]
		return fmt.Sprintf("step %s (visit %d, attempt %d)", fr.StepID, fr.Visits[fr.StepID], fr.Attempt)
	}
	return "its start"
}

func newRunsCmd(h host) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "runs FILE",
		Short: "List the runs a state file (run --state FILE) holds, and their state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openExisting(h.path(args[0]))
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer store.Close()
			runs, err := store.List()
			if err != nil {
				return withCode(exitUsage, err)
			}
			return listRuns(cmd.OutOrStdout(), runs, output)
		},
	}
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	return cmd
}

type runLine struct {
	ID       string         `json:"id"`
	Workflow string         `json:"workflowId"`
	State    string         `json:"state"`
	Position string         `json:"position,omitempty"`
	Document string         `json:"document"`
	Started  time.Time      `json:"started"`
	Updated  time.Time      `json:"updated"`
	Outputs  map[string]any `json:"outputs,omitempty"`
	Error    string         `json:"error,omitempty"`
}

func listRuns(w io.Writer, runs []*boltstore.Run, output string) error {
	var lines []runLine
	for _, r := range runs {
		l := runLine{ID: r.ID, Workflow: r.State.WorkflowID, State: string(r.State.Status), Document: r.Document,
			Started: r.Started, Updated: r.Updated, Outputs: r.State.Outputs, Error: r.State.Error}
		if l.State == "" {
			l.State, l.Position = "stopped", position(&r.State)
		}
		lines = append(lines, l)
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if lines == nil {
			lines = []runLine{}
		}
		return enc.Encode(lines)
	case "text":
	default:
		return withCode(exitUsage, fmt.Errorf("unknown --output %q (text or json)", output))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tWORKFLOW\tSTATE\tWHERE\tUPDATED")
	for _, l := range lines {
		where := l.Position
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, l.Workflow, l.State, where, l.Updated.Format(time.RFC3339))
	}
	return tw.Flush()
}
