// Command arazzo validates and runs Arazzo 1.0.x workflow documents.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	exitOK          = 0
	exitFailed      = 1   // validation errors found, or the workflow failed
	exitUsage       = 2   // bad command line, unreadable or invalid input
	exitInterrupted = 130 // SIGINT
	exitTerminated  = 143 // SIGTERM
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func main() {
	startupOver = relaxStartup(os.Getenv)
	procs = newProcPolicy(os.Getenv)
	ctx, interrupted := onSignals(context.Background(), os.Exit)
	code := run(ctx, host{getenv: os.Getenv}, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if code == exitInterrupted {
		code = interrupted()
	}
	os.Exit(code)
}

// onSignals cancels ctx on the first SIGINT or SIGTERM (CI cancellation,
// timeout(1) and docker stop send SIGTERM), so the run stops and still
// writes its reports; a second signal exits at once through exit. The
// returned function gives the exit code for the signal that came: 130 for
// SIGINT, 143 for SIGTERM (128 + the signal number, as shells report).
func onSignals(parent context.Context, exit func(int)) (context.Context, func() int) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var first atomic.Value
	go func() {
		s := <-sigs
		first.Store(s)
		cancel(signalCause{s})
		s = <-sigs
		signal.Stop(sigs)
		exit(signalCode(s))
	}()
	return ctx, func() int {
		if s, ok := first.Load().(os.Signal); ok {
			return signalCode(s)
		}
		return exitInterrupted
	}
}

// signalCause is the cause of a context that a signal ended, so that a
// child process can be passed the same signal.
type signalCause struct{ sig os.Signal }

func (c signalCause) Error() string { return c.sig.String() }

func signalCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// host is what the CLI takes from its process besides arguments and
// streams: the environment and the working directory. main passes the
// process's own; tests running many commands in one process pass each its
// own, where os.Setenv and os.Chdir would change them under all the others.
type host struct {
	getenv func(string) string
	dir    string // relative file names are taken from here; "" is the working directory
	// isTerminal overrides the check for a terminal (tests of the live
	// view); nil asks the file descriptor and TERM.
	isTerminal func(io.Writer) bool
}

// path resolves a file name given on the command line.
func (h host) path(name string) string {
	if h.dir == "" || name == "" || name == "-" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(h.dir, name)
}

// run executes the CLI and returns the exit code; main only wires the
// process to it, so tests can call it directly.
func run(ctx context.Context, h host, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(h, stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "arazzo:", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag, wrong arguments).
	fmt.Fprintln(stderr, "arazzo:", err)
	fmt.Fprintln(stderr, "Run 'arazzo --help' for usage.")
	return exitUsage
}

func newRootCmd(h host, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "arazzo",
		Short: "Validate and run Arazzo workflow documents",
		Long: `arazzo runs Arazzo 1.0.x and 1.1.x workflow documents (the OpenAPI Initiative's format for
multi-step API workflows) against the APIs their OpenAPI descriptions describe.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("arazzo {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newValidateCmd(h), newLintCmd(h), newRunCmd(h), newResumeCmd(h), newRunsCmd(h), newFixCmd(h), newInputsCmd(h), newDescribeCmd(h), newGraphCmd(h), newUpgradeCmd(h), newMCPCmd(h), newWorkerCmd(h), newEmulateCmd(h), newVersionCmd())
	return root
}
