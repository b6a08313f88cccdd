package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// arazzo links no embedded broker: they are the companion's (issue 13:
// every linked package's initialiser runs in every command).
func TestCLILinksNoBroker(t *testing.T) {
	for _, tags := range []string{"", "temporal"} {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, broker := range []string{"github.com/twmb/franz-go/pkg/kfake", "github.com/nats-io/nats-server", "github.com/mochi-mqtt/server", "/examples/emulators/emulatecli"} {
				if strings.HasPrefix(dep, broker) || strings.HasSuffix(dep, broker) {
					t.Errorf("arazzo (tags %q) links %s: the embedded brokers belong to arazzo-emulate", tags, dep)
				}
			}
		}
	}
}

// testFinder is a finder over a fake process: no $ARAZZO_EMULATE, an
// executable in exeDir, a PATH of pathDir, a build info, and a build that
// writes a file (or fails).
func testFinder(t *testing.T, exeDir, pathDir, version string, buildFails bool) (*companionFinder, *bytes.Buffer, *int) {
	stderr, builds := &bytes.Buffer{}, new(int)
	return &companionFinder{
		getenv:     func(string) string { return "" },
		path:       func(p string) string { return p },
		executable: func() (string, error) { return filepath.Join(exeDir, "arazzo"), nil },
		lookPath: func(name string) (string, error) {
			if name == "go" {
				return "/usr/bin/go", nil
			}
			p := filepath.Join(pathDir, name)
			if _, err := os.Stat(p); err != nil {
				return "", exec.ErrNotFound
			}
			return p, nil
		},
		buildInfo: func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: version}}, true },
		dir:       "../../engine", // inside this checkout
		cacheDir:  t.TempDir(),
		stderr:    stderr,
		build: func(_ context.Context, moduleDir, out string) ([]byte, error) {
			*builds++
			if buildFails {
				return []byte("cmd/arazzo-emulate/main.go:1:1: expected 'package'"), errors.New("exit status 1")
			}
			if _, err := os.Stat(filepath.Join(moduleDir, "cmd", "arazzo-emulate")); err != nil {
				t.Errorf("built in %s, not the module's root", moduleDir)
			}
			os.MkdirAll(filepath.Dir(out), 0o755)
			return nil, os.WriteFile(out, []byte("#!/bin/sh\n"), 0o755)
		},
	}, stderr, builds
}

// The companion is found in the documented order: $ARAZZO_EMULATE, beside
// the executable, on $PATH, built from the checkout (development builds
// only, once per process); otherwise the error names what was tried and
// the fix.
func TestCompanionLookupOrder(t *testing.T) {
	ctx := context.Background()
	exeDir, pathDir := t.TempDir(), t.TempDir()
	f, stderr, builds := testFinder(t, exeDir, pathDir, "(devel)", false)

	p, cleanup, err := f.find(ctx)
	cleanup()
	if err != nil || !strings.HasPrefix(p, filepath.Join(f.cacheDir, "bin")) || *builds != 1 || !strings.Contains(stderr.String(), "building arazzo-emulate") {
		t.Fatalf("a development build builds it from the checkout: %q %v (builds %d) %q", p, err, *builds, stderr.String())
	}
	if p2, _, err := f.find(ctx); p2 != p || err != nil || *builds != 1 || strings.Count(stderr.String(), "building") != 1 {
		t.Fatalf("built once per process: %q %v (builds %d)", p2, err, *builds)
	}

	onPath := filepath.Join(pathDir, companionName)
	os.WriteFile(onPath, nil, 0o755)
	if p, _, err := f.find(ctx); p != onPath || err != nil {
		t.Fatalf("$PATH comes before a build: %q %v", p, err)
	}
	beside := filepath.Join(exeDir, companionName)
	os.WriteFile(beside, nil, 0o755)
	if p, _, err := f.find(ctx); p != beside || err != nil {
		t.Fatalf("beside the executable comes before $PATH: %q %v", p, err)
	}
	f.getenv = func(k string) string {
		if k == companionEnv {
			return onPath
		}
		return ""
	}
	if p, _, err := f.find(ctx); p != onPath || err != nil {
		t.Fatalf("$ARAZZO_EMULATE comes first: %q %v", p, err)
	}
	f.getenv = func(k string) string { return map[string]string{companionEnv: "/nonexistent/arazzo-emulate"}[k] }
	if _, _, err := f.find(ctx); err == nil || !strings.Contains(err.Error(), "ARAZZO_EMULATE=/nonexistent/arazzo-emulate: no such file or directory") ||
		!strings.Contains(err.Error(), "go install github.com/arazzo-go/arazzo/cmd/arazzo-emulate@latest") {
		t.Fatalf("a $ARAZZO_EMULATE that does not exist is an error, not a reason to look elsewhere: %v", err)
	}
}

func TestCompanionNotFound(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		version, dir string
		want         string
	}{
		{"v1.4.0", "../../engine", "not built from source: this arazzo is a release build"},
		{"(devel)", os.TempDir(), "is not inside a checkout of github.com/arazzo-go/arazzo"},
	} {
		f, _, builds := testFinder(t, t.TempDir(), t.TempDir(), tc.version, false)
		f.dir = tc.dir
		_, _, err := f.find(ctx)
		if err == nil || *builds != 0 {
			t.Fatalf("%s in %s: found (builds %d)", tc.version, tc.dir, *builds)
		}
		for _, want := range []string{"arazzo-emulate not found (ARAZZO_EMULATE unset, not beside ", "not on $PATH", tc.want,
			"install it with go install github.com/arazzo-go/arazzo/cmd/arazzo-emulate@latest (from a clone: go install ./cmd/arazzo-emulate), or set ARAZZO_EMULATE to its path"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s in %s: %q lacks %q", tc.version, tc.dir, err, want)
			}
		}
	}
	f, _, _ := testFinder(t, t.TempDir(), t.TempDir(), "(devel)", true)
	f.cacheDir = "" // a temporary directory then
	if _, _, err := f.find(ctx); err == nil || !strings.Contains(err.Error(), "expected 'package'") || !strings.Contains(err.Error(), "go install") {
		t.Fatalf("a failed build says why: %v", err)
	}
}

func TestDevBuild(t *testing.T) {
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want bool
	}{
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126073218-f1ffda3cae4e+dirty"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f1ffda3cae4e"}}}, true},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, false},
		{nil, false},
	} {
		if got := devBuild(tc.bi, tc.bi != nil); got != tc.want {
			t.Errorf("devBuild(%+v) = %v", tc.bi, got)
		}
	}
	if got := modulePath([]byte("// c\nmodule \"github.com/arazzo-go/arazzo\" // x\n\ngo 1.26\n")); got != arazzoModule {
		t.Errorf("modulePath: %q", got)
	}
	if got := modulePath([]byte("modulex y\n")); got != "" {
		t.Errorf("modulePath of no module line: %q", got)
	}
}

// children lists the processes whose parent is ppid and whose command
// name is name (from /proc; the test is skipped without it).
func children(t *testing.T, ppid int, name string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) > 1 && s[open+1:end] == name && fields[1] == strconv.Itoa(ppid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

var emulatingNote = regexp.MustCompile(`emulating the pet purchase example: Kafka at (\S+), pet store at http://(\S+) `)

// run --emulate petstore starts the companion as a child and leaves
// nothing behind, whether the run succeeds or fails: no child process, no
// listener on the broker's or the pet store's port.
func TestEmulatePetstoreLeavesNothingBehind(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"succeeds", nil, 0},
		{"fails", []string{"--input", "password=wrong"}, 1}, // the pet store refuses the login
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			args := append([]string{"run", "../../examples/pet-purchase/pet-purchase.arazzo.yaml", "--emulate", "petstore"}, tc.args...)
			getenv := func(k string) string { return map[string]string{companionEnv: testCompanion}[k] }
			if code := run(t.Context(), host{getenv: getenv}, args, strings.NewReader(""), &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			m := emulatingNote.FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no note of the emulator:\n%s", stderr.String())
			}
			if pids := children(t, os.Getpid(), companionName); len(pids) != 0 {
				t.Fatalf("the companion outlived the run: processes %v", pids)
			}
			for _, addr := range m[1:] {
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					t.Fatalf("%s still listens after the run", addr)
				}
			}
		})
	}
}

// A run whose documents fail to load leaves no companion behind.
func TestEmulatePetstoreLoadFailureLeavesNoCompanion(t *testing.T) {
	var stdout, stderr strings.Builder
	getenv := func(k string) string { return map[string]string{companionEnv: testCompanion}[k] }
	code := run(t.Context(), host{getenv: getenv}, []string{"run", "testdata/no-such.arazzo.yaml", "--emulate", "petstore"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "no-such.arazzo.yaml") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	// A companion still starting when run returned would appear in a
	// moment: watch for one for a second.
	for range 20 {
		if pids := children(t, os.Getpid(), companionName); len(pids) != 0 {
			t.Fatalf("the companion outlived the run: processes %v", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A companion that fails to start fails the run before anything is sent,
// with what it said on stderr; one that is not found exits 2 naming the
// fix.
func TestEmulatePetstoreCompanionFails(t *testing.T) {
	fake := filepath.Join(t.TempDir(), companionName)
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'listen tcp 127.0.0.1:0: socket: too many open files' >&2\nexit 3\n"), 0o755)
	for path, want := range map[string]string{
		fake:              "--emulate petstore: the pet purchase example's broker did not start: " + fake + " exited before it was ready (exit status 3): listen tcp 127.0.0.1:0: socket: too many open files",
		fake + ".missing": "--emulate petstore: ARAZZO_EMULATE=" + fake + ".missing: no such file or directory; install it with go install github.com/arazzo-go/arazzo/cmd/arazzo-emulate@latest (from a clone: go install ./cmd/arazzo-emulate), or set ARAZZO_EMULATE to its path",
	} {
		var stdout, stderr strings.Builder
		getenv := func(k string) string { return map[string]string{companionEnv: path}[k] }
		code := run(t.Context(), host{getenv: getenv}, []string{"run", "../../examples/pet-purchase/pet-purchase.arazzo.yaml", "--emulate", "petstore"}, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), want) || stdout.String() != "" {
			t.Errorf("exit %d, want 2 and %q\nstdout: %s\nstderr: %s", code, want, stdout.String(), stderr.String())
		}
	}
}

// stillRuns tells whether a process exists (a zombie counts: it was not
// waited for).
func stillRuns(pid int) bool { return syscall.Kill(pid, 0) == nil }
