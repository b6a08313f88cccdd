package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// runIn runs the CLI in this process with no environment.
func runIn(ctx context.Context, dir string, args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	code := run(ctx, host{getenv: func(string) string { return "" }, dir: dir}, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// Loading reads only regular files, within the size cap: a device, a
// directory or a named pipe is refused at once, as the document and as a
// source.
func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions:\n  - {name: api, url: ./pipe.yaml, type: openapi}\nworkflows:\n  - workflowId: w\n    steps:\n      - {stepId: s, operationId: op}\n"
	if err := os.WriteFile(filepath.Join(dir, "doc.arazzo.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "/dev/zero"}, exitUsage, "/dev/zero is not a regular file"},
		{[]string{"validate", "."}, exitUsage, ". is a directory"},
		{[]string{"validate", "pipe.yaml"}, exitUsage, "pipe.yaml is not a regular file"},
		{[]string{"validate", "doc.arazzo.yaml"}, exitFailed, "pipe.yaml is not a regular file"},
		{[]string{"run", "/dev/zero"}, exitUsage, "/dev/zero is not a regular file"},
	} {
		done := make(chan struct{})
		var code int
		var out, errOut string
		go func() {
			code, out, errOut = runIn(context.Background(), dir, tc.args...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v hangs", tc.args)
		}
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}

// Ctrl-C while a remote source loads is an interruption (130), not an
// invalid document (2).
func TestInterruptWhileLoadingExits130(t *testing.T) {
	var cancelNow atomic.Pointer[context.CancelFunc]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*cancelNow.Load())() // the user presses Ctrl-C while the description downloads
		<-r.Context().Done()
	}))
	defer srv.Close()
	dir := t.TempDir()
	doc := "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nsourceDescriptions:\n  - {name: api, url: " + srv.URL + "/api.yaml, type: openapi}\nworkflows:\n  - workflowId: w\n    steps:\n      - {stepId: s, operationId: op}\n"
	os.WriteFile(filepath.Join(dir, "doc.arazzo.yaml"), []byte(doc), 0o644)
	for _, cmd := range []string{"validate", "run"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancelNow.Store(&cancel)
		code, out, errOut := runIn(ctx, dir, cmd, "doc.arazzo.yaml", "--allow-remote", "--allow-private")
		cancel()
		if code != exitInterrupted {
			t.Errorf("%s: exit %d, want 130:\n%s%s", cmd, code, out, errOut)
		}
	}
}
