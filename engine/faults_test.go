package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const faultDoc = `
  - workflowId: faults
    steps:
      - stepId: warmup
        operationId: getStatus
      - stepId: call
        operationId: getItem
        parameters:
          - {name: id, in: path, value: 1}
          - {name: X-Api-Key, in: header, value: the-key}
        successCriteria:
          - condition: $statusCode == 200
          - condition: $response.body#/ok == true
        onFailure:
          - name: retryServer
            type: retry
            retryLimit: 1
            criteria:
              - condition: $statusCode >= 500
          - name: retryThrottle
            type: retry
            retryLimit: 1
            retryAfter: 9
            criteria:
              - condition: $statusCode == 429
`

// hijack takes the raw connection so a test can misbehave below HTTP.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	c, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	return c, rw
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0) // close with RST
	}
	c.Close()
}

// noLeaks fails the test if goroutines started during it are still alive
// once idle connections are closed.
func noLeaks(t *testing.T) func() {
	base := runtime.NumGoroutine()
	return func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-base, buf[:runtime.Stack(buf, true)])
		}
	}
}

func TestFaultMatrix(t *testing.T) {
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	defer other.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ok := func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{"ok": true}) }

	tests := []struct {
		name      string
		handler   func(w http.ResponseWriter, r *http.Request, n int)
		opts      func(*Options)
		succeeded bool
		attempts  int
		wantErr   string
		wantWait  time.Duration
	}{
		{name: "500 always: retried once, then fails", attempts: 2, wantErr: "status 500",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, 500, map[string]any{"message": "boom"})
			}},
		{name: "503 then 200: recovers on the retry", attempts: 2, succeeded: true,
			handler: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					writeJSON(w, 503, map[string]any{"message": "unavailable"})
					return
				}
				ok(w)
			}},
		{name: "429 with Retry-After seconds", attempts: 2, succeeded: true, wantWait: 2 * time.Second,
			handler: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", "2")
					writeJSON(w, 429, map[string]any{"message": "slow down"})
					return
				}
				ok(w)
			}},
		{name: "429 with Retry-After as an HTTP date", attempts: 2, succeeded: true, wantWait: 7 * time.Second,
			handler: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", now.Add(7*time.Second).Format(http.TimeFormat))
					writeJSON(w, 429, map[string]any{})
					return
				}
				ok(w)
			}},
		{name: "connection reset before the body", attempts: 1, wantErr: "GET ",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				c, _ := hijack(w)
				reset(c)
			}},
		{name: "connection reset during the body", attempts: 1, wantErr: "reading the response",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				c, rw := hijack(w)
				rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"ok\"\r\n")
				rw.Flush()
				time.Sleep(20 * time.Millisecond)
				reset(c)
			}},
		{name: "a server that never answers", attempts: 1, wantErr: "Timeout",
			opts: func(o *Options) { o.Caller = NewHTTPClient(150 * time.Millisecond) },
			handler: func(w http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			}},
		{name: "a body cut short", attempts: 1, wantErr: "unexpected EOF",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				c, rw := hijack(w)
				rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ok\": tr")
				rw.Flush()
				c.Close()
			}},
		{name: "invalid JSON under a JSON content type", attempts: 1, wantErr: "success criterion not met: $response.body#/ok == true",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"ok": true,,}`))
			}},
		{name: "a body larger than the cap", attempts: 1, wantErr: "larger than the 2048-byte limit",
			opts: func(o *Options) { o.MaxResponseBytes = 2048 },
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"ok": true, "pad": %q}`, strings.Repeat("x", 10000))
			}},
		{name: "a redirect to another host is not followed", attempts: 1, wantErr: "status 302",
			handler: func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, other.URL+"/stolen", http.StatusFound)
			}},
		{name: "a slow trickle of bytes", attempts: 1, wantErr: "Timeout",
			opts: func(o *Options) { o.Caller = NewHTTPClient(250 * time.Millisecond) },
			handler: func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				for i := 0; i < 100; i++ {
					select {
					case <-r.Context().Done():
						return
					case <-time.After(30 * time.Millisecond):
					}
					w.Write([]byte(" "))
					w.(http.Flusher).Flush()
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := noLeaks(t)
			ts := newTestServer(t, map[string]func(http.ResponseWriter, *http.Request, int){
				"GET /v1/status":  jsonHandler(200, `{}`),
				"GET /v1/items/1": tt.handler,
			})
			plan := compileDoc(t, faultDoc, "")
			sl := &sleeps{}
			o := testOptions(ts, sl)
			o.Now = func() time.Time { return now }
			if tt.opts != nil {
				tt.opts(o)
			}
			res, err := plan.Run(context.Background(), "faults", nil, o)
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if (res.Status == Succeeded) != tt.succeeded {
				t.Fatalf("status %s (%v)", res.Status, err)
			}
			if len(res.Steps) != 2 || res.Steps[0].StepID != "warmup" || res.Steps[1].Runs != tt.attempts {
				t.Fatalf("every step that ran is listed, with its runs: %+v", res.Steps)
			}
			if tt.wantErr != "" && (res.Error == nil || !strings.Contains(res.Error.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want it to mention %q", res.Error, tt.wantErr)
			}
			if tt.wantWait != 0 && (len(sl.d) != 1 || sl.d[0] != tt.wantWait) {
				t.Fatalf("waits %v, want %v", sl.d, tt.wantWait)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("the result is JSON: %v", err)
			}
			ts.Close()
			check()
		})
	}
	if otherHits.Load() != 0 {
		t.Fatal("nothing may reach the host a redirect points to")
	}
}
