package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eventKinds parses a JSON-lines event log, every line, and returns the
// kinds in order.
func eventKinds(t *testing.T, log string) []string {
	t.Helper()
	var kinds []string
	for i, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		var e struct {
			Kind string `json:"kind"`
			Time string `json:"time"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Kind == "" || e.Time == "" {
			t.Fatalf("line %d is not an event (%v): %q", i+1, err, line)
		}
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func TestRunEvents(t *testing.T) {
	ts, _ := itemServer(t)
	file := filepath.Join(t.TempDir(), "events.jsonl")
	common := []string{"run", cliDoc, "--workflow", "fetch", "--input", "id=404", "--server", "api=" + ts.URL + "/v1"}

	r := runCLI(t, "", append(common, "--events", file)...)
	data, err := os.ReadFile(file)
	if r.code != 1 || err != nil || !strings.Contains(r.stdout, "fetch: failed") {
		t.Fatalf("--events FILE leaves the text output as it is: %d %v\n%s", r.code, err, r.stdout)
	}
	kinds := eventKinds(t, string(data))
	if kinds[0] != "run.started" || kinds[len(kinds)-1] != "run.finished" || !strings.Contains(string(data), `"statusCode":404`) {
		t.Fatalf("the log holds the whole run: %v\n%s", kinds, data)
	}

	r = runCLI(t, "", append(common, "--events", "-")...)
	if r.code != 1 || !strings.Contains(r.stderr, "status 404") {
		t.Fatalf("--events -: %d\n%s", r.code, r.stderr)
	}
	if got := eventKinds(t, r.stdout); strings.Join(got, " ") != strings.Join(kinds, " ") {
		t.Fatalf("--events - makes stdout the event stream alone:\n%s", r.stdout)
	}

	if r = runCLI(t, "", append(common, "--events", "-", "--output", "json")...); r.code != 2 || !strings.Contains(r.stderr, "--events") {
		t.Fatalf("--events - and --output json both want stdout: %d %s", r.code, r.stderr)
	}
	if r = runCLI(t, "", append(common, "--events", filepath.Join(t.TempDir(), "no", "such", "dir"))...); r.code != 2 || !strings.Contains(r.stderr, "--events") {
		t.Fatalf("an unwritable --events file is a usage error: %d %s", r.code, r.stderr)
	}
}

// Secret inputs are masked in the event log as everywhere else.
func TestRunEventsMaskSecrets(t *testing.T) {
	const key, pass = "CANARY-KEY-91c3e0", "CANARY-PASS-5a7d22"
	srv, _ := secureServer(t)
	r := runCLI(t, "", "run", cliDoc, "--workflow", "secure", "--input", "apiKey="+key, "--input", "passphrase="+pass,
		"--server", "api="+srv.URL+"/v1", "--events", "-")
	if r.code != 1 || !strings.Contains(r.stdout, `"X-Api-Key":["****"]`) {
		t.Fatalf("the run did not go as planned: %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, key) || strings.Contains(r.stdout, pass) {
		t.Fatalf("the event log leaks a secret:\n%s", r.stdout)
	}
}
