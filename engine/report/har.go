package report

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/arazzo-go/arazzo/engine"
)

// HAR is an engine.Observer that streams a HAR 1.2 log of every HTTP
// exchange: the header when made, one entry as each exchange completes,
// the closing brackets on Close. Streaming keeps memory flat however long
// a run polls, and what was written before a crash is still readable.
//
// Close always ends the document, so the file is valid JSON even when the
// run failed or was cancelled mid-way: a request still waiting for its
// response becomes an entry with status 0 and the comment "no response".
type HAR struct {
	mu      sync.Mutex
	w       stickyWriter
	n       int
	pending []engine.Event // requests waiting for their response, oldest first
	closed  bool
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// NewHAR writes the start of a HAR log to w; creator names the program in
// the log. Errors, from here on, are reported by Close.
func NewHAR(w io.Writer, creator Tool) *HAR {
	h := &HAR{w: stickyWriter{w: w}}
	c, _ := json.Marshal(harCreator{creator.Name, creator.Version})
	h.w.printf("{\"log\": {\"version\": \"1.2\", \"creator\": %s, \"entries\": [\n", c)
	return h
}

// sameExchange matches a response to its request. A request is answered
// before its step is entered again, so the attempt tells polls apart.
func sameExchange(a, b engine.Event) bool {
	return a.WorkflowID == b.WorkflowID && a.StepID == b.StepID && a.Attempt == b.Attempt
}

// OnEvent implements engine.Observer.
func (h *HAR) OnEvent(e engine.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	switch e.Kind {
	case engine.RequestSent:
		h.pending = append(h.pending, e)
	case engine.ResponseReceived:
		if req, ok := h.take(e); ok {
			h.entry(req, &e)
		}
	case engine.StepFinished:
		// A request that got no response (refused, timed out).
		if req, ok := h.take(e); ok {
			h.entry(req, nil)
		}
	}
}

// take removes and returns the pending request of e's exchange.
func (h *HAR) take(e engine.Event) (engine.Event, bool) {
	for i, req := range h.pending {
		if sameExchange(req, e) {
			h.pending = append(h.pending[:i], h.pending[i+1:]...)
			return req, true
		}
	}
	return engine.Event{}, false
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func harHeaders(hd http.Header) []harNV {
	out := []harNV{}
	for _, k := range slices.Sorted(maps.Keys(hd)) {
		for _, v := range hd[k] {
			out = append(out, harNV{k, v})
		}
	}
	return out
}

func harQuery(rawURL string) []harNV {
	query := []harNV{}
	if u, err := url.Parse(rawURL); err == nil {
		for k, vs := range u.Query() {
			for _, v := range vs {
				query = append(query, harNV{k, v})
			}
		}
	}
	sort.Slice(query, func(i, j int) bool { return query[i].Name < query[j].Name })
	return query
}

// entry writes one exchange; resp is nil when no response came. Maps, not
// structs, because the HAR files already written have their keys sorted.
func (h *HAR) entry(req engine.Event, resp *engine.Event) {
	if h.w.err != nil {
		return
	}
	r := req.Request
	request := map[string]any{
		"method": r.Method, "url": r.URL, "httpVersion": "HTTP/1.1", "headers": harHeaders(r.Header),
		"queryString": harQuery(r.URL), "cookies": []any{}, "headersSize": -1, "bodySize": len(r.Body),
	}
	if len(r.Body) > 0 {
		request["postData"] = map[string]any{"mimeType": r.Header.Get("Content-Type"), "text": string(r.Body)}
	}
	response := map[string]any{
		"status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "headers": []harNV{}, "cookies": []any{},
		"content": map[string]any{"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": -1,
	}
	wait := 0.0
	comment := "no response"
	if resp != nil {
		p := resp.Response
		mime := p.Header.Get("Content-Type")
		if mime == "" {
			mime = "-"
		}
		response["status"], response["statusText"] = p.StatusCode, http.StatusText(p.StatusCode)
		response["headers"] = harHeaders(p.Header)
		response["content"] = map[string]any{"size": len(p.Body), "mimeType": mime, "text": string(p.Body)}
		response["bodySize"] = len(p.Body)
		wait = millis(resp.Duration)
		comment = ""
		if p.Truncated {
			comment = "response body truncated"
		}
	}
	entry := map[string]any{
		"startedDateTime": req.Time.UTC().Format(time.RFC3339Nano),
		"time":            wait,
		"request":         request,
		"response":        response,
		"cache":           map[string]any{},
		"timings":         map[string]any{"send": 0, "wait": wait, "receive": 0},
		"_arazzo":         map[string]any{"workflowId": req.WorkflowID, "stepId": req.StepID, "attempt": req.Attempt},
	}
	if comment != "" {
		entry["comment"] = comment
	}
	data, err := json.Marshal(entry)
	if err != nil {
		h.w.err = err
		return
	}
	if h.n > 0 {
		h.w.printf(",\n")
	}
	h.n++
	h.w.Write(data)
}

// Close writes the requests still without a response, ends the JSON
// document and returns the first error met. It does not close the
// underlying writer; calling it again does nothing.
func (h *HAR) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.w.err
	}
	h.closed = true
	for _, req := range h.pending {
		h.entry(req, nil)
	}
	h.pending = nil
	h.w.printf("\n]}}\n")
	return h.w.err
}
