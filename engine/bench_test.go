package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/openapi/healthlake"
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
	plan, diags := engine.LoadFile(context.Background(), seedPath, &source.Loader{})
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
	if _, err := call("ListFHIRExportJobs", map[string]any{"DatastoreId": in["DatastoreId"]}, "?MaxResults=10"); err != nil {
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
	opts := &engine.Options{Caller: caller, PollInterval: -1}
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
