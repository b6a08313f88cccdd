package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestDescribeAndGraph(t *testing.T) {
	r := runCLI(t, "", "describe", seedDoc)
	for _, want := range []string{"workflow start-export-poll-and-list", "DatastoreId          string, required", "2. pollExportJob", "outputs: jobId, jobStatus, exportJobPropertiesList"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("describe lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "", "describe", cliDoc, "--workflow", "fetch", "--output", "json")
	var infos []workflowInfo
	if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil || len(infos) != 1 || infos[0].Inputs[0].Name != "id" || !infos[0].Inputs[0].Required || infos[0].Steps[0].Method != "GET" {
		t.Fatalf("describe json: %v %s", err, r.stdout)
	}
	if r = runCLI(t, "", "describe", cliDoc, "--workflow", "nope"); r.code != 2 || !strings.Contains(r.stderr, "fetch, poll, secure") {
		t.Fatalf("an unknown workflow lists the valid ones: %d %s", r.code, r.stderr)
	}
	for _, format := range []string{"mermaid", "dot"} {
		r = runCLI(t, "", "graph", seedDoc, "--format", format)
		checkGolden(t, filepath.Join("testdata", "seed."+format), r.stdout)
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(path, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("%s differs (UPDATE_GOLDEN=1 to rewrite):\n%s", path, got)
	}
}

func TestValidateCIFormats(t *testing.T) {
	broken := "../../engine/testdata/invalid/duplicate-parameter.arazzo.yaml"
	r := runCLI(t, "", "validate", "--format", "github", broken)
	if r.code != 1 || !strings.Contains(r.stdout, "::error file=../../engine/testdata/invalid/duplicate-parameter.arazzo.yaml,line=19,col=17,title=arazzo duplicate-parameter::") ||
		!strings.Contains(r.stdout, "::warning file=") {
		t.Fatalf("github annotations: %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, "", "validate", "--format", "sarif", broken)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || r.code != 1 {
		t.Fatalf("sarif: %v %d", err, r.code)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || run.Tool.Driver.Name != "arazzo" || len(run.Results) != 2 || len(run.Tool.Driver.Rules) != 2 {
		t.Fatalf("sarif shape: %+v", log)
	}
	res := run.Results[1]
	loc := res.Locations[0].PhysicalLocation
	if res.RuleID != "duplicate-parameter" || res.Level != "error" || res.Message.Text == "" || loc.Region.StartLine != 19 || loc.Region.StartColumn != 17 || !strings.HasSuffix(loc.ArtifactLocation.URI, "duplicate-parameter.arazzo.yaml") {
		t.Fatalf("sarif result: %+v", res)
	}
}

func secureServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		// Echo what was sent, as careless APIs do in their errors.
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]any{"message": "bad key " + r.Header.Get("X-Api-Key"), "got": string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Secret inputs (by name, by format: password) are masked in every output.
func TestCanaryInputsMaskedEverywhere(t *testing.T) {
	const key, pass = "CANARY-KEY-4d2f9a", "CANARY-PASS-0b7e31"
	srv, _ := secureServer(t)
	dir := t.TempDir()
	har, junit := filepath.Join(dir, "t.har"), filepath.Join(dir, "j.xml")
	common := []string{"run", cliDoc, "--workflow", "secure", "--input", "apiKey=" + key, "--input", "passphrase=" + pass, "--server", "api=" + srv.URL + "/v1"}
	var outs []string
	for _, extra := range [][]string{{"--output", "json"}, {"--verbose"}, {"--trace", har, "--junit", junit}, {"--dry-run"}, {"--dry-run", "--output", "json"}} {
		r := runCLI(t, "", append(common, extra...)...)
		outs = append(outs, r.stdout, r.stderr)
	}
	for _, f := range []string{har, junit} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	if !strings.Contains(outs[2], "X-Api-Key: ****") || !strings.Contains(outs[0], `"statusCode": 401`) {
		t.Fatalf("the runs did not go as planned:\n%s\n%s", outs[0], outs[2])
	}
	for i, o := range outs {
		if strings.Contains(o, key) || strings.Contains(o, pass) {
			t.Fatalf("output %d leaks a secret:\n%s", i, o)
		}
	}
}

func TestRunReportsTraceAndQuiet(t *testing.T) {
	ts, _ := itemServer(t)
	dir := t.TempDir()
	har, junit := filepath.Join(dir, "run.har"), filepath.Join(dir, "report.xml")
	r := runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--input", "id=404", "--server", "api="+ts.URL+"/v1", "--trace", har, "--junit", junit, "--quiet")
	if r.code != 1 || strings.Contains(r.stdout, "→") || !strings.Contains(r.stdout, "fetch: failed") {
		t.Fatalf("--quiet prints only the result: %d\n%s", r.code, r.stdout)
	}
	var h struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				Request struct {
					Method, URL string
				} `json:"request"`
				Response struct {
					Status  int `json:"status"`
					Content struct{ Text string }
				} `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	data, _ := os.ReadFile(har)
	if err := json.Unmarshal(data, &h); err != nil || h.Log.Version != "1.2" || len(h.Log.Entries) != 1 {
		t.Fatalf("HAR: %v\n%s", err, data)
	}
	if e := h.Log.Entries[0]; e.Request.Method != "GET" || !strings.HasSuffix(e.Request.URL, "/v1/items/404") || e.Response.Status != 404 || !strings.Contains(e.Response.Content.Text, "does not exist") {
		t.Fatalf("HAR entry %+v", e)
	}
	var j struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(data, &j); err != nil || j.Tests != 1 || j.Failures != 1 {
		t.Fatalf("JUnit: %v\n%s", err, data)
	}
	c := j.Suites[0].Cases[0]
	if c.Name != "fetch" || c.Failure == nil || c.Failure.Type != "step get" || !strings.Contains(c.Failure.Text, "status: 404") || !strings.Contains(c.Failure.Text, "does not exist") {
		t.Fatalf("JUnit case %+v", c)
	}
}

func TestRunAll(t *testing.T) {
	ts, _ := itemServer(t)
	inputs := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(inputs, []byte(`{"fetch": {"id": 3}, "secure": {"apiKey": "k-1234", "passphrase": "p-1234"}}`), 0o644)
	r := runCLI(t, "", "run", "--all", cliDoc, "--inputs", inputs, "--server", "api="+ts.URL+"/v1", "--poll-interval", "0", "--max-steps", "3")
	// fetch succeeds; poll loops into the guard; secure gets a 404 from this server.
	if r.code != 1 {
		t.Fatalf("any failure exits 1: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"WORKFLOW", "fetch                            succeeded", "poll                             failed", "secure                           failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "", "run", "--all", cliDoc, "--inputs", inputs, "--server", "api="+ts.URL+"/v1", "--poll-interval", "0", "--max-steps", "3", "--output", "json")
	var results []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil || len(results) != 3 {
		t.Fatalf("--all --output json is an array of results: %v\n%s", err, r.stdout)
	}
	if r = runCLI(t, "", "run", "--all", cliDoc, "--workflow", "fetch"); r.code != 2 {
		t.Fatal("--all and --workflow do not mix")
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	srv, hits := secureServer(t)
	r := runCLI(t, "", "run", seedDoc, "--inputs", seedInputs, "--server", "healthlakeApi="+srv.URL, "--dry-run", "--emulate", "")
	if r.code != 0 || hits.Load() != 0 {
		t.Fatalf("dry run: %d hits %d\n%s\n%s", r.code, hits.Load(), r.stdout, r.stderr)
	}
	for _, want := range []string{"pollExportJob:", `"JobId":"<$steps.startExportJob.outputs.jobId>"`, "X-Amz-Target: HealthLake.DescribeFHIRExportJob", "?MaxResults=10"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if r = runCLI(t, "", "run", cliDoc, "--workflow", "fetch", "--dry-run"); r.code != 2 || !strings.Contains(r.stderr, "input id is required") {
		t.Fatalf("dry run still checks inputs: %d %s", r.code, r.stderr)
	}
}

func TestServerVariables(t *testing.T) {
	// The seed's server is https://healthlake.{region}.amazonaws.com: a dry
	// run shows the region chosen by --server-var.
	r := runCLIEnv(t, awsEnv(t, "AKIAX", "x", ""), "run", seedDoc, "--inputs", seedInputs, "--dry-run", "--server-var", "healthlakeApi.region=eu-west-2")
	if r.code != 0 || !strings.Contains(r.stdout, "POST https://healthlake.eu-west-2.amazonaws.com/") {
		t.Fatalf("%d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLIEnv(t, awsEnv(t, "AKIAX", "x", ""), "run", seedDoc, "--inputs", seedInputs, "--dry-run", "--region", "ap-south-1")
	if r.code != 0 || !strings.Contains(r.stdout, "POST https://healthlake.ap-south-1.amazonaws.com/") {
		t.Fatalf("--region fills the region variable: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r = runCLI(t, "", "run", seedDoc, "--server-var", "=x"); r.code != 2 {
		t.Fatal("a malformed --server-var is a usage error")
	}
}
