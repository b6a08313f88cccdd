package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

const seedPath = "../workflows/amazon-healthlake-export.arazzo.yaml"

var seedInputs = map[string]any{
	"DatastoreId":       healthlake.DefaultDatastoreID,
	"OutputS3Uri":       "s3://bench-bucket/out/",
	"OutputKmsKeyId":    "alias/bench",
	"DataAccessRoleArn": "arn:aws:iam::123456789012:role/Bench",
	"MaxResults":        "10",
}

func loadSeed(b *testing.B) *engine.Plan {
	// As the CLI loads it: the source speaks AWS JSON, so MaxResults goes
	// in the body, where the emulator (like AWS) reads it.
	plan, diags := engine.LoadFile(context.Background(), seedPath, &source.Loader{}, engine.WithProtocols(awsjson.Detect))
	if plan == nil {
		b.Fatal(diags.Error())
	}
	return plan
}

// rawSeed makes the seed's calls with a plain net/http loop: the same
// requests, bodies encoded and responses decoded as JSON, the same status
// checks. It is the baseline the engine is measured against.
func rawSeed(client *http.Client, url, token string) (string, error) {
	call := func(target string, body map[string]any, query string) (map[string]any, error) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", url+"/"+query, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "HealthLake."+target)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d %s", target, resp.StatusCode, raw)
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var out map[string]any
		return out, d.Decode(&out)
	}
	in := seedInputs
	start, err := call("StartFHIRExportJob", map[string]any{
		"OutputDataConfig":  map[string]any{"S3Configuration": map[string]any{"S3Uri": in["OutputS3Uri"], "KmsKeyId": in["OutputKmsKeyId"]}},
		"DatastoreId":       in["DatastoreId"],
		"DataAccessRoleArn": in["DataAccessRoleArn"],
		"ClientToken":       token,
	}, "")
	if err != nil {
		return "", err
	}
	for {
		d, err := call("DescribeFHIRExportJob", map[string]any{"DatastoreId": in["DatastoreId"], "JobId": start["JobId"]}, "")
		if err != nil {
			return "", err
		}
		st := d["ExportJobProperties"].(map[string]any)["JobStatus"]
		if st == "COMPLETED" {
			break
		}
		if st != "SUBMITTED" && st != "IN_PROGRESS" {
			return "", fmt.Errorf("status %v", st)
		}
	}
	if _, err := call("ListFHIRExportJobs", map[string]any{"DatastoreId": in["DatastoreId"], "MaxResults": 10}, ""); err != nil {
		return "", err
	}
	return "COMPLETED", nil
}

func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// BenchmarkSeedVsRawLoop runs the seed (start → poll ×N → list) through the
// engine and through rawSeed against the same loopback emulator, in the
// same iterations, and reports both and their ratio. Signing is off on
// both sides: this measures the interpreter, not SHA-256.
func BenchmarkSeedVsRawLoop(b *testing.B) {
	for _, polls := range []int{200, 2000} {
		b.Run(fmt.Sprintf("polls=%d", polls), func(b *testing.B) {
			emu := healthlake.New(healthlake.Config{PollsToComplete: polls})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			plan := loadSeed(b)
			opts := &engine.Options{Caller: client, Servers: map[string]string{"healthlakeApi": srv.URL}, PollInterval: -1, MaxSteps: polls + 10}
			var engineTime, rawTime time.Duration
			var engineBytes, rawBytes uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				token := fmt.Sprintf("bench-%d-%d", polls, i)
				in := map[string]any{"ClientToken": token}
				for k, v := range seedInputs {
					in[k] = v
				}
				a0, t0 := allocated(), time.Now()
				res, err := plan.Run(context.Background(), "start-export-poll-and-list", in, opts)
				engineTime += time.Since(t0)
				engineBytes += allocated() - a0
				if err != nil || res.Outputs["jobStatus"] != "COMPLETED" {
					b.Fatalf("engine: %v %v", err, res)
				}
				a0, t0 = allocated(), time.Now()
				st, err := rawSeed(client, srv.URL, token+"-raw")
				rawTime += time.Since(t0)
				rawBytes += allocated() - a0
				if err != nil || st != "COMPLETED" {
					b.Fatalf("raw: %v", err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(engineTime.Milliseconds())/n, "engine-ms/run")
			b.ReportMetric(float64(rawTime.Milliseconds())/n, "raw-ms/run")
			b.ReportMetric(float64(engineTime)/float64(rawTime), "ratio")
			b.ReportMetric(float64(engineBytes)/n/1024, "engine-KiB/run")
			b.ReportMetric(float64(rawBytes)/n/1024, "raw-KiB/run")
		})
	}
}

// cannedCaller answers the seed's calls from memory: the engine's own cost
// per step, without a network.
type cannedCaller struct {
	polls, n int
}

func (c *cannedCaller) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
	}
	var body string
	switch t := r.Header.Get("X-Amz-Target"); {
	case strings.HasSuffix(t, "StartFHIRExportJob"):
		c.n = 0
		body = `{"JobId":"0123456789abcdef0123456789abcdef","JobStatus":"SUBMITTED","DatastoreId":"d"}`
	case strings.HasSuffix(t, "DescribeFHIRExportJob"):
		c.n++
		st := "IN_PROGRESS"
		if c.n >= c.polls {
			st = "COMPLETED"
		}
		body = `{"ExportJobProperties":{"JobId":"0123456789abcdef0123456789abcdef","JobStatus":"` + st + `","DatastoreId":"d","SubmitTime":1795655505.331,"OutputDataConfig":{"S3Configuration":{"S3Uri":"s3://b/o","KmsKeyId":"k"}}}}`
	default:
		body = `{"ExportJobPropertiesList":[]}`
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// BenchmarkEngineStep is the engine's own cost per step execution: the
// seed with 100 polls against an in-memory caller.
func BenchmarkEngineStep(b *testing.B) {
	const polls = 100
	plan := loadSeed(b)
	caller := &cannedCaller{polls: polls}
	// Through an http.Client, as BenchmarkRawStep, so the two differ only
	// by what the engine does.
	opts := &engine.Options{Caller: &http.Client{Transport: roundTripFunc(caller.Do)}, PollInterval: -1}
	in := map[string]any{"ClientToken": "t"}
	for k, v := range seedInputs {
		in[k] = v
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, err := plan.Run(context.Background(), "start-export-poll-and-list", in, opts); err != nil || res.Status != engine.Succeeded {
			b.Fatal(err)
		}
	}
	steps := float64(polls + 2)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/steps/1000, "µs/step")
}

// peakHeap samples the live heap (after a GC) every `every` step
// executions of a run and keeps the largest value.
type peakHeap struct {
	every, n int
	peak     uint64
}

func (p *peakHeap) OnEvent(e engine.Event) {
	if e.Kind != engine.StepFinished {
		return
	}
	if p.n++; p.n%p.every != 0 {
		return
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > p.peak {
		p.peak = m.HeapAlloc
	}
}

// BenchmarkPollMemory runs the seed with 1 000 and with 100 000 polls
// (in-memory caller) and reports the peak live heap of each and their
// ratio: a run keeps each step's latest outputs, not the history of
// polls, so the two should be about the same.
func BenchmarkPollMemory(b *testing.B) {
	plan := loadSeed(b)
	in := map[string]any{"ClientToken": "t"}
	for k, v := range seedInputs {
		in[k] = v
	}
	measure := func(polls int) uint64 {
		ph := &peakHeap{every: polls / 20}
		opts := &engine.Options{Caller: &cannedCaller{polls: polls}, PollInterval: -1, MaxSteps: polls + 10, Observers: []engine.Observer{ph}}
		if res, err := plan.Run(context.Background(), "start-export-poll-and-list", in, opts); err != nil || res.Steps[1].Runs != polls {
			b.Fatalf("%v %+v", err, res)
		}
		return ph.peak
	}
	var small, large uint64
	for i := 0; i < b.N; i++ {
		small += measure(1000)
		large += measure(100000)
	}
	b.ReportMetric(float64(small)/float64(b.N)/1024, "peak-KiB@1k")
	b.ReportMetric(float64(large)/float64(b.N)/1024, "peak-KiB@100k")
	b.ReportMetric(float64(large)/float64(small), "ratio")
}

// heapSampler records the peak heap in use while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64)}
	go func() {
		var peak uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-h.stop:
				h.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	return <-h.done
}

// BenchmarkConcurrentRuns runs 1 000 copies of the seed at once from one
// plan against a loopback emulator, and the same 1 000 through rawSeed, and
// reports the throughput of each (runs per second), their ratio, and the
// peak heap of each.
func BenchmarkConcurrentRuns(b *testing.B) {
	const runs = 1000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	plan := loadSeed(b)
	// Each phase gets a fresh emulator, so neither inherits the other's
	// job list (ListFHIRExportJobs sorts every job of the data store).
	fresh := func() *httptest.Server {
		return httptest.NewServer(healthlake.New(healthlake.Config{PollsToComplete: 3}))
	}
	var engineTime, rawTime time.Duration
	var enginePeak, rawPeak uint64
	for i := 0; i < b.N; i++ {
		srv := fresh()
		opts := &engine.Options{Caller: client, Servers: map[string]string{"healthlakeApi": srv.URL}, PollInterval: -1}
		runtime.GC()
		h := sampleHeap()
		start := time.Now()
		errs := make(chan error, runs)
		for r := 0; r < runs; r++ {
			go func(r int) {
				in := map[string]any{"ClientToken": fmt.Sprintf("c-%d-%d", i, r)}
				for k, v := range seedInputs {
					in[k] = v
				}
				res, err := plan.Run(context.Background(), "start-export-poll-and-list", in, opts)
				if err == nil && res.Outputs["jobStatus"] != "COMPLETED" {
					err = fmt.Errorf("status %v", res.Outputs["jobStatus"])
				}
				errs <- err
			}(r)
		}
		for r := 0; r < runs; r++ {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		engineTime += time.Since(start)
		enginePeak = max(enginePeak, h.Stop())
		srv.Close()

		srv = fresh()
		runtime.GC()
		h = sampleHeap()
		start = time.Now()
		for r := 0; r < runs; r++ {
			go func(r int) {
				_, err := rawSeed(client, srv.URL, fmt.Sprintf("r-%d-%d", i, r))
				errs <- err
			}(r)
		}
		for r := 0; r < runs; r++ {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		rawTime += time.Since(start)
		rawPeak = max(rawPeak, h.Stop())
		srv.Close()
	}
	n := float64(b.N * runs)
	b.ReportMetric(n/engineTime.Seconds(), "engine-runs/s")
	b.ReportMetric(n/rawTime.Seconds(), "raw-runs/s")
	b.ReportMetric(rawTime.Seconds()/engineTime.Seconds(), "throughput-ratio")
	b.ReportMetric(float64(enginePeak)/(1<<20), "engine-peak-MiB")
	b.ReportMetric(float64(rawPeak)/(1<<20), "raw-peak-MiB")
}

// writeLargeOpenAPI generates an OpenAPI description of about 6 MB: many
// paths, each with operations, parameters and schemas.
func writeLargeOpenAPI(b *testing.B, dir string) int {
	var sb strings.Builder
	sb.WriteString("openapi: 3.0.3\ninfo: {title: large, version: '1'}\nservers: [{url: 'https://large.invalid'}]\npaths:\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&sb, `  /resources%d/{id}:
    get:
      operationId: getResource%d
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: expand, in: query, schema: {type: array, items: {type: string}}}
      responses:
        '200':
          description: the resource
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Resource%d'}
    put:
      operationId: putResource%d
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Resource%d'}
      responses:
        '204': {description: stored}
`, i, i, i, i, i)
	}
	sb.WriteString("components:\n  schemas:\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&sb, "    Resource%d:\n      type: object\n      required: [id, name]\n      properties:\n        id: {type: string, pattern: '^[a-z0-9-]+$'}\n        name: {type: string, maxLength: 200}\n        tags: {type: array, items: {type: string}}\n        size: {type: integer, format: int64, minimum: 0}\n        created: {type: string, format: date-time}\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "large.openapi.yaml"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	doc := "arazzo: 1.0.1\ninfo: {title: large, version: '1'}\nsourceDescriptions:\n  - {name: big, url: ./large.openapi.yaml}\nworkflows:\n  - workflowId: w\n    steps:\n      - stepId: get\n        operationId: getResource4999\n        parameters:\n          - {name: id, in: path, value: x}\n"
	if err := os.WriteFile(filepath.Join(dir, "large.arazzo.yaml"), []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
	return sb.Len()
}

// BenchmarkLoadLargeOpenAPI loads and compiles a document whose source is
// a ~6 MB OpenAPI description.
func BenchmarkLoadLargeOpenAPI(b *testing.B) {
	dir := b.TempDir()
	size := writeLargeOpenAPI(b, dir)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p, d := engine.LoadFile(context.Background(), filepath.Join(dir, "large.arazzo.yaml"), &source.Loader{}); p == nil {
			b.Fatal(d.Error())
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "source-MiB")
}

// BenchmarkValidate100SharingASource validates 100 documents that name the
// same OpenAPI description, with one loader (as `arazzo validate a.yaml
// b.yaml ...` does: the source is parsed once) and, for comparison, with a
// fresh loader per document.
func BenchmarkValidate100SharingASource(b *testing.B) {
	dir := b.TempDir()
	spec, _ := os.ReadFile(seedOpenAPI)
	os.MkdirAll(filepath.Join(dir, "openapi"), 0o755)
	os.MkdirAll(filepath.Join(dir, "workflows"), 0o755)
	os.WriteFile(filepath.Join(dir, "openapi", "amazon-healthlake-openapi.yaml"), spec, 0o644)
	seed, _ := os.ReadFile(seedPath)
	var files []string
	for i := 0; i < 100; i++ {
		f := filepath.Join(dir, "workflows", fmt.Sprintf("w%03d.arazzo.yaml", i))
		os.WriteFile(f, seed, 0o644)
		files = append(files, f)
	}
	var shared, fresh time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		loader := &source.Loader{}
		for _, f := range files {
			if p, d := engine.LoadFile(context.Background(), f, loader); p == nil {
				b.Fatal(d.Error())
			}
		}
		shared += time.Since(start)
		start = time.Now()
		for _, f := range files {
			engine.LoadFile(context.Background(), f, &source.Loader{})
		}
		fresh += time.Since(start)
	}
	b.ReportMetric(float64(shared.Milliseconds())/float64(b.N), "shared-ms/100docs")
	b.ReportMetric(float64(fresh.Milliseconds())/float64(b.N), "fresh-ms/100docs")
	b.ReportMetric(fresh.Seconds()/shared.Seconds(), "speedup")
}

const seedOpenAPI = "../openapi/amazon-healthlake-openapi.yaml"

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkRawStep is BenchmarkEngineStep's baseline: rawSeed's plain loop
// against the same in-memory answers, so the difference is the engine's
// own cost per step.
func BenchmarkRawStep(b *testing.B) {
	const polls = 100
	caller := &cannedCaller{polls: polls}
	client := &http.Client{Transport: roundTripFunc(caller.Do)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if st, err := rawSeed(client, "http://mem", "t"); err != nil || st != "COMPLETED" {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(polls+2)/1000, "µs/step")
}
