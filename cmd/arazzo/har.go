package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/arazzo-go/arazzo/engine"
)

// harWriter streams a HAR 1.2 log: the header when created, one entry as
// each exchange completes, the closing brackets on Close. Events are
// already redacted and their bodies capped by the engine.
type harWriter struct {
	w       io.Writer
	n       int
	pending map[string]engine.Event // request events waiting for their response
	err     error
}

func newHARWriter(w io.Writer) (*harWriter, error) {
	h := &harWriter{w: w, pending: map[string]engine.Event{}}
	creator, _ := json.Marshal(map[string]string{"name": "arazzo", "version": versionString()})
	_, err := fmt.Fprintf(w, "{\"log\": {\"version\": \"1.2\", \"creator\": %s, \"entries\": [\n", creator)
	return h, err
}

func harKey(e engine.Event) string { return fmt.Sprintf("%s/%s/%d", e.WorkflowID, e.StepID, e.Attempt) }

func (h *harWriter) OnEvent(e engine.Event) {
	switch e.Kind {
	case engine.RequestSent:
		h.pending[harKey(e)] = e
	case engine.ResponseReceived:
		if req, ok := h.pending[harKey(e)]; ok {
			delete(h.pending, harKey(e))
			h.entry(req, &e)
		}
	case engine.StepFinished:
		// A request that got no response (refused, timed out).
		if req, ok := h.pending[harKey(e)]; ok {
			delete(h.pending, harKey(e))
			h.entry(req, nil)
		}
	}
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func harHeaders(hd http.Header) []harNV {
	out := []harNV{}
	names := make([]string, 0, len(hd))
	for k := range hd {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range hd[k] {
			out = append(out, harNV{k, v})
		}
	}
	return out
}

func (h *harWriter) entry(req engine.Event, resp *engine.Event) {
	if h.err != nil {
		return
	}
	r := req.Request
	query := []harNV{}
	if u, err := url.Parse(r.URL); err == nil {
		for k, vs := range u.Query() {
			for _, v := range vs {
				query = append(query, harNV{k, v})
			}
		}
	}
	sort.Slice(query, func(i, j int) bool { return query[i].Name < query[j].Name })
	request := map[string]any{
		"method": r.Method, "url": r.URL, "httpVersion": "HTTP/1.1", "headers": harHeaders(r.Header),
		"queryString": query, "cookies": []any{}, "headersSize": -1, "bodySize": len(r.Body),
	}
	if len(r.Body) > 0 {
		request["postData"] = map[string]any{"mimeType": r.Header.Get("Content-Type"), "text": string(r.Body)}
	}
	response := map[string]any{
		"status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "headers": []harNV{}, "cookies": []any{},
		"content": map[string]any{"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": -1,
	}
	wait := 0.0
	comment := ""
	if resp != nil {
		p := resp.Response
		response["status"], response["statusText"] = p.StatusCode, http.StatusText(p.StatusCode)
		response["headers"] = harHeaders(p.Header)
		response["content"] = map[string]any{"size": len(p.Body), "mimeType": orDash(p.Header.Get("Content-Type")), "text": string(p.Body)}
		response["bodySize"] = len(p.Body)
		wait = float64(resp.Duration.Microseconds()) / 1000
		if p.Truncated {
			comment = "response body truncated"
		}
	} else {
		comment = "no response"
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
		h.err = err
		return
	}
	sep := ""
	if h.n > 0 {
		sep = ",\n"
	}
	h.n++
	_, h.err = fmt.Fprintf(h.w, "%s%s", sep, data)
}

// Close ends the JSON document.
func (h *harWriter) Close() error {
	if h.err != nil {
		return h.err
	}
	_, err := io.WriteString(h.w, "\n]}}\n")
	return err
}
