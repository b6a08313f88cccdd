package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// The process goes down to one P as runs start and gets every P back at
// the first large body, request or response, sized or chunked; a
// GOMAXPROCS in the environment, or a server (start never called), leaves
// the processors alone.
func TestProcPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		io.WriteString(w, strings.Repeat("x", n))
	}))
	defer srv.Close()
	newPolicy := func(env string) (*procPolicy, *[]int) {
		var calls []int
		procs := 4
		p := &procPolicy{getenv: func(k string) string {
			if k == "GOMAXPROCS" {
				return env
			}
			return ""
		}, setProc: func(n int) int { calls = append(calls, n); prev := procs; procs = n; return prev }}
		return p, &calls
	}
	get := func(p *procPolicy, query string, body io.Reader) {
		t.Helper()
		c := p.Wrap(nil, http.DefaultClient)
		req, _ := http.NewRequest("POST", srv.URL+"?"+query, body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	large := strconv.Itoa(largeBody + 1)

	p, calls := newPolicy("")
	p.start()
	get(p, "n=1000", nil)
	get(p, "n=1000&chunked=1", nil)
	if got := *calls; len(got) != 1 || got[0] != 1 {
		t.Fatalf("small bodies: GOMAXPROCS calls %v, want [1]", got)
	}
	get(p, "n="+large, nil)
	get(p, "n="+large, nil)
	if got := *calls; len(got) != 2 || got[1] != 4 {
		t.Fatalf("a large response: GOMAXPROCS calls %v, want [1 4] (once)", got)
	}
	for name, run := range map[string]func(p *procPolicy){
		"chunked response": func(p *procPolicy) { get(p, "n="+large+"&chunked=1", nil) },
		"large request":    func(p *procPolicy) { get(p, "n=1", strings.NewReader(strings.Repeat("y", largeBody+1))) },
	} {
		p, calls := newPolicy("")
		p.start()
		run(p)
		if got := *calls; len(got) != 2 || got[1] != 4 {
			t.Errorf("%s: GOMAXPROCS calls %v, want [1 4]", name, got)
		}
	}
	// GOMAXPROCS set: nothing changes, and nothing is wrapped.
	p, calls = newPolicy("2")
	p.start()
	get(p, "n="+large, nil)
	if len(*calls) != 0 || p.active() {
		t.Errorf("with GOMAXPROCS set: calls %v", *calls)
	}
	// A server never calls start: its callers are not wrapped.
	p, calls = newPolicy("")
	if _, wrapped := p.Wrap(nil, http.DefaultClient).(procWatch); wrapped || len(*calls) != 0 {
		t.Error("a caller was wrapped before start")
	}
	// The CLI run in process (tests) has no policy.
	var none *procPolicy
	none.start()
	if none.active() {
		t.Error("a nil policy is active")
	}
}
