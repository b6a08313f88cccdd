package engine

// Contract checks of the HTTP step kind: after each response, whether it is
// what the operation declares (status, content type, body schema), and
// before each request whether the request is. kin-openapi's openapi3filter
// does the validating, in the description's dialect (JSON Schema 2020-12
// for OpenAPI 3.1). Each check has a severity: off, warn (a violation is
// reported) or error (it also fails the step, and its onFailure decides).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Check names one contract check.
type Check string

// The checks, as --check spells them.
const (
	CheckStatus      Check = "status"       // the status is one the operation declares (or default)
	CheckContentType Check = "content-type" // the Content-Type is a declared response media type
	CheckSchema      Check = "schema"       // the body (and declared headers) validate against the response
	CheckRequest     Check = "request"      // the request validates against the operation, before it is sent
)

// AllChecks lists the checks in the order they run.
var AllChecks = []Check{CheckRequest, CheckStatus, CheckContentType, CheckSchema}

// CheckSeverity is what a check's violation does.
type CheckSeverity uint8

const (
	// CheckOff: the check does not run (the zero value).
	CheckOff CheckSeverity = iota
	// CheckWarn: a violation is reported; the step goes on.
	CheckWarn
	// CheckError: a violation is reported and fails the step.
	CheckError
)

func (s CheckSeverity) String() string {
	switch s {
	case CheckWarn:
		return "warn"
	case CheckError:
		return "error"
	}
	return "off"
}

// MarshalText makes the severity a word in JSON.
func (s CheckSeverity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Checks sets a severity per check; a check not in it is off.
type Checks map[Check]CheckSeverity

// ParseChecks reads "status=warn,schema=error" (and "all=off"), applied in
// order over base.
func ParseChecks(base Checks, spec string) (Checks, error) {
	out := Checks{}
	for k, v := range base {
		out[k] = v
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, sev, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want CHECK=SEVERITY (checks: all, %s; severities: error, warn, off)", part, checkNames())
		}
		var s CheckSeverity
		switch strings.ToLower(strings.TrimSpace(sev)) {
		case "off":
			s = CheckOff
		case "warn", "warning":
			s = CheckWarn
		case "error":
			s = CheckError
		default:
			return nil, fmt.Errorf("%q: severity %q is not error, warn or off", part, sev)
		}
		name = strings.TrimSpace(name)
		if name == "all" {
			for _, c := range AllChecks {
				out[c] = s
			}
			continue
		}
		known := false
		for _, c := range AllChecks {
			known = known || string(c) == name
		}
		if !known {
			return nil, fmt.Errorf("%q: unknown check %q (checks: all, %s)", part, name, checkNames())
		}
		out[Check(name)] = s
	}
	return out, nil
}

func checkNames() string {
	var n []string
	for _, c := range AllChecks {
		n = append(n, string(c))
	}
	return strings.Join(n, ", ")
}

func (c Checks) any() bool {
	for _, s := range c {
		if s != CheckOff {
			return true
		}
	}
	return false
}

// Violation is one way a request or response breaks the operation's
// description.
type Violation struct {
	Check    Check         `json:"check"`
	Severity CheckSeverity `json:"severity"`
	Attempt  int           `json:"attempt,omitempty"`
	// Pointer is the JSON Pointer of the offending value in the body
	// ("" for the whole body); for a parameter or header, its name.
	Pointer string `json:"pointer,omitempty"`
	// Rule is the schema keyword it broke (type, required, enum…).
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	s := string(v.Check)
	if v.Pointer != "" {
		s += " " + v.Pointer
	}
	s += ": " + v.Message
	if v.Rule != "" {
		s += " (" + v.Rule + ")"
	}
	return s
}

// ErrContract: a request or response broke the operation's description
// where that check's severity is error.
var ErrContract = errors.New("API contract violated")

// ContractError is ErrContract with the violations of error severity.
type ContractError struct {
	Violations []Violation
}

func (e *ContractError) Error() string {
	if len(e.Violations) == 0 {
		return "the API description is not met"
	}
	s := "the API description is not met: " + e.Violations[0].String()
	if n := len(e.Violations) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}

func (e *ContractError) Is(target error) bool { return target == ErrContract }

// maxViolations caps what one exchange reports: a 1 MB body of the wrong
// shape must not produce a million findings.
const maxViolations = 20

// maxStepViolations caps what a step's result keeps over all its runs (a
// poll may run it thousands of times).
const maxStepViolations = 100

// checker runs the checks of one step's exchange.
type checker struct {
	checks Checks
	s      *Step
	route  *routers.Route
	memo   *requestMemo
	out    []Violation
}

// requestMemo is a step's last request check in a run and its verdict. A
// poll sends the same request thousands of times, and the same request
// always gets the same verdict, so only a request that differs from the
// last one is checked again (about a third of the engine's own work per
// poll otherwise).
type requestMemo struct {
	valid   bool
	method  string
	url     string
	header  http.Header
	body    []byte
	hasBody bool
	out     []Violation // as found: not yet stamped or masked
}

func (m *requestMemo) same(br *builtRequest) bool {
	if !m.valid || m.method != br.Method || m.url != br.URL || m.hasBody != br.HasBody || !bytes.Equal(m.body, br.Body) || len(m.header) != len(br.Header) {
		return false
	}
	for k, v := range br.Header {
		if !slices.Equal(m.header[k], v) {
			return false
		}
	}
	return true
}

// requestMemo gives step s's request memo in this run.
func (r *run) requestMemo(s *Step) *requestMemo {
	m := r.checked[s]
	if m == nil {
		if r.checked == nil {
			r.checked = map[*Step]*requestMemo{}
		}
		m = &requestMemo{}
		r.checked[s] = m
	}
	return m
}

// newChecker gives the checker of one exchange of step s in run r, or nil
// when no check applies.
func newChecker(r *run, s *Step) *checker {
	checks := r.opts.Checks
	if !checks.any() || s.Operation == nil || s.Operation.Source == nil || s.Operation.Source.OpenAPI == nil {
		return nil
	}
	c := &checker{checks: checks, s: s, route: s.route}
	if checks[CheckRequest] != CheckOff {
		c.memo = r.requestMemo(s)
	}
	return c
}

// stepRoute is the route openapi3filter validates an operation step's
// exchanges against, made once at compile time and only read after.
func stepRoute(op *source.Operation) *routers.Route {
	if op == nil || op.Source == nil || op.Source.OpenAPI == nil {
		return nil
	}
	return &routers.Route{Spec: op.Source.OpenAPI, Path: op.Path, PathItem: op.PathItem, Method: op.Method, Operation: op.Op}
}

func (c *checker) add(check Check, pointer, rule, msg string) {
	if len(c.out) < maxViolations {
		c.out = append(c.out, Violation{Check: check, Severity: c.checks[check], Pointer: pointer, Rule: rule, Message: msg})
	}
}

// validationRequest is the request as sent, for openapi3filter.
func (c *checker) validationRequest(ctx context.Context, br *builtRequest) *openapi3filter.RequestValidationInput {
	req, err := http.NewRequestWithContext(ctx, br.Method, br.URL, bytes.NewReader(br.Body))
	if err != nil {
		return nil
	}
	req.Header = br.Header.Clone()
	return &openapi3filter.RequestValidationInput{
		Request: req, PathParams: br.path, Route: c.route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true},
	}
}

// request checks the request about to be sent: parameters through
// openapi3filter, a JSON body against its schema (jsonBody).
func (c *checker) request(ctx context.Context, br *builtRequest) {
	if c.checks[CheckRequest] == CheckOff {
		return
	}
	if c.memo != nil && c.memo.same(br) {
		c.out = append(c.out, c.memo.out...)
		return
	}
	from := len(c.out)
	c.checkRequest(ctx, br)
	if c.memo != nil {
		*c.memo = requestMemo{valid: true, method: br.Method, url: br.URL, header: br.Header.Clone(), body: br.Body, hasBody: br.HasBody, out: slices.Clone(c.out[from:])}
	}
}

func (c *checker) checkRequest(ctx context.Context, br *builtRequest) {
	in := c.validationRequest(ctx, br)
	if in == nil {
		return
	}
	ct := br.Header.Get("Content-Type")
	rb := c.s.Operation.Op.RequestBody
	jsonBody := br.HasBody && IsJSONMediaType(ct) && rb != nil && rb.Value != nil
	in.Options.ExcludeRequestBody = jsonBody || !decodable(ct)
	err := safeValidate(func() error { return openapi3filter.ValidateRequest(ctx, in) })
	for _, e := range flatten(err) {
		var re *openapi3filter.RequestError
		var sre *openapi3filter.SecurityRequirementsError
		switch {
		case errors.As(e, &sre):
			// Credentials are the auth layer's business, not the workflow's.
		case errors.As(e, &re) && re.Parameter != nil:
			where := re.Parameter.In + " parameter " + re.Parameter.Name
			c.schemaErrors(CheckRequest, where, re.Err, func() { c.add(CheckRequest, where, "", reasonOf(re.Reason, re.Err)) })
		case errors.As(e, &re) && re.RequestBody != nil:
			c.schemaErrors(CheckRequest, "", re.Err, func() { c.add(CheckRequest, "", "", "request body: "+reasonOf(re.Reason, re.Err)) })
		default:
			c.add(CheckRequest, "", "", e.Error())
		}
	}
	if !jsonBody {
		return
	}
	media := c.media(rb.Value.Content, ct)
	if media == nil {
		c.add(CheckRequest, "", "", fmt.Sprintf("request Content-Type %q is not one operation %s accepts (%s)", ct, c.s.Operation, strings.Join(slices.Sorted(maps.Keys(rb.Value.Content)), ", ")))
		return
	}
	c.jsonBody(CheckRequest, media, br.Body, nil, openapi3.VisitAsRequest())
}

// media finds the declared media type of a Content-Type. A source whose
// wire protocol is not plain HTTP owns its content type (AWS JSON sends
// application/x-amz-json-1.0 whatever the description says): there any
// JSON type stands for a declared JSON type.
func (c *checker) media(content openapi3.Content, ct string) *openapi3.MediaType {
	if m := content.Get(ct); m != nil {
		return m
	}
	if c.s.Source == nil || c.s.Source.Protocol == nil || c.s.Source.Protocol == protocol.HTTP || !IsJSONMediaType(ct) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(content)) {
		if IsJSONMediaType(k) {
			return content[k]
		}
	}
	return nil
}

// jsonBody validates a JSON body against the media type's schema, in the
// description's dialect, with kin-openapi's schema validator (what
// openapi3filter calls after decoding; a JSON body is decoded here so any
// JSON media type works, vendor ones included).
//
// decoded is the body as the step already decoded it (json.Number kept,
// which both dialects' validators read), or nil to decode it here.
func (c *checker) jsonBody(check Check, media *openapi3.MediaType, body []byte, decoded *any, as openapi3.SchemaValidationOption) {
	if media.Schema == nil || media.Schema.Value == nil {
		return
	}
	var v any
	if decoded != nil {
		v = *decoded
	} else if err := json.Unmarshal(body, &v); err != nil {
		c.add(check, "", "", "the body is not valid JSON: "+err.Error())
		return
	}
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors(), as}
	if c.route.Spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	err := safeValidate(func() error { return media.Schema.Value.VisitJSON(v, opts...) })
	if err == nil {
		return
	}
	c.schemaErrors(check, "", err, func() { c.add(check, "", "", err.Error()) })
}

// response checks a response to the request br.
func (c *checker) response(ctx context.Context, br *builtRequest, ex *exchange) {
	status, header, body := ex.status, ex.respHeader, ex.respBody
	responses := c.s.Operation.Op.Responses
	if responses == nil || responses.Len() == 0 {
		return
	}
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil {
		if c.checks[CheckStatus] != CheckOff {
			c.add(CheckStatus, "", "", fmt.Sprintf("status %d is not one operation %s declares (%s)", status, c.s.Operation, strings.Join(slices.Sorted(maps.Keys(responses.Map())), ", ")))
		}
		return // nothing to check the rest against
	}
	if ref.Value == nil {
		return
	}
	ct := header.Get("Content-Type")
	var media *openapi3.MediaType
	if len(ref.Value.Content) > 0 {
		if media = c.media(ref.Value.Content, ct); media == nil {
			if c.checks[CheckContentType] != CheckOff && (len(body) > 0 || ct != "") {
				c.add(CheckContentType, "", "", fmt.Sprintf("Content-Type %q is not one the %d response declares (%s)", ct, status, strings.Join(slices.Sorted(maps.Keys(ref.Value.Content)), ", ")))
			}
		}
	}
	if c.checks[CheckSchema] == CheckOff {
		return
	}
	// Declared headers, and a body that is not JSON, through openapi3filter.
	jsonBody := media != nil && IsJSONMediaType(ct)
	otherBody := media != nil && !jsonBody && decodable(ct)
	if len(ref.Value.Headers) > 0 || otherBody {
		if in := c.validationRequest(ctx, br); in != nil {
			rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
				Options: &openapi3filter.Options{MultiError: true, ExcludeResponseBody: !otherBody}}
			rin.SetBodyBytes(body)
			err := safeValidate(func() error { return openapi3filter.ValidateResponse(ctx, rin) })
			for _, e := range flatten(err) {
				var re *openapi3filter.ResponseError
				if errors.As(e, &re) {
					c.schemaErrors(CheckSchema, "", re.Err, func() { c.add(CheckSchema, "", "", reasonOf(re.Reason, re.Err)) })
					continue
				}
				c.add(CheckSchema, "", "", e.Error())
			}
		}
	}
	if jsonBody && !(len(body) == 0 && status == http.StatusNoContent) {
		var decoded *any
		if _, text := ex.parsed.(string); ex.hasParsed && !text {
			decoded = &ex.parsed // parsed once for expressions, not again here
		}
		c.jsonBody(CheckSchema, media, body, decoded, openapi3.VisitAsResponse())
	}
}

// decodable says whether openapi3filter can decode a body of this
// content type (JSON, forms, multipart, text…). One it cannot (XML, say)
// is not checked: "unsupported content type" is the validator's limit,
// not the API's fault.
func decodable(ct string) bool {
	return ct == "" || openapi3filter.RegisteredBodyDecoder(mediaType(ct)) != nil
}

// schemaErrors adds a violation per schema error in err, each with the
// pointer of the value and the keyword; other adds one when there is none.
func (c *checker) schemaErrors(check Check, prefix string, err error, other func()) {
	found := false
	for _, e := range flatten(err) {
		var se *openapi3.SchemaError
		if !errors.As(e, &se) {
			continue
		}
		found = true
		var b strings.Builder
		b.WriteString(prefix)
		for _, p := range se.JSONPointer() {
			b.WriteString("/" + jsonpointer.Escape(p))
		}
		ptr := b.String()
		if ptr == "" && prefix == "" {
			ptr = "/"
		}
		c.add(check, ptr, se.SchemaField, se.Reason)
	}
	if !found {
		other()
	}
}

func reasonOf(reason string, err error) string {
	if err == nil {
		return reason
	}
	if reason == "" {
		return err.Error()
	}
	return reason + ": " + err.Error()
}

// flatten lists the errors inside kin-openapi's MultiError trees.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	// Only a MultiError itself: errors.As would reach through a
	// RequestError to the MultiError inside it and lose the parameter.
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	// A RequestError or ResponseError may wrap a MultiError of schema errors;
	// the caller unpacks that one, keeping the parameter it is about.
	return []error{err}
}

// safeValidate turns a panic inside the validator (a hostile description
// or body) into an error rather than a crashed run.
func safeValidate(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the validator failed: %v", r)
		}
	}()
	return f()
}

// failures are the violations of error severity, as the step's error.
func contractFailure(vs []Violation) error {
	var errs []Violation
	for _, v := range vs {
		if v.Severity == CheckError {
			errs = append(errs, v)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ContractError{Violations: errs}
}
