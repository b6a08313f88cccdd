package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The embedded brokers (kfake, nats-server, mochi-mqtt) are in a companion
// program, arazzo-emulate (examples/emulators/emulatecli), not in arazzo:
// every package a binary links runs its initialiser in every command, and
// only the emulators need them.
const (
	companionName    = "arazzo-emulate"
	companionPackage = "github.com/arazzo-go/arazzo/cmd/arazzo-emulate"
	arazzoModule     = "github.com/arazzo-go/arazzo"
	companionEnv     = "ARAZZO_EMULATE"
)

// companionHelp says how arazzo finds the companion; `arazzo emulate
// --help` shows it and the README repeats it.
const companionHelp = `kafka, nats, mqtt and websocket are served by the companion program
arazzo-emulate, which links the embedded brokers so that arazzo does not.
arazzo runs it with the same arguments (and for 'arazzo run --emulate
petstore'), looking for it in this order:
  1. $ARAZZO_EMULATE, a path;
  2. arazzo-emulate in the directory of this arazzo executable;
  3. arazzo-emulate on $PATH;
  4. in a source checkout, when this arazzo is a development build (go run,
     go build) and the go command is on $PATH: go build builds it from the
     checkout the current directory is in, into arazzo's cache directory.
Install it with: go install ` + companionPackage + `@latest
(from a clone: go install ./cmd/...).`

// companionFinder finds arazzo-emulate. Its fields are the process's
// (newCompanionFinder); tests replace them.
type companionFinder struct {
	getenv     func(string) string
	path       func(string) string // resolves a relative $ARAZZO_EMULATE
	executable func() (string, error)
	lookPath   func(string) (string, error)
	buildInfo  func() (*debug.BuildInfo, bool)
	dir        string // the current directory
	cacheDir   string // "" when the cache is off
	stderr     io.Writer
	// build runs go build in the module at moduleDir; its combined output
	// on failure.
	build func(ctx context.Context, moduleDir, out string) ([]byte, error)

	once     sync.Once // one build per process, however many documents ask
	built    string
	buildErr error
}

func newCompanionFinder(h host, stderr io.Writer) *companionFinder {
	dir := h.dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	return &companionFinder{
		getenv: h.getenv, path: h.path, executable: os.Executable, lookPath: exec.LookPath,
		buildInfo: debug.ReadBuildInfo, dir: dir, cacheDir: h.cacheDir(), stderr: stderr,
		build: func(ctx context.Context, moduleDir, out string) ([]byte, error) {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", out, companionPackage)
			cmd.Dir = moduleDir
			return cmd.CombinedOutput()
		},
	}
}

// find returns the companion's path, and a function to call once it is no
// longer needed (it removes a temporary build). The error says what was
// tried and how to install the companion.
func (f *companionFinder) find(ctx context.Context) (string, func(), error) {
	nothing := func() {}
	exe := companionName
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	fix := "install it with go install " + companionPackage + "@latest (from a clone: go install ./cmd/arazzo-emulate), or set " + companionEnv + " to its path"
	if v := f.getenv(companionEnv); v != "" {
		p := f.path(v)
		if _, err := os.Stat(p); err != nil {
			return "", nothing, fmt.Errorf("%s=%s: %v; %s", companionEnv, v, errors.Unwrap(err), fix)
		}
		return p, nothing, nil
	}
	var tried []string
	if self, err := f.executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), exe)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nothing, nil
		}
		tried = append(tried, "not beside "+self)
	}
	if p, err := f.lookPath(companionName); err == nil {
		return p, nothing, nil
	}
	tried = append(tried, "not on $PATH")
	p, cleanup, why := f.buildFromSource(ctx, exe)
	var failed errBuildFailed
	switch {
	case why == nil:
		return p, cleanup, nil
	case errors.As(why, &failed):
		return "", nothing, fmt.Errorf("%v\n%s", failed.err, fix)
	}
	tried = append(tried, why.Error())
	return "", nothing, fmt.Errorf("%s not found (%s unset, %s); %s", companionName, companionEnv, strings.Join(tried, ", "), fix)
}

// errBuildFailed marks a source build that was tried and failed: that is
// the error to report, not "not found".
type errBuildFailed struct{ err error }

func (e errBuildFailed) Error() string { return e.err.Error() }

// buildFromSource builds the companion from the checkout the current
// directory is in, when this arazzo is a development build of it and go is
// installed. It returns "" and why not otherwise.
func (f *companionFinder) buildFromSource(ctx context.Context, exe string) (string, func(), error) {
	nothing := func() {}
	if !devBuild(f.buildInfo()) {
		return "", nothing, errors.New("not built from source: this arazzo is a release build")
	}
	if _, err := f.lookPath("go"); err != nil {
		return "", nothing, errors.New("not built from source: no go command on $PATH")
	}
	root := moduleRoot(f.dir)
	if root == "" {
		return "", nothing, fmt.Errorf("not built from source: %s is not inside a checkout of %s", f.dir, arazzoModule)
	}
	f.once.Do(func() {
		// One binary per checkout, so that two checkouts do not overwrite
		// each other's; go build skips the link when it is up to date.
		dir := f.cacheDir
		if dir == "" {
			dir, f.buildErr = os.MkdirTemp("", "arazzo-emulate-")
			if f.buildErr != nil {
				return
			}
		} else {
			sum := sha256.Sum256([]byte(root))
			dir = filepath.Join(dir, "bin", hex.EncodeToString(sum[:6]))
		}
		out := filepath.Join(dir, exe)
		fmt.Fprintf(f.stderr, "building %s from %s (go build, once; then incremental) …\n", companionName, root)
		if msg, err := f.build(ctx, root, out); err != nil {
			f.buildErr = fmt.Errorf("go build %s in %s: %v\n%s", companionPackage, root, err, strings.TrimSpace(string(msg)))
			return
		}
		f.built = out
	})
	if f.buildErr != nil {
		return "", nothing, errBuildFailed{f.buildErr}
	}
	cleanup := nothing
	if f.cacheDir == "" {
		cleanup = func() { os.RemoveAll(filepath.Dir(f.built)) }
	}
	return f.built, cleanup, nil
}

// devBuild tells a build from a checkout (go run, go build: version
// "(devel)", or VCS settings stamped by go build in a git checkout) from
// a release or go install pkg@version.
func devBuild(bi *debug.BuildInfo, ok bool) bool {
	if !ok || bi == nil {
		return false
	}
	if bi.Main.Version == "(devel)" || bi.Main.Version == "" {
		return true
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return true
		}
	}
	return false
}

// moduleRoot is the directory of the go.mod that governs dir (the nearest
// one above it, as the go command finds it) when that is arazzo's module,
// else "".
func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if modulePath(data) == arazzoModule {
				return d
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// modulePath reads the module directive of a go.mod.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}

// runCompanion runs the companion as `arazzo emulate` would have served
// itself: same arguments and streams, its exit code. When ctx ends (SIGINT
// or SIGTERM to arazzo) the companion gets the same signal and 5 seconds
// to stop before it is killed; it dies with arazzo anyway (Pdeathsig).
func runCompanion(ctx context.Context, path string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // dies with arazzo, even a killed one
	cmd.Cancel = func() error { return cmd.Process.Signal(causeSignal(ctx)) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	// After a cancel, Run reports ctx's error even when the companion
	// stopped cleanly: its own exit status is what counts.
	switch ps := cmd.ProcessState; {
	case ps == nil:
		fmt.Fprintf(stderr, "arazzo: %s: %v\n", companionName, err)
		return exitUsage
	case ps.ExitCode() >= 0:
		return ps.ExitCode()
	default:
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitFailed
	}
}

// causeSignal is the signal that ended ctx (onSignals records it), else
// SIGINT.
func causeSignal(ctx context.Context) os.Signal {
	var sc signalCause
	if errors.As(context.Cause(ctx), &sc) {
		return sc.sig
	}
	return os.Interrupt
}

// companionChild is a companion started for a run (`--emulate petstore`).
type companionChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{} // closed once Wait returned
	err    error         // Wait's, once exited
	stderr *tailBuffer
}

// startCompanion starts the companion with args (which must include
// --json) and returns it with the JSON line it printed once ready. It
// fails, with the companion's stderr, when the companion exits first or
// is not ready in 30 seconds.
func startCompanion(ctx context.Context, path string, args []string) (*companionChild, string, error) {
	c := &companionChild{cmd: exec.Command(path, args...), exited: make(chan struct{}), stderr: &tailBuffer{max: 2048}}
	// Its own process group: a Ctrl-C at the terminal reaches arazzo only,
	// and arazzo stops the companion once the run has wound down. It dies
	// with arazzo, even a killed one (Pdeathsig), and when its stdin closes.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	c.cmd.Stderr = c.stderr
	stdin, err := c.cmd.StdinPipe() // closing it stops the companion too
	if err != nil {
		return nil, "", err
	}
	c.stdin = stdin
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r) // the companion must never block on a full pipe
		close(drained)
	}()
	go func() {
		<-drained // Wait closes the pipe: read it all first
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	fail := func(format string, args ...any) (*companionChild, string, error) {
		c.stop()
		msg := fmt.Sprintf(format, args...)
		if e := strings.TrimSpace(c.stderr.String()); e != "" {
			msg += ": " + e
		}
		return nil, "", errors.New(msg)
	}
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case line := <-lines:
		if strings.TrimSpace(line) != "" {
			return c, strings.TrimSpace(line), nil
		}
		<-c.exited
		return fail("%s exited before it was ready (%v)", path, c.err)
	case <-timer.C:
		return fail("%s was not ready in 30s", path)
	case <-ctx.Done():
		return fail("%s: %v", path, context.Cause(ctx))
	}
}

// stop ends the companion: its stdin closed and SIGINT, then SIGKILL
// after 5 seconds.
func (c *companionChild) stop() {
	c.stdin.Close()
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
		return
	case <-time.After(5 * time.Second):
	}
	c.cmd.Process.Kill()
	<-c.exited
}

// tailBuffer keeps the last max bytes written to it: the end of an
// error output is where the reason is.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
