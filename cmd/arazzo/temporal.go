//go:build temporal

package main

// Runs on Temporal: `arazzo worker` serves them, `arazzo run
// --temporal-address` submits one and follows it. Only this file (and
// package engine/temporal) imports the Temporal SDK, and only a build with
// -tags temporal has it (temporal_flags.go says why).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/engine/temporal"
)

// dialTemporal connects to the frontend; the SDK's own logging is
// silenced (its errors come back as errors).
func dialTemporal(ctx context.Context, t *temporalFlags) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: t.address, Namespace: t.namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		return nil, fmt.Errorf("--temporal-address %s: cannot reach Temporal: %v", t.address, err)
	}
	return c, nil
}

// temporalInput is the submitted run of a job.
func temporalInput(h host, j job, opts *engine.Options) (temporal.Input, error) {
	if err := temporal.Supported(j.plan); err != nil {
		return temporal.Input{}, err
	}
	hash, err := engine.DocumentHash(h.path(j.file), j.plan)
	if err != nil {
		return temporal.Input{}, err
	}
	in, err := temporal.NewInput(j.file, hash, j.plan, j.wf.ID, j.inputs, temporal.Key(h.getenv(temporal.KeyEnv)))
	if err != nil {
		return in, err
	}
	in.Settings = temporal.Settings{Servers: opts.Servers, ServerVariables: opts.ServerVariables, WorkflowInputs: j.byWorkflow,
		PollInterval: opts.PollInterval, MaxSteps: opts.MaxSteps, RequestTimeout: opts.RequestTimeout}
	in.Timeout = opts.Timeout // timed by the workflow's clock, not this machine's
	return in, temporal.CheckSettings(j.plan, in.Settings)
}

// submit starts the run of a job on Temporal and returns its id.
func submit(ctx context.Context, c client.Client, fl *runFlags, in temporal.Input, opts *engine.Options) (string, error) {
	id := fl.temporal.workflowID
	if id == "" {
		var b [6]byte
		rand.Read(b[:])
		id = "arazzo-" + in.WorkflowID + "-" + hex.EncodeToString(b[:])
	}
	so := client.StartWorkflowOptions{ID: id, TaskQueue: fl.temporal.taskQueue}
	if opts.Timeout > 0 {
		// The workflow's own timer ends it with a result at the deadline;
		// this is the backstop when no worker takes it up.
		so.WorkflowExecutionTimeout = opts.Timeout + time.Minute
	}
	run, err := c.ExecuteWorkflow(ctx, so, temporal.WorkflowName, in)
	if err != nil {
		return "", fmt.Errorf("submitting the run to Temporal: %v", err)
	}
	return run.GetID(), nil
}

// idleNotice is how long run waits for a worker before saying so.
var idleNotice = 5 * time.Second

// runOnTemporal is execute's run of a job on Temporal: submit, follow
// its events into the observers, return its result as a local run does.
func runOnTemporal(ctx context.Context, h host, fl *runFlags, j job, opts *engine.Options, stderr io.Writer) (*engine.Result, error) {
	in, err := temporalInput(h, j, opts)
	if err != nil {
		return nil, err
	}
	c, err := dialTemporal(ctx, &fl.temporal)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	id, err := submit(ctx, c, fl, in, opts)
	if err != nil {
		return nil, err
	}
	if !fl.quiet && fl.textOut() {
		fmt.Fprintf(stderr, "submitted as Temporal workflow %s (namespace %s, task queue %s); Ctrl-C cancels it\n", id, fl.temporal.namespace, fl.temporal.taskQueue)
	}
	// A run no worker takes up waits silently in Temporal: say so once.
	var mu sync.Mutex
	seen := false
	observers := append([]engine.Observer{engine.ObserverFunc(func(engine.Event) { mu.Lock(); seen = true; mu.Unlock() })}, opts.Observers...)
	idle := time.AfterFunc(idleNotice, func() {
		mu.Lock()
		defer mu.Unlock()
		if !seen {
			fmt.Fprintf(stderr, "no worker has taken the run up yet: is arazzo worker running on task queue %s in namespace %s?\n", fl.temporal.taskQueue, fl.temporal.namespace)
		}
	})
	defer idle.Stop()
	res, err := temporal.Follow(ctx, c, id, 200*time.Millisecond, observers)
	var re *temporal.RefusedError
	if errors.As(err, &re) {
		return nil, fmt.Errorf("the worker refused the run: %v", re)
	}
	return res, err
}

// detachRuns submits the jobs and prints their ids (--detach).
func detachRuns(cmd *cobra.Command, h host, fl *runFlags, jobs []job, optsFor map[*engine.Plan]*engine.Options) error {
	c, err := dialTemporal(cmd.Context(), &fl.temporal)
	if err != nil {
		return withCode(exitFailed, err)
	}
	defer c.Close()
	for _, j := range jobs {
		opts := optsFor[j.plan]
		in, err := temporalInput(h, j, opts)
		if err != nil {
			return withCode(exitUsage, err)
		}
		id, err := submit(cmd.Context(), c, fl, in, opts)
		if err != nil {
			return withCode(exitFailed, err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), id)
	}
	return nil
}

// workerOnly are the run flags a worker takes: what configures
// credentials, signing, where requests go and which sources load.
var workerOnly = map[string]bool{"auth": true, "auth-file": true, "server": true, "server-var": true, "region": true, "profile": true,
	"aws-max-attempts": true, "signing-name": true, "emulate": true, "allow-remote": true, "allow-private": true, "source-root": true}

func newWorkerCmd(h host) *cobra.Command {
	fl := &runFlags{}
	var maxActions int
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Serve runs submitted with run --temporal-address, as a Temporal worker",
		Long: `worker polls a Temporal task queue and runs the Arazzo workflows submitted to it
with arazzo run --temporal-address: each run is a Temporal workflow that
interprets the document with the same engine as run, every request an
activity, every poll wait a durable timer, so a run survives the worker's
restart and goes on on any worker of the queue.

Documents are read from this worker's file system: the path a run was
submitted with, relative paths from the worker's working directory; a
document that differs from the submitter's (its hash, with its local source
descriptions) is refused. Credentials (--auth, --auth-file, the environment,
AWS profiles) are applied here, when each request is sent, and never enter
Temporal's history; secret inputs arrive encrypted under ` + temporal.KeyEnv + `,
which must be set as for the submitter. --server and --server-var give
defaults a run's own override.

Exit status: 0 on interrupt (the runs go on on other workers, or here once
restarted); 2 when the command line is invalid or Temporal cannot be reached.`,
		Example: `  arazzo worker --temporal-address localhost:7233 --auth petstore.apiKey=$PETSTORE_KEY
  arazzo worker --temporal-address temporal:7233 --namespace prod --task-queue exports --region eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveTemporal(cmd, h, fl, maxActions)
		},
	}
	shareRunFlags(h, fl, cmd.Flags(), func(name string) bool { return workerOnly[name] })
	fl.temporal.register(cmd.Flags(), false)
	cmd.Flags().IntVar(&maxActions, "continue-after", temporal.DefaultMaxActions, "continue a run as a new Temporal run (ContinueAsNew) after this many requests and waits, to keep its history small")
	return cmd
}

// serveTemporal runs the worker until interrupted.
func serveTemporal(cmd *cobra.Command, h host, fl *runFlags, maxActions int) error {
	ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
	if fl.temporal.address == "" {
		return withCode(exitUsage, errors.New("worker needs --temporal-address HOST:PORT"))
	}
	if maxActions < 1 {
		return withCode(exitUsage, fmt.Errorf("--continue-after %d: give a positive number", maxActions))
	}
	for _, p := range []*string{&fl.sourceRoot, &fl.auth.file} {
		*p = h.path(*p)
	}
	// The per-run flags keep their defaults here; a run's own come with it.
	fl.maxSteps, fl.output, fl.timeout, fl.reqTimeout, fl.quiet = engine.DefaultMaxSteps, "text", "0", "60s", true
	base, _, err := parseRunFlags(fl, []string{""}, nil)
	if err != nil {
		return withCode(exitUsage, err)
	}
	fl.auth.lenient = true // a worker serves many documents: each gets the credentials of its sources
	loader := &source.Loader{AllowRemote: fl.allowRemote, AllowPrivate: fl.allowPrivate, Root: fl.sourceRoot}
	var mu sync.Mutex // plans are compiled on the worker's goroutines
	var stops []func()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()
	tw := &temporal.Worker{
		Key:        temporal.Key(h.getenv(temporal.KeyEnv)),
		MaxActions: maxActions,
		Load: func(ctx context.Context, doc string) (*engine.Plan, string, error) {
			plan, diags := engine.LoadFile(ctx, h.path(doc), loader, h.compileOptions()...)
			if plan == nil {
				return nil, "", fmt.Errorf("%s is not a valid Arazzo document on this worker: %s", doc, diags.Error())
			}
			hash, err := engine.DocumentHash(h.path(doc), plan)
			return plan, hash, err
		},
		Options: func(plan *engine.Plan) (*engine.Options, error) {
			optsFor, stop, err := planOptions(ctx, h, fl, []job{{plan: plan}}, base, io.Discard)
			mu.Lock()
			stops = append(stops, stop)
			mu.Unlock()
			if err != nil {
				return nil, err
			}
			return optsFor[plan], nil
		},
	}
	c, err := dialTemporal(ctx, &fl.temporal)
	if err != nil {
		return withCode(exitUsage, err)
	}
	defer c.Close()
	w := worker.New(c, fl.temporal.taskQueue, worker.Options{})
	tw.Register(w)
	if err := w.Start(); err != nil {
		return withCode(exitUsage, fmt.Errorf("starting the worker: %v", err))
	}
	fmt.Fprintf(stderr, "arazzo worker: polling task queue %s in namespace %s at %s\n", fl.temporal.taskQueue, fl.temporal.namespace, fl.temporal.address)
	startupOver()
	<-ctx.Done()
	w.Stop()
	return nil
}

// temporalBuilt: this build runs on Temporal.
func temporalBuilt() error { return nil }
