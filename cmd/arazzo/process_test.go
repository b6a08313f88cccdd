package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/examples/emulators/emulatecli"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
	"github.com/arazzo-go/arazzo/examples/emulators/petstore"
	"github.com/arazzo-go/arazzo/examples/emulators/rabbitbroker"
)

// Most CLI tests are scripts run in this process (script_test.go). The
// tests here send a real signal, so they need a real process: this test
// binary, started again with beCLI set, is the CLI (no go build).
const beCLI = "ARAZZO_TEST_BE_CLI"

// testCompanion is the path of the companion the tests run (TestMain).
var testCompanion string

func TestMain(m *testing.M) {
	// Started under the companion's name, this binary is the companion
	// (as testscript.RunMain does it), whatever the environment says.
	if filepath.Base(os.Args[0]) == companionName {
		os.Exit(emulatecli.Run())
	}
	if os.Getenv(beCLI) != "" {
		main()
	}
	// The companion for every test, the CLI's processes and scripts: a
	// link named arazzo-emulate to this binary, found through $ARAZZO_EMULATE.
	companionDir, err := os.MkdirTemp("", "arazzo-test-")
	if err != nil {
		panic(err)
	}
	self, err := os.Executable()
	if err == nil {
		err = os.Symlink(self, filepath.Join(companionDir, companionName))
	}
	if err != nil {
		panic(err)
	}
	testCompanion = filepath.Join(companionDir, companionName)
	os.Setenv(companionEnv, testCompanion)
	// The AWS SDK reads the process environment and ~/.aws itself: leave it
	// nothing there, so that a developer's credentials or profile cannot
	// change a test. Scripts give theirs to the CLI through host.getenv.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// Nor a schema cache in the developer's home (schema_cache.txtar tests it).
	os.Setenv("ARAZZO_CACHE", "off")
	code := m.Run()
	rabbit.Close() // the scripts' RabbitMQ, if one started it
	os.RemoveAll(companionDir)
	os.Exit(code)
}

// startCLI starts the CLI as a process and returns its stdout.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beCLI+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, bufio.NewReader(stdout)
}

func TestRunInterruptExits130(t *testing.T) {
	srv := httptest.NewServer(itemHandler())
	defer srv.Close()
	cmd, r := startCLI(t, "run", "testdata/cli.arazzo.yaml", "--workflow", "poll", "--server", "api="+srv.URL+"/v1", "--poll-interval", "50ms")
	// Interrupt once the run is under way (the signal handler is set by then).
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
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v", err)
	}
	if !strings.Contains(out.String(), "poll: failed") || !strings.Contains(out.String(), "cancelled") {
		t.Fatalf("an interrupted run still reports what it did:\n%s", out.String())
	}
}

// arazzo emulate serves the seed until SIGINT, then stops cleanly.
func TestEmulateServesTheSeed(t *testing.T) {
	cmd, r := startCLI(t, "emulate", "healthlake", "--addr", "127.0.0.1:0", "--polls", "2")
	first, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "HealthLake emulator listening on ")
	if !ok {
		t.Fatalf("unexpected banner %q", first)
	}
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": healthlake.TestAccessKeyID, "AWS_SECRET_ACCESS_KEY": healthlake.TestSecretAccessKey}
	var stdout, stderr strings.Builder
	code := run(t.Context(), host{getenv: func(k string) string { return env[k] }}, []string{"run", seedDoc, "--inputs", "../../examples/healthlake-export.inputs.json",
		"--server", "healthlakeApi=" + url, "--poll-interval", "0", "--output", "json"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `"jobStatus": "COMPLETED"`) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the emulator stops cleanly on SIGINT: %v", err)
	}
}

// arazzo emulate kafka serves the pet purchase example's broker, order
// service and pet store until SIGINT; the example runs against them with
// --server.
func TestEmulateKafkaServesThePetExample(t *testing.T) {
	cmd, r := startCLI(t, "emulate", "kafka", "--addr", "127.0.0.1:0", "--petstore", "127.0.0.1:0")
	var kafkaURL, storeURL string
	for storeURL == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("banner: %v (kafka %q)", err, kafkaURL)
		}
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "Kafka broker listening on "); ok {
			kafkaURL = u
		}
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "pet store listening on "); ok {
			storeURL, _, _ = strings.Cut(u, " ")
		}
	}
	// arazzo delegates to its companion, which serves the brokers.
	companions := children(t, cmd.Process.Pid, companionName)
	if len(companions) != 1 {
		t.Fatalf("arazzo emulate kafka runs one %s, not %v", companionName, companions)
	}
	runPetExampleThenStop(t, cmd, kafkaURL, storeURL)
	// SIGINT was passed on and arazzo waited: nothing is left.
	if stillRuns(companions[0]) {
		t.Fatalf("the companion (pid %d) outlived arazzo", companions[0])
	}
	for _, u := range []string{kafkaURL, storeURL} {
		if c, err := net.Dial("tcp", u[strings.Index(u, "//")+2:]); err == nil {
			c.Close()
			t.Fatalf("%s still listens after arazzo emulate stopped", u)
		}
	}
}

// arazzo emulate nats and mqtt serve the order service on their broker;
// the example's AsyncAPI source is pointed at it by --server.
func TestEmulateBrokersServeThePetExample(t *testing.T) {
	store := httptest.NewServer(petstore.NewStore())
	defer store.Close()
	for name, banner := range map[string]string{"nats": "NATS server listening on ", "mqtt": "MQTT broker listening on "} {
		t.Run(name, func(t *testing.T) {
			cmd, r := startCLI(t, "emulate", name, "--addr", "127.0.0.1:0")
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			brokerURL, ok := strings.CutPrefix(strings.TrimSpace(line), banner)
			if !ok {
				t.Fatalf("unexpected banner %q", line)
			}
			runPetExampleThenStop(t, cmd, brokerURL, store.URL)
		})
	}
}

// arazzo emulate amqp starts a RabbitMQ (skipped without rabbitmq-server
// unless ARAZZO_REQUIRE_BROKERS=1) with the order service on it; the pet
// purchase example runs against it with --server, and SIGINT stops the
// broker and leaves nothing listening.
func TestEmulateAMQPServesThePetExample(t *testing.T) {
	if _, err := rabbitbroker.ServerPath(); err != nil {
		(&rabbitbroker.Shared{}).Get(t) // skips, or fails when brokers are required
	}
	store := httptest.NewServer(petstore.NewStore())
	defer store.Close()
	cmd, r := startCLI(t, "emulate", "amqp", "--addr", "127.0.0.1:0")
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RabbitMQ listening on ")
	if !ok {
		t.Fatalf("unexpected banner %q", line)
	}
	brokerURL, _, _ := strings.Cut(rest, " ")
	if line, err = r.ReadString('\n'); err != nil || !strings.Contains(line, "order service") {
		t.Fatalf("%q %v", line, err)
	}
	runPetExampleThenStop(t, cmd, brokerURL, store.URL)
	if c, err := net.Dial("tcp", strings.TrimPrefix(brokerURL, "amqp://")); err == nil {
		c.Close()
		t.Fatalf("RabbitMQ still listens on %s after the emulator stopped", brokerURL)
	}
}

// runPetExampleThenStop runs the pet purchase example against an
// emulator's broker and a pet store, then stops the emulator with SIGINT.
func runPetExampleThenStop(t *testing.T, emulator *exec.Cmd, brokerURL, storeURL string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(t.Context(), host{getenv: func(string) string { return "" }}, []string{"run", "../../examples/pet-purchase/pet-purchase.arazzo.yaml",
		"--server", "asyncOrderApiDescription=" + brokerURL, "--server", "petStoreDescription=" + storeURL, "--output", "json"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `"orderId": 1007`) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	emulator.Process.Signal(syscall.SIGINT)
	if err := emulator.Wait(); err != nil {
		t.Fatalf("the emulator stops cleanly on SIGINT: %v", err)
	}
}

// SIGTERM (CI cancellation, timeout, docker stop) stops the run like
// SIGINT: the reports are finished, valid and complete, and the exit code
// is 143.
func TestRunTerminateFinishesReports(t *testing.T) {
	srv := httptest.NewServer(itemHandler())
	defer srv.Close()
	dir := t.TempDir()
	har, junit := filepath.Join(dir, "run.har"), filepath.Join(dir, "report.xml")
	cmd, r := startCLI(t, "run", "testdata/cli.arazzo.yaml", "--workflow", "poll", "--server", "api="+srv.URL+"/v1",
		"--poll-interval", "50ms", "--trace", har, "--junit", junit)
	var out strings.Builder
	for !strings.Contains(out.String(), "check #2") {
		line, err := r.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			t.Fatalf("the run ended early:\n%s", out.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	io.Copy(io.Discard, r)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("want exit 143, got %v", err)
	}
	data, err := os.ReadFile(har)
	var doc struct {
		Log struct{ Entries []json.RawMessage }
	}
	if err != nil || json.Unmarshal(data, &doc) != nil || len(doc.Log.Entries) < 2 {
		t.Fatalf("the HAR is valid JSON with the exchanges made: %v\n%s", err, data)
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), `<testcase name="poll"`) || !strings.Contains(string(x), "cancelled") {
		t.Fatalf("the JUnit report is written: %v\n%s", err, x)
	}
}

// A second signal does not wait for the run to wind down.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	codes := make(chan int, 1)
	ctx, code := onSignals(context.Background(), func(c int) { codes <- c })
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the run")
	}
	if code() != 143 {
		t.Fatalf("exit code %d after SIGTERM", code())
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case c := <-codes:
		if c != 130 {
			t.Fatalf("second signal SIGINT exits %d", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit")
	}
}
