package engine

// The operation step kind: lay out an HTTP request from the OpenAPI
// operation (request.go), let the source's protocol shape it, send it
// through the source's middleware and Caller, and read the response.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/arazzo-go/arazzo/engine/protocol"
)

type operationCall struct{}

func (operationCall) perform(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	r := f.run
	br, err := r.buildRequest(s, f)
	if err != nil {
		return &stepOutcome{err: &RequestError{err}}
	}
	for _, n := range br.Notices {
		r.notice(f, s, attempt, n)
	}
	ex := &exchange{req: br}
	chk := newChecker(r, s)
	if chk != nil {
		chk.request(ctx, br)
		if err := r.reportChecks(f, s, attempt, chk, 0); err != nil {
			return &stepOutcome{err: err, violations: chk.out} // not sent: the request itself is wrong
		}
	}
	var body io.Reader
	if br.HasBody {
		body = bytes.NewReader(br.Body)
	}
	if r.observed() {
		ctx = WithReporter(ctx, func(e Event) {
			e.WorkflowID, e.StepID = f.w.ID, s.ID
			if e.Attempt == 0 {
				e.Attempt = attempt
			}
			if e.Kind == "" {
				e.Kind = Notice
			}
			r.emit(e)
		})
	}
	if len(r.opts.Middleware) > 0 {
		base, _ := r.serverURL(s) // worked out already by buildRequest
		ctx = context.WithValue(ctx, callKey{}, &Call{Step: s, Attempt: attempt, ServerURL: base, Values: f, run: r})
	}
	rec, err := r.replayed(f, s, attempt, br)
	if err != nil {
		return &stepOutcome{stop: err, ex: ex}
	}
	var status int
	var header http.Header
	var data []byte
	start := r.opts.Now()
	if rec != nil {
		// A resumed run: the response recorded before it stopped.
		status, header, data = rec.Status, http.Header(rec.Header), rec.bytes()
	} else {
		req, err := http.NewRequestWithContext(ctx, br.Method, br.URL, body)
		if err != nil {
			return &stepOutcome{err: &RequestError{fmt.Errorf("cannot build the request: %v", err)}, ex: ex}
		}
		// Middleware may add to the header; $request.header reads what the
		// step built, so it gets a copy when there is middleware.
		req.Header = br.Header
		if len(r.opts.Middleware) > 0 {
			req.Header = br.Header.Clone()
		}
		if err := r.sending(f, s, attempt, br); err != nil {
			return &stepOutcome{stop: err, ex: ex}
		}
		resp, err := r.callerFor(s).Do(req)
		if err != nil {
			return &stepOutcome{err: r.transportError(br, unwrapURLError(err)), ex: ex, interrupted: true}
		}
		defer resp.Body.Close()
		data, err = readBody(resp, r.opts.MaxResponseBytes+1)
		status, header = resp.StatusCode, resp.Header
		ex.status, ex.hasStatus, ex.respHeader, ex.protocol = status, true, header, s.Source.Protocol
		if err != nil {
			ex.respBody = data
			return &stepOutcome{err: r.transportError(br, fmt.Errorf("reading the response: %w", unwrapURLError(err))), ex: ex, interrupted: true}
		}
		if int64(len(data)) <= r.opts.MaxResponseBytes {
			if err := r.received(f, status, header, data); err != nil {
				return &stepOutcome{stop: err, ex: ex}
			}
		}
	}
	ex.status, ex.hasStatus, ex.respHeader, ex.protocol = status, true, header, s.Source.Protocol
	if int64(len(data)) > r.opts.MaxResponseBytes {
		ex.respBody = data[:excerptBytes]
		return &stepOutcome{err: r.transportError(br, &sizeError{r.opts.MaxResponseBytes}), ex: ex}
	}
	ex.respBody = data
	if r.observed() {
		r.emit(Event{Kind: ResponseReceived, WorkflowID: f.w.ID, StepID: s.ID, Attempt: attempt, Duration: r.opts.Now().Sub(start),
			Response: &ResponseInfo{StatusCode: status, Header: header, Body: capBytes(data, eventBodyBytes), Truncated: len(data) > eventBodyBytes}})
	}
	if msg := ex.parseBody(); msg != "" {
		r.notice(f, s, attempt, msg)
	}
	out := &stepOutcome{ex: ex}
	out.retryAfter, out.hasRetryAfter = retryAfter(header, r.opts.Now())
	if chk != nil {
		sent := len(chk.out)
		chk.response(ctx, br, ex)
		out.err = r.reportChecks(f, s, attempt, chk, sent)
		out.violations = chk.out
	}
	return out
}

// reportChecks stamps, masks and emits the violations found from index
// from on, and returns the step's error when one has error severity.
func (r *run) reportChecks(f *frame, s *Step, attempt int, chk *checker, from int) error {
	for i := from; i < len(chk.out); i++ {
		v := &chk.out[i]
		v.Attempt, v.Message, v.Pointer = attempt, r.redact.String(v.Message), r.redact.String(v.Pointer)
		if r.observed() {
			vc := *v
			r.emit(Event{Kind: CheckViolated, WorkflowID: f.w.ID, StepID: s.ID, Visit: f.visits[s], Attempt: attempt, Violation: &vc, Message: vc.String()})
		}
	}
	return contractFailure(chk.out[from:])
}

// sizeError is ErrResponseTooLarge with the limit.
type sizeError struct{ limit int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("the response body is larger than the %d-byte limit", e.limit)
}

func (e *sizeError) Is(target error) bool { return target == ErrResponseTooLarge }

func (r *run) transportError(br *builtRequest, err error) *TransportError {
	return &TransportError{Method: br.Method, URL: r.redact.String(br.URL), Err: err}
}

// callerFor returns the step's source's caller, wrapped by the run's
// middleware once per run. When anyone listens, a tap next to the network
// reports each request as it goes out: after signing and every other
// middleware, once per attempt a middleware makes.
func (r *run) callerFor(s *Step) Caller {
	if len(r.opts.Middleware) == 0 && !r.observed() {
		return r.opts.Caller
	}
	ref := s.Source
	if c, ok := r.callers[ref]; ok {
		return c
	}
	if r.callers == nil {
		r.callers = map[*SourceRef]Caller{}
	}
	c := r.opts.Caller
	if r.observed() {
		c = wireTap{c}
	}
	for _, m := range r.opts.Middleware {
		c = m.Wrap(ref, c)
	}
	r.callers[ref] = c
	return c
}

// wireTap reports the request it passes on as a RequestSent event (to the
// run that sent it, through the request's context): the request exactly as
// it goes to the network, credentials masked where the event is delivered.
type wireTap struct{ next Caller }

func (t wireTap) Do(req *http.Request) (*http.Response, error) {
	// The header is copied (and masked) where the event is delivered,
	// synchronously, before the request goes on.
	info := &RequestInfo{Method: req.Method, URL: req.URL.String(), Header: req.Header}
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			info.Body, _ = io.ReadAll(io.LimitReader(rc, eventBodyBytes))
			rc.Close()
		}
	}
	Report(req.Context(), Event{Kind: RequestSent, Request: info})
	return t.next.Do(req)
}

// WithTLS lets a middleware give its source a TLS configuration of its
// own (mutual TLS) through the tap.
func (t wireTap) WithTLS(configure func(*tls.Config)) (Caller, error) {
	c, err := WithTLS(t.next, configure)
	if err != nil {
		return nil, err
	}
	return wireTap{c}, nil
}

// readBody reads at most limit bytes; a body of known length is read into
// one buffer of exactly that size.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < limit {
		buf := make([]byte, n)
		m, err := io.ReadFull(resp.Body, buf)
		return buf[:m], err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL that our own message already gives.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// exchange is one request and its response.
type exchange struct {
	req        *builtRequest
	status     int
	hasStatus  bool
	respHeader http.Header
	respBody   []byte
	parsed     any
	hasParsed  bool
	protocol   protocol.Protocol
	msg        *msgExchange // an AsyncAPI message step's message
}

// statusCode is the response's status, if a response came; safe on nil.
func (ex *exchange) statusCode() (int, bool) {
	if ex == nil || !ex.hasStatus {
		return 0, false
	}
	return ex.status, true
}

// excerpt is the start of the response body, for an error message.
func (ex *exchange) excerpt() string {
	b := bytes.TrimSpace(ex.respBody)
	if len(b) <= excerptBytes {
		return string(b)
	}
	return string(b[:excerptBytes]) + "…"
}

// failedStatus is a StatusError for the response when its status fails
// the step: outside 2xx when the step has no criteria (strict), 400 and
// above otherwise; nil when it does not, or there is no response.
func (ex *exchange) failedStatus(s *Step, strict bool) *StatusError {
	code, ok := ex.statusCode()
	if !ok || (strict && code >= 200 && code < 300) || (!strict && code < 400) {
		return nil
	}
	se := &StatusError{StatusCode: code, Excerpt: ex.excerpt()}
	if code >= 400 {
		p := ex.protocol
		if p == nil {
			p = protocol.HTTP
		}
		se.Code, se.Message = p.ErrorSummary(ex.respHeader, ex.respBody)
	}
	return se
}

// parseBody decodes the response body by content type: JSON (numbers kept
// exact) for JSON media types, text otherwise. It returns a notice when a
// JSON content type carries something that is not JSON.
func (ex *exchange) parseBody() string {
	if len(ex.respBody) == 0 {
		return ""
	}
	ct := ex.respHeader.Get("Content-Type")
	if IsJSONMediaType(ct) || (ct == "" && json.Valid(ex.respBody)) {
		d := json.NewDecoder(bytes.NewReader(ex.respBody))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err == nil {
			ex.parsed, ex.hasParsed = v, true
			return ""
		} else if IsJSONMediaType(ct) {
			ex.parsed, ex.hasParsed = string(ex.respBody), true
			return "the response says " + ct + " but its body is not valid JSON (" + err.Error() + "); it is kept as text"
		}
	}
	ex.parsed, ex.hasParsed = string(ex.respBody), true
	return ""
}

type requestMessage struct{ r *builtRequest }

func (m requestMessage) Header(n string) (string, bool) {
	for k, v := range m.r.Header {
		if strings.EqualFold(k, n) {
			return strings.Join(v, ", "), true
		}
	}
	return "", false
}
func (m requestMessage) Query(n string) (string, bool) { v, ok := m.r.query[n]; return v, ok }
func (m requestMessage) Path(n string) (string, bool)  { v, ok := m.r.path[n]; return v, ok }
func (m requestMessage) Body() (any, bool)             { return m.r.Value() }

type responseMessage struct{ ex *exchange }

// Header joins repeated headers with ", " (RFC 9110 list form).
func (m responseMessage) Header(n string) (string, bool) {
	v := m.ex.respHeader.Values(n)
	if len(v) == 0 {
		return "", false
	}
	return strings.Join(v, ", "), true
}
func (m responseMessage) Query(string) (string, bool) { return "", false }
func (m responseMessage) Path(string) (string, bool)  { return "", false }
func (m responseMessage) Body() (any, bool) {
	if !m.ex.hasParsed {
		return nil, false
	}
	return m.ex.parsed, true
}
