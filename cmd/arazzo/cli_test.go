package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

// The CLI is tested as users run it: the built binary, its stdout, stderr
// and exit code.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arazzo-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "arazzo")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the CLI: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliResult struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return runCLIWith(t, nil, stdin, args...)
}

// runCLIWith runs the binary with env (nil: this process's) and stdin.
func runCLIWith(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{out.String(), errb.String(), code}
}

// itemServer serves GET /v1/items/{id}; id 404 is missing.
func itemServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/items/404":
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"item 404 does not exist"}`)
		case "/v1/status":
			fmt.Fprint(w, `{"status":"running"}`)
		default:
			id := strings.TrimPrefix(r.URL.Path, "/v1/items/")
			fmt.Fprintf(w, `{"id": %s, "name": "item-%s"}`, id, id)
		}
	}))
	t.Cleanup(ts.Close)
	return ts, &hits
}

const cliDoc = "testdata/cli.arazzo.yaml"

func TestValidateExitCodesAndFormats(t *testing.T) {
	r := runCLI(t, "", "validate", "../../workflows/amazon-healthlake-export.arazzo.yaml")
	if r.code != 0 || strings.Contains(r.stdout, "error") {
		t.Fatalf("the seed validates: %d %s %s", r.code, r.stdout, r.stderr)
	}
	broken := "../../engine/testdata/invalid/goto-unknown-step.arazzo.yaml"
	r = runCLI(t, "", "validate", cliDoc, broken)
	if r.code != 1 || !strings.Contains(r.stdout, "goto-unknown-step.arazzo.yaml:18:19: error: ") || !strings.Contains(r.stdout, "[action-target]") {
		t.Fatalf("errors exit 1 with file:line:col: %d %q", r.code, r.stdout)
	}
	r = runCLI(t, "", "validate", "--format", "json", broken)
	var diags []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &diags); err != nil || r.code != 1 || len(diags) == 0 {
		t.Fatalf("json output: %v %d %s", err, r.code, r.stdout)
	}
	for _, k := range []string{"file", "line", "column", "severity", "rule", "message"} {
		if _, ok := diags[0][k]; !ok {
			t.Fatalf("json diagnostic lacks %s: %v", k, diags[0])
		}
	}
	if diags[0]["severity"] != "error" {
		t.Fatalf("severity is a word: %v", diags[0]["severity"])
	}
	r = runCLI(t, "", "validate", "--format", "json", cliDoc)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("a clean file gives an empty array: %d %q", r.code, r.stdout)
	}
	if r = runCLI(t, "", "validate", "no-such-file.yaml"); r.code != 2 {
		t.Fatalf("an unreadable file exits 2, got %d", r.code)
	}
	if r = runCLI(t, "", "validate"); r.code != 2 {
		t.Fatalf("no file is a usage error, got %d", r.code)
	}
	if r = runCLI(t, "", "validate", "--bogus", cliDoc); r.code != 2 {
		t.Fatalf("an unknown flag is a usage error, got %d", r.code)
	}
}

func TestRunJSONContract(t *testing.T) {
	ts, _ := itemServer(t)
	r := runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--input", "id=9007199254740993", "--input", "label=x",
		"--server", "api="+ts.URL+"/v1", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	var res struct {
		WorkflowID string         `json:"workflowId"`
		Status     string         `json:"status"`
		Outputs    map[string]any `json:"outputs"`
		Steps      []struct {
			StepID     string `json:"stepId"`
			Runs       int    `json:"runs"`
			StatusCode int    `json:"statusCode"`
			Outcome    string `json:"outcome"`
		} `json:"steps"`
		Error any `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is one JSON document: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Fatal("stdout holds exactly one JSON document")
	}
	if res.WorkflowID != "fetch" || res.Status != "succeeded" || res.Error != nil {
		t.Fatalf("result %+v", res)
	}
	if res.Outputs["id"] != json.Number("9007199254740993") || res.Outputs["name"] != "item-9007199254740993" || res.Outputs["label"] != "x" {
		t.Fatalf("outputs keep their JSON types: %v", res.Outputs)
	}
	if len(res.Steps) != 1 || res.Steps[0].StepID != "get" || res.Steps[0].Runs != 1 || res.Steps[0].StatusCode != 200 || res.Steps[0].Outcome != "succeeded" {
		t.Fatalf("steps %+v", res.Steps)
	}
}

func TestRunFailureReportsStepAttemptStatusBody(t *testing.T) {
	ts, _ := itemServer(t)
	r := runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--input", "id=404", "--server", "api="+ts.URL+"/v1", "--output", "json")
	if r.code != 1 {
		t.Fatalf("a failed workflow exits 1, got %d", r.code)
	}
	var res struct {
		Status string `json:"status"`
		Error  struct {
			StepID     string `json:"stepId"`
			Attempt    int    `json:"attempt"`
			StatusCode int    `json:"statusCode"`
			Message    string `json:"message"`
			Body       string `json:"body"`
		} `json:"error"`
		Steps []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	e := res.Error
	if res.Status != "failed" || e.StepID != "get" || e.Attempt != 1 || e.StatusCode != 404 || !strings.Contains(e.Body, "does not exist") || e.Message == "" {
		t.Fatalf("error %+v", res)
	}
	if len(res.Steps) != 1 {
		t.Fatal("a failed run still lists its steps")
	}
	r = runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--input", "id=404", "--server", "api="+ts.URL+"/v1")
	if r.code != 1 || !strings.Contains(r.stderr, "step get (attempt 1), status 404") {
		t.Fatalf("text mode says which step, attempt and status: %d %s", r.code, r.stderr)
	}
}

func TestRunInputsAndUsageErrors(t *testing.T) {
	ts, hits := itemServer(t)
	srv := "api=" + ts.URL + "/v1"
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"missing required input names it", "", []string{"--workflow", "fetch"}, 2, "input id is required (integer: the item to fetch)"},
		{"wrong type", "", []string{"--workflow", "fetch", "--input", "id=abc"}, 2, `--input id: "abc" is not a integer`},
		{"bad inputs file", "", []string{"--workflow", "fetch", "--inputs", "nope.json"}, 2, "--inputs"},
		{"stdin inputs not an object", "[1]", []string{"--workflow", "fetch", "--inputs", "-"}, 2, "not a JSON object"},
		{"several workflows need --workflow", "", nil, 2, "choose one with --workflow (fetch, poll, secure)"},
		{"unknown workflow lists the valid ones", "", []string{"--workflow", "nope"}, 2, "the document has: fetch, poll, secure"},
		{"unknown source in --server", "", []string{"--workflow", "fetch", "--input", "id=1", "--server", "other=http://x"}, 2, `source "other"`},
		{"bad poll interval", "", []string{"--workflow", "poll", "--poll-interval", "soon"}, 2, "--poll-interval"},
		{"bad output", "", []string{"--workflow", "fetch", "--input", "id=1", "--output", "yaml"}, 2, "--output"},
		{"invalid document", "", nil, 2, "not a valid Arazzo document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := cliDoc
			if tt.name == "invalid document" {
				doc = "../../engine/testdata/invalid/goto-unknown-step.arazzo.yaml"
			}
			args := append([]string{"run", doc, "--server", srv}, tt.args...)
			if tt.name == "unknown source in --server" {
				args = append([]string{"run", doc}, tt.args...)
			}
			before := hits.Load()
			r := runCLI(t, tt.stdin, args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if hits.Load() != before {
				t.Fatal("nothing may be sent when the command line or inputs are wrong")
			}
		})
	}
}

func TestRunInputsFileAndPrecedence(t *testing.T) {
	ts, _ := itemServer(t)
	file := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(file, []byte(`{"id": 5, "label": "from-file"}`), 0o644)
	r := runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--inputs", file, "--input", "label=from-flag", "--server", "api="+ts.URL+"/v1", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"label": "from-flag"`) || !strings.Contains(r.stdout, `"name": "item-5"`) {
		t.Fatalf("--input wins over --inputs: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, `{"id": 6}`, "run", cliDoc, "--workflow", "fetch", "--inputs", "-", "--server", "api="+ts.URL+"/v1", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "item-6"`) {
		t.Fatalf("--inputs - reads stdin: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestRunLoopGuardAndTimeout(t *testing.T) {
	ts, _ := itemServer(t)
	r := runCLI(t, "", "run", cliDoc, "--workflow", "poll", "--server", "api="+ts.URL+"/v1", "--poll-interval", "0", "--max-steps", "7", "--output", "json")
	if r.code != 1 || !strings.Contains(r.stdout, "step check keeps running") || !strings.Contains(r.stdout, `"runs": 7`) {
		t.Fatalf("loop guard: %d %s", r.code, r.stdout)
	}
	r = runCLI(t, "", "run", cliDoc, "--workflow", "poll", "--server", "api="+ts.URL+"/v1", "--poll-interval", "0.05", "--timeout", "300ms")
	if r.code != 1 || !strings.Contains(r.stderr, "timed out in step check") {
		t.Fatalf("timeout: %d %s", r.code, r.stderr)
	}
}

func TestRunInterruptExits130(t *testing.T) {
	ts, _ := itemServer(t)
	cmd := exec.Command(binary, "run", cliDoc, "--workflow", "poll", "--server", "api="+ts.URL+"/v1", "--poll-interval", "50ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the run is under way (the signal handler is set by then).
	r := bufio.NewReader(stdout)
	var out strings.Builder
	for !strings.Contains(out.String(), "check #2") {
		line, err := r.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			t.Fatalf("the run ended early:\n%s", out.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(r)
	out.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v", err)
	}
	if !strings.Contains(out.String(), "poll: failed") || !strings.Contains(out.String(), "cancelled") {
		t.Fatalf("an interrupted run still reports what it did:\n%s", out.String())
	}
}

func TestVersionAndHelp(t *testing.T) {
	if r := runCLI(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "arazzo ") {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
	for _, c := range []string{"run", "validate"} {
		if r := runCLI(t, "", c, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Fatalf("%s --help has examples: %q", c, r.stdout)
		}
	}
}

func awsEnv(t *testing.T, ak, sk, token string) []string {
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + ak, "AWS_SECRET_ACCESS_KEY=" + sk}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	return env
}

func runCLIEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	return runCLIWith(t, env, "", args...)
}

const seedDoc = "../../workflows/amazon-healthlake-export.arazzo.yaml"
const seedInputs = "../../examples/healthlake-export.inputs.json"

// The README's first command: the seed against the in-process emulator.
func TestMainCommandRunsTheSeedOnTheEmulator(t *testing.T) {
	r := runCLIEnv(t, awsEnv(t, "", "", ""), "run", seedDoc, "--emulate", "healthlake", "--inputs", seedInputs, "--poll-interval", "0")
	if r.code != 0 || !strings.Contains(r.stdout, `jobStatus: "COMPLETED"`) || !strings.Contains(r.stdout, "pollExportJob #2") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestWrongCredentialsExit1WithTheAWSError(t *testing.T) {
	srv := httptest.NewServer(healthlake.NewVerifying(healthlake.Config{}))
	defer srv.Close()
	r := runCLIEnv(t, awsEnv(t, "AKIAWRONGWRONGWRONG0", "wrong", ""), "run", seedDoc, "--inputs", seedInputs, "--server", "healthlakeApi="+srv.URL)
	if r.code != 1 || !strings.Contains(r.stderr, "step startExportJob (attempt 1), status 403") || !strings.Contains(r.stderr, "UnrecognizedClientException") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// No credential, signature or session token may appear in any output.
func TestCanarySecretsNeverAppear(t *testing.T) {
	const ak, secret, token = "ASIACANARY0000000001", "CANARY-SECRET-8f3a9c2e", "CANARY-TOKEN-71d0b4e6"
	srv := httptest.NewServer(healthlake.NewVerifying(healthlake.Config{Credentials: map[string]healthlake.Credential{ak: {Secret: secret, SessionToken: token}}}))
	defer srv.Close()
	good := awsEnv(t, ak, secret, token)
	bad := awsEnv(t, ak, secret+"x", token)
	var outputs []string
	for _, env := range [][]string{good, bad} {
		for _, format := range []string{"text", "json"} {
			r := runCLIEnv(t, env, "run", seedDoc, "--inputs", seedInputs, "--server", "healthlakeApi="+srv.URL, "--poll-interval", "0", "--output", format)
			outputs = append(outputs, r.stdout, r.stderr)
		}
	}
	if !strings.Contains(outputs[0], "COMPLETED") || !strings.Contains(outputs[5], "InvalidSignatureException") {
		t.Fatalf("the runs did not go as planned:\n%s\n%s", outputs[0], outputs[5])
	}
	for _, o := range outputs {
		for _, canary := range []string{secret, token, "Signature=", "AWS4-HMAC-SHA256"} {
			if strings.Contains(o, canary) {
				t.Fatalf("%q leaked:\n%s", canary, o)
			}
		}
	}
}

func TestEmulateServesTheSeed(t *testing.T) {
	cmd := exec.Command(binary, "emulate", "healthlake", "--addr", "127.0.0.1:0", "--polls", "2")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 4096)
	n, _ := stdout.Read(buf)
	first := strings.SplitN(string(buf[:n]), "\n", 2)[0]
	url, ok := strings.CutPrefix(first, "HealthLake emulator listening on ")
	if !ok {
		t.Fatalf("unexpected banner %q", first)
	}
	r := runCLIEnv(t, awsEnv(t, healthlake.TestAccessKeyID, healthlake.TestSecretAccessKey, ""), "run", seedDoc, "--inputs", seedInputs,
		"--server", "healthlakeApi="+url, "--poll-interval", "0", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"jobStatus": "COMPLETED"`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the emulator stops cleanly on SIGINT: %v", err)
	}
}
