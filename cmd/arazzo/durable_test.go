package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine/store/boltstore"
)

var soak = flag.Int("durable.soak", 0, "kill/resume iterations of TestDurableKillResume (default 20, 4 with -race, whose processes start slowly; raise for a soak)")

// jobServer is a long job behind a POST that starts it and a GET that
// polls it: it counts start calls, deduplicates starts by Idempotency-Key,
// requires the bearer token, and completes a job after need polls.
type jobServer struct {
	need, token string
	needPolls   int
	mu          sync.Mutex
	starts      int // POST /jobs received
	jobs        map[string]*serverJob
	byKey       map[string]string
	polled      chan struct{} // closed at the first poll
	// block, when set, holds every start call until closed; arrived is
	// closed when the first one comes.
	block, arrived chan struct{}
}

type serverJob struct {
	name  string
	polls int
}

func newJobServer(t *testing.T, polls int) (*jobServer, string) {
	js := &jobServer{token: "tok-s3cret-9d2f", needPolls: polls, jobs: map[string]*serverJob{}, byKey: map[string]string{}, polled: make(chan struct{})}
	srv := httptest.NewServer(js)
	t.Cleanup(srv.Close)
	return js, srv.URL + "/v1"
}

func (js *jobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+js.token {
		http.Error(w, `{"message":"bad token"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/jobs":
		js.mu.Lock()
		js.starts++
		block, arrived := js.block, js.arrived
		if arrived != nil && js.starts == 1 {
			close(arrived)
		}
		js.mu.Unlock()
		var body struct{ Name string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Name == "" {
			http.Error(w, `{"message":"name required"}`, http.StatusBadRequest)
			return
		}
		if block != nil {
			<-block // the job is created, but the client may be gone
		}
		js.mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		id, seen := js.byKey[key]
		if !seen || key == "" {
			id = fmt.Sprintf("job-%d", len(js.jobs)+1)
			js.jobs[id] = &serverJob{name: body.Name}
			if key != "" {
				js.byKey[key] = id
			}
		}
		js.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"jobId":%q}`, id)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/jobs/"):
		js.mu.Lock()
		j := js.jobs[strings.TrimPrefix(r.URL.Path, "/v1/jobs/")]
		if j == nil {
			js.mu.Unlock()
			http.Error(w, `{"message":"no such job"}`, http.StatusNotFound)
			return
		}
		j.polls++
		n := j.polls
		if n == 1 {
			close(js.polled)
		}
		js.mu.Unlock()
		// A little time in flight, so that kills land inside requests too.
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		if n < js.needPolls {
			fmt.Fprintf(w, `{"status":"RUNNING","polls":%d}`, n)
			return
		}
		fmt.Fprintf(w, `{"status":"COMPLETED","polls":%d,"result":"export of %s"}`, n, j.name)
	default:
		http.NotFound(w, r)
	}
}

func (js *jobServer) counts() (starts, jobs int) {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.starts, len(js.jobs)
}

// cli runs the CLI as a process to its end.
func cli(args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beCLI+"=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return o.String(), e.String(), code
}

// startKill starts the CLI as a process and SIGKILLs it after wait (or
// when ready is closed and then wait): it reports whether the process had
// ended on its own by then.
func startKill(t *testing.T, ready <-chan struct{}, wait time.Duration, args ...string) (ended bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beCLI+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if ready != nil {
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("the run ended before it was ready to be killed (%v):\n%s", err, out.String())
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the run failed: %v\n%s", err, out.String())
		}
		return true
	case <-time.After(wait):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return false
}

type storedRun struct {
	ID       string
	State    string
	Position string
	Outputs  map[string]any
}

// storedRuns reads the state file as arazzo runs lists it (in this
// process: one process fewer per check).
func storedRuns(t *testing.T, file string) []storedRun {
	t.Helper()
	store, err := boltstore.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	all, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listRuns(&out, all, "json"); err != nil {
		t.Fatal(err)
	}
	var runs []storedRun
	if err := json.Unmarshal(out.Bytes(), &runs); err != nil {
		t.Fatal(err)
	}
	return runs
}

// The hard way: a real process is killed with SIGKILL at random points of
// a long poll (and resumed runs are killed again), then resumed to the
// end: the job is started exactly once, and the outputs are the job's.
func TestDurableKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const polls = 12
	if *soak == 0 {
		*soak = 20
		if raceEnabled {
			*soak = 4
		}
	}
	stopped := map[string]int{} // where the kills left the runs
	defer func() { t.Logf("%d iterations; runs left stopped at: %v", *soak, stopped) }()
	for i := range *soak {
		js, url := newJobServer(t, polls)
		state := filepath.Join(t.TempDir(), "run.state")
		name := fmt.Sprintf("n%d", i)
		auth := "apiToken=" + js.token
		startKill(t, js.polled, time.Duration(rand.IntN(40))*time.Millisecond, "run", "testdata/durable.arazzo.yaml", "--state", state,
			"--server", "jobs="+url, "--poll-interval", "3ms", "--input", "name="+name, "--input", auth, "-q")
		// Resumed runs are killed again, at random, before the last one.
		for range rand.IntN(3) {
			if startKill(t, nil, time.Duration(rand.IntN(40))*time.Millisecond, "resume", state, "--input", auth, "-q") {
				break
			}
		}
		runs := storedRuns(t, state)
		if len(runs) != 1 {
			t.Fatalf("iteration %d: want one stored run, got %+v", i, runs)
		}
		stopped[runs[0].State+" "+runs[0].Position]++
		if runs[0].State == "stopped" {
			if out, errOut, code := cli("resume", state, "--input", auth, "-q"); code != 0 {
				t.Fatalf("iteration %d: resume: exit %d\n%s%s", i, code, out, errOut)
			}
			runs = storedRuns(t, state)
		}
		starts, jobs := js.counts()
		o := runs[0].Outputs
		if runs[0].State != "succeeded" || starts != 1 || jobs != 1 || o["jobId"] != "job-1" || o["status"] != "COMPLETED" ||
			o["result"] != "export of "+name || o["polls"].(float64) < polls {
			t.Fatalf("iteration %d: state %s, %d start calls, %d jobs, outputs %v", i, runs[0].State, starts, jobs, o)
		}
		data, _ := os.ReadFile(state)
		if bytes.Contains(data, []byte(js.token)) {
			t.Fatalf("iteration %d: the secret input is in the state file", i)
		}
	}
}

// A POST whose response was never recorded is not sent again on resume
// unless --resend says so; with a client token (Idempotency-Key) it is,
// and the server's deduplication keeps it one job.
func TestDurableResendOnlyWhenSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, token := range []bool{false, true} {
		t.Run(fmt.Sprint("token=", token), func(t *testing.T) {
			js, url := newJobServer(t, 3)
			block, arrived := make(chan struct{}), make(chan struct{})
			js.mu.Lock()
			js.block, js.arrived = block, arrived
			js.mu.Unlock()
			state := filepath.Join(t.TempDir(), "run.state")
			auth := "apiToken=" + js.token
			args := []string{"run", "testdata/durable.arazzo.yaml", "--state", state, "--server", "jobs=" + url,
				"--poll-interval", "0", "--input", "name=x", "--input", auth}
			if token {
				args = append(args, "--input", "idempotencyKey=k-1")
			}
			startKill(t, arrived, 0, args...)
			close(block)
			// Secret inputs are not recorded: resume asks for them again.
			if _, errOut, code := cli("resume", state); code != 2 || !strings.Contains(errOut, "the secret inputs apiToken were not recorded: give them again") {
				t.Fatalf("want exit 2 asking for apiToken, got %d:\n%s", code, errOut)
			}
			if !token {
				_, errOut, code := cli("resume", state, "--input", auth)
				if code != 1 || !strings.Contains(errOut, "step start: its POST") || !strings.Contains(errOut, "arazzo resume --resend") {
					t.Fatalf("want exit 1 naming the step and --resend, got %d:\n%s", code, errOut)
				}
				if starts, _ := js.counts(); starts != 1 {
					t.Fatalf("the start was sent again: %d calls", starts)
				}
				if runs := storedRuns(t, state); runs[0].State != "stopped" {
					t.Fatalf("the run stays resumable, got %+v", runs)
				}
			}
			resume := []string{"resume", state, "--input", auth, "--output", "json"}
			if !token {
				resume = append(resume, "--resend")
			}
			out, errOut, code := cli(resume...)
			starts, jobs := js.counts()
			if code != 0 || !strings.Contains(out, `"result": "export of x"`) || starts != 2 || jobs != 1+btoi(!token) {
				t.Fatalf("exit %d, %d start calls, %d jobs\n%s%s", code, starts, jobs, out, errOut)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
