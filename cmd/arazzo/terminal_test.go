package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// runOnTerminal runs the CLI as if stdout were a terminal, with TERM set.
func runOnTerminal(t *testing.T, term string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	env := map[string]string{"TERM": term}
	h := host{getenv: func(k string) string { return env[k] }, isTerminal: func(io.Writer) bool { return true }}
	code := run(context.Background(), h, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// On a terminal a failure is said once, in the result under the live
// view; stderr adds only the flag that helps, when one does.
func TestTerminalSaysAFailureOnce(t *testing.T) {
	srv := httptest.NewServer(itemHandler())
	defer srv.Close()
	code, out, errOut := runOnTerminal(t, "xterm-256color", "run", "testdata/cli.arazzo.yaml", "--workflow", "fetch", "--input", "id=404", "--server", "api="+srv.URL+"/v1")
	// What stays on the screen: the last frame of the live view (frames
	// before it are erased) and the result after it.
	screen := out[strings.LastIndex(out, "\x1b[2K")+len("\x1b[2K"):]
	if code != exitFailed || strings.Count(screen+errOut, "item 404 does not exist") != 2 { // the message, and the body excerpt after it
		t.Fatalf("exit %d; the error should appear once:\n%s\n--- stderr\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "\x1b[") {
		t.Fatalf("the live view draws with escape codes:\n%q", out)
	}
	if errOut != "" {
		t.Fatalf("stderr repeats the result: %q", errOut)
	}
	code, _, errOut = runOnTerminal(t, "xterm", "run", "testdata/cli.arazzo.yaml", "--workflow", "poll", "--server", "api="+srv.URL+"/v1", "--poll-interval", "0", "--max-steps", "3")
	if code != exitFailed || strings.TrimSpace(errOut) != "arazzo: raise the limit with --max-steps" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TERM=dumb gets plain lines, no cursor control.
func TestDumbTerminalGetsPlainLines(t *testing.T) {
	srv := httptest.NewServer(itemHandler())
	defer srv.Close()
	code, out, _ := runOnTerminal(t, "dumb", "run", "testdata/cli.arazzo.yaml", "--workflow", "fetch", "--input", "id=1", "--server", "api="+srv.URL+"/v1")
	if code != exitOK || strings.Contains(out, "\x1b") || !strings.Contains(out, "get ← 200") {
		t.Fatalf("exit %d:\n%q", code, out)
	}
}
