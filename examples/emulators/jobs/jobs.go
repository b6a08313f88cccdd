// Package jobs is a small API of long-running jobs, the shape of the
// seed's HealthLake export (start a job, poll it until it completes, list
// the results), for the tests of runs on Temporal (engine/temporal and its
// e2e module); engine/temporal/testdata/jobs.openapi.yaml describes it.
//
// It enforces what those tests rely on: every request must carry the
// bearer credential, a start must carry the owner token in a header and in
// its body (which it echoes back, as APIs echo what they are given); it
// counts every call, completes a job after Polls describes, answers SlowRoute after Slow, and answers
// /flaky with 503 (Retry-After: 3) Flaky times.
package jobs

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is the API; serve it with httptest.NewServer or http.Serve. Its
// paths are under /v1.
type Server struct {
	Token string // the bearer credential it wants
	Owner string // the owner token a start must carry
	// Polls is the describe that reports the job COMPLETED; Flaky the
	// 503s /flaky answers first; Slow delays each call of SlowRoute.
	Polls, Flaky int
	SlowRoute    string
	Slow         time.Duration

	mu   sync.Mutex
	hits map[string]int
}

// Count is how many calls a route had: "POST /v1/jobs",
// "GET /v1/jobs/{id}", "GET /v1/flaky", "GET /v1/jobs".
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[route]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		http.Error(w, `{"message":"no credential"}`, http.StatusUnauthorized)
		return
	}
	route := r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.URL.Path, "/v1/jobs/") {
		route = "GET /v1/jobs/{id}"
	}
	s.mu.Lock()
	if s.hits == nil {
		s.hits = map[string]int{}
	}
	s.hits[route]++
	n := s.hits[route]
	s.mu.Unlock()
	if route == s.SlowRoute {
		time.Sleep(s.Slow)
	}
	w.Header().Set("Content-Type", "application/json")
	switch route {
	case "POST /v1/jobs":
		body, _ := io.ReadAll(r.Body)
		var in struct{ Name, Owner string }
		if json.Unmarshal(body, &in) != nil || in.Owner != s.Owner || r.Header.Get("X-Owner-Token") != s.Owner {
			http.Error(w, `{"message":"wrong owner"}`, http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"jobId":"job-%s","status":"SUBMITTED","echo":%q}`, in.Name, in.Owner)
	case "GET /v1/jobs/{id}":
		status := "IN_PROGRESS"
		if n >= s.Polls {
			status = "COMPLETED"
		}
		fmt.Fprintf(w, `{"jobId":%q,"status":%q}`, strings.TrimPrefix(r.URL.Path, "/v1/jobs/"), status)
	case "GET /v1/flaky":
		if n <= s.Flaky {
			w.Header().Set("Retry-After", "3")
			http.Error(w, `{"message":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	case "GET /v1/jobs":
		fmt.Fprint(w, `{"count":1}`)
	default:
		http.NotFound(w, r)
	}
}
