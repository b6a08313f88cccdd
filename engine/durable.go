package engine

// Durable runs. With Options.Journal set, a run records its state (a
// RunState) at every step boundary and before and after every request, so
// that Plan.Resume can continue it in another process after a crash: the
// frames of the running workflows are rebuilt (inputs, step outputs,
// visits, position, retry counters) and the step at the position is
// performed again, with the response recorded before the crash used
// instead of a second request. A request that was sent but whose response
// was never recorded is sent again only when that is safe (see
// resendSafety), else the resumed run stops with an *UnsafeResendError.
//
// Secret inputs are left out of what is recorded: each occurrence of a
// secret input's value is replaced by a placeholder naming the input, and
// Resume asks for the value again.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Journal records a run as it goes. Record is called with the whole state
// at each step boundary and before and after each request; it must have
// stored it (durably) before it returns, and must not keep st, which the
// run goes on changing. An error stops the run: a run that cannot be
// recorded could not be resumed.
type Journal interface {
	Record(st *RunState) error
}

// RunState is a run as recorded: what Resume needs to continue it.
type RunState struct {
	WorkflowID string `json:"workflowId"`
	// Status is set once the run is over (succeeded or failed); a run
	// that was stopped (interrupted, timed out, refused to re-send) has
	// none and can be resumed.
	Status  Status         `json:"status,omitempty"`
	Outputs map[string]any `json:"outputs,omitempty"`
	Error   string         `json:"error,omitempty"`
	Inputs  map[string]any `json:"inputs"`
	// SecretInputs name the inputs left out; Resume needs them again.
	SecretInputs    []string                  `json:"secretInputs,omitempty"`
	Executions      int                       `json:"executions"`
	Done            map[string]Status         `json:"done,omitempty"`
	WorkflowInputs  map[string]map[string]any `json:"workflowInputs,omitempty"`
	WorkflowOutputs map[string]map[string]any `json:"workflowOutputs,omitempty"`
	// Frames are the running workflows, outermost (or first started)
	// first.
	Frames []FrameState  `json:"frames,omitempty"`
	Steps  []*StepResult `json:"steps,omitempty"`
}

// FrameState is one running workflow and its position.
type FrameState struct {
	WorkflowID string                    `json:"workflowId"`
	Inputs     map[string]any            `json:"inputs"`
	Steps      map[string]map[string]any `json:"steps"`
	Visits     map[string]int            `json:"visits"`
	// PC is the index in the workflow's execution order of StepID, the
	// step being performed; Attempt its attempt in this visit.
	PC      int            `json:"pc"`
	StepID  string         `json:"stepId"`
	Attempt int            `json:"attempt"`
	Retries map[string]int `json:"retries,omitempty"` // by "onSuccess.N" / "onFailure.N" of the step
	// Requests are those sent at this position, in order.
	Requests []RequestRecord `json:"requests,omitempty"`
	// Recorded counts the executions at this position already in the
	// run's step results (a step whose goto or retry target is running):
	// performed again on resume, they are not counted twice.
	Recorded int `json:"recorded,omitempty"`
}

// RequestRecord is a request sent, and its response once received.
type RequestRecord struct {
	StepID  string `json:"stepId"`
	Visit   int    `json:"visit"`
	Attempt int    `json:"attempt"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	// SafeBy says why sending it again is safe ("" when it is not).
	SafeBy   string          `json:"safeBy,omitempty"`
	Response *ResponseRecord `json:"response,omitempty"`
}

// ResponseRecord is a response as received.
type ResponseRecord struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header,omitempty"`
	Body   string              `json:"body,omitempty"`
	// Body64 holds a body that is not UTF-8 (JSON strings cannot).
	Body64 []byte `json:"body64,omitempty"`
}

func (rr *ResponseRecord) bytes() []byte {
	if rr.Body64 != nil {
		return rr.Body64
	}
	return []byte(rr.Body)
}

// stops reports whether err must end the run rather than fail a step that
// actions could handle: the run cannot be recorded or resumed.
func stops(err error) bool {
	var je *JournalError
	return errors.Is(err, ErrUnsafeResend) || errors.Is(err, ErrNotResumable) || errors.As(err, &je)
}

// ErrUnsafeResend is the cause of an *UnsafeResendError.
var ErrUnsafeResend = errors.New("request may have been sent already")

// UnsafeResendError stops a resumed run at a step whose request was sent
// before the crash but whose response was never recorded, when sending it
// again could repeat its effect (a second job started). Options.Resend
// sends it anyway.
type UnsafeResendError struct {
	StepID, Method, URL string
}

func (e *UnsafeResendError) Error() string {
	return fmt.Sprintf("step %s: its %s %s was sent before the run stopped, but no response was recorded; "+
		"it is not idempotent and carries no client token, so sending it again could repeat its effect "+
		"(check whether it took effect, then resume with resend to send it again)", e.StepID, e.Method, e.URL)
}

func (e *UnsafeResendError) Unwrap() error { return ErrUnsafeResend }

// ErrNotResumable is returned by Resume for a state it cannot continue.
var ErrNotResumable = errors.New("the run cannot be resumed")

// Resume continues a run from its recorded state. secrets gives the
// inputs the state left out (RunState.SecretInputs); opts.Journal, if set,
// goes on recording. It returns what Run returns.
func (p *Plan) Resume(ctx context.Context, st *RunState, secrets map[string]any, opts *Options) (*Result, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: no state", ErrNotResumable)
	}
	if st.Status != "" {
		return nil, fmt.Errorf("%w: it is over (%s)", ErrNotResumable, st.Status)
	}
	w := p.Workflow(st.WorkflowID)
	if w == nil {
		return nil, fmt.Errorf("%w: the document has no workflow %q", ErrNotResumable, st.WorkflowID)
	}
	unseal := map[string]string{}
	var missing []string
	for _, name := range st.SecretInputs {
		v, ok := secrets[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		unseal[placeholder(name)] = fmt.Sprint(v)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the secret inputs %s were not recorded: give them again", ErrNotResumable, strings.Join(missing, ", "))
	}
	var rs RunState
	if err := remarshal(st, &rs, unseal); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotResumable, err)
	}
	inputs := rs.Inputs
	for _, name := range st.SecretInputs {
		inputs[name] = secrets[name]
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.resume = &rs
	return p.Run(ctx, w.ID, inputs, &o)
}

// durable is a run's recording state (nil when not recording or resuming).
type durable struct {
	journal Journal
	resend  bool
	seal    map[string]string // secret value → placeholder
	secret  []string
	top     *Workflow
	inputs  map[string]any
	frames  []*frame     // running, in the order they started
	resume  []FrameState // frames still to be rebuilt, in that order
	err     error        // the first recording error
	execAt  int          // run.executions at the last step boundary
}

func placeholder(name string) string { return "\x00arazzo-secret:" + name + "\x00" }

// ClientTokenName reports whether a parameter, member or input name is a
// client token (an idempotency key): the AWS ClientToken,
// ClientRequestToken and IdempotencyToken, and Idempotency-Key. Durable
// runs record such inputs although their names sound secret: the token
// must be the same when a request is sent again.
func ClientTokenName(name string) bool { return clientTokenName(name) }

func clientTokenName(name string) bool {
	switch strings.Join(splitWords(name), "") {
	case "clienttoken", "clientrequesttoken", "idempotencytoken", "idempotencykey", "xidempotencykey", "xamzclienttoken":
		return true
	}
	return false
}

// newDurable sets up recording for a run of w, or returns nil.
func newDurable(o *Options, w *Workflow, inputs map[string]any) *durable {
	if o == nil || (o.Journal == nil && o.resume == nil) {
		return nil
	}
	d := &durable{journal: o.Journal, resend: o.Resend, top: w, inputs: inputs, seal: map[string]string{}}
	for name, v := range inputs {
		s, ok := v.(string)
		if w.SecretInput(name) && !clientTokenName(name) {
			d.secret = append(d.secret, name)
			if ok && s != "" {
				d.seal[s] = placeholder(name)
			}
		}
	}
	slices.Sort(d.secret)
	if o.resume != nil {
		d.resume = o.resume.Frames
	}
	return d
}

// restoreRun puts back what the run as a whole had done.
func (r *run) restoreRun(st *RunState) {
	r.executions = st.Executions
	for id, s := range st.Done {
		if w := r.findWorkflow(id); w != nil {
			r.done[w] = s
		}
	}
	maps.Copy(r.wfInputs, st.WorkflowInputs)
	maps.Copy(r.wfOutputs, st.WorkflowOutputs)
	for _, sr := range st.Steps {
		w := r.findWorkflow(sr.WorkflowID)
		if w == nil || w.Step(sr.StepID) == nil {
			continue
		}
		r.stepIndex[w.Step(sr.StepID)] = sr
		r.stepResults = append(r.stepResults, sr)
	}
}

// findWorkflow finds a workflow by id in the plan or the Arazzo documents
// it uses.
func (r *run) findWorkflow(id string) *Workflow {
	seen := map[*Plan]bool{}
	var find func(p *Plan) *Workflow
	find = func(p *Plan) *Workflow {
		if p == nil || seen[p] {
			return nil
		}
		seen[p] = true
		if w := p.Workflow(id); w != nil {
			return w
		}
		for _, s := range p.sources {
			if w := find(s.Plan); w != nil {
				return w
			}
		}
		return nil
	}
	return find(r.plan)
}

// enter registers a workflow's new frame, rebuilt from the recorded state
// when the run is resuming into it.
func (r *run) enter(f *frame) error {
	d := r.durable
	if d == nil {
		return nil
	}
	d.frames = append(d.frames, f)
	if len(d.resume) == 0 {
		return nil
	}
	fs := d.resume[0]
	d.resume = d.resume[1:]
	w := f.w
	if fs.WorkflowID != w.ID || fs.PC < 0 || fs.PC >= len(w.order) || w.order[fs.PC].ID != fs.StepID {
		return fmt.Errorf("%w: the recorded position (workflow %s, step %s) is not in this document's workflow %s; was the document changed?",
			ErrNotResumable, fs.WorkflowID, fs.StepID, w.ID)
	}
	s := w.order[fs.PC]
	f.inputs, f.steps = fs.Inputs, fs.Steps
	if f.inputs == nil {
		f.inputs = map[string]any{}
	}
	if f.steps == nil {
		f.steps = map[string]map[string]any{}
	}
	for id, n := range fs.Visits {
		if t := w.Step(id); t != nil {
			f.visits[t] = n
		}
	}
	f.pc, f.attempt, f.resumed = fs.PC, fs.Attempt, true
	for key, n := range fs.Retries {
		if a := actionByKey(s, key); a != nil {
			if f.retries == nil {
				f.retries = map[*Action]int{}
			}
			f.retries[a] = n
		}
	}
	f.replay, f.skipRecords = fs.Requests, fs.Recorded
	r.wfInputs[w.ID] = f.inputs
	return nil
}

// leave unregisters a workflow's frame as it ends.
func (r *run) leave(f *frame) {
	if d := r.durable; d != nil {
		if i := slices.Index(d.frames, f); i >= 0 {
			d.frames = slices.Delete(d.frames, i, i+1)
		}
	}
}

func actionKey(s *Step, a *Action) string {
	if i := slices.Index(s.OnSuccess, a); i >= 0 {
		return fmt.Sprintf("onSuccess.%d", i)
	}
	return fmt.Sprintf("onFailure.%d", slices.Index(s.OnFailure, a))
}

func actionByKey(s *Step, key string) *Action {
	var i int
	if _, err := fmt.Sscanf(key, "onSuccess.%d", &i); err == nil && i >= 0 && i < len(s.OnSuccess) {
		return s.OnSuccess[i]
	}
	if _, err := fmt.Sscanf(key, "onFailure.%d", &i); err == nil && i >= 0 && i < len(s.OnFailure) {
		return s.OnFailure[i]
	}
	return nil
}

// checkpoint records that frame f is about to perform the step at pc
// (attempt attempt of its visit): the step boundary a resume starts from.
func (r *run) checkpoint(f *frame, pc, attempt int, retries map[*Action]int) error {
	if r.durable == nil {
		return nil
	}
	// A copy: decide counts the next retry in the loop's map before a
	// retry's target step runs within this position.
	f.pc, f.attempt, f.retries, f.sent, f.recorded = pc, attempt, maps.Clone(retries), nil, 0
	r.durable.execAt = r.executions
	// What the frame had at the boundary: a retry's target step, run
	// within the position, changes its visits and outputs, and a resume
	// performs that again.
	f.savedSteps = maps.Clone(f.steps)
	f.savedVisits = make(map[string]int, len(f.visits))
	for s, n := range f.visits {
		f.savedVisits[s.ID] = n
	}
	return r.save()
}

// save hands the run's state to the journal.
func (r *run) save() error {
	d := r.durable
	if d == nil || d.journal == nil {
		return nil
	}
	if d.err != nil {
		return d.err
	}
	st := r.state()
	var sealed RunState
	err := remarshal(st, &sealed, d.seal)
	if err == nil {
		err = d.journal.Record(&sealed)
	}
	if err != nil {
		d.err = &JournalError{Err: err}
	}
	return d.err
}

// JournalError is a run stopped because its state could not be recorded.
type JournalError struct{ Err error }

func (e *JournalError) Error() string { return "recording the run's state: " + e.Err.Error() }
func (e *JournalError) Unwrap() error { return e.Err }

// state is the run's state as it is now (sharing the run's maps).
func (r *run) state() *RunState {
	d := r.durable
	st := &RunState{WorkflowID: d.top.ID, Inputs: map[string]any{}, SecretInputs: d.secret, Executions: d.execAt,
		Done: map[string]Status{}, WorkflowInputs: r.wfInputs, WorkflowOutputs: r.wfOutputs, Steps: r.stepResults}
	for k, v := range d.inputs {
		if !slices.Contains(d.secret, k) {
			st.Inputs[k] = v
		}
	}
	for w, s := range r.done {
		st.Done[w.ID] = s
	}
	for _, f := range d.frames {
		if f.savedVisits == nil {
			continue // before its first step
		}
		fs := FrameState{WorkflowID: f.w.ID, Inputs: f.inputs, Steps: f.savedSteps, Visits: f.savedVisits, PC: f.pc,
			Attempt: f.attempt, Requests: f.sent, Recorded: f.recorded}
		if f.pc < len(f.w.order) {
			fs.StepID = f.w.order[f.pc].ID
		}
		if len(f.retries) > 0 {
			fs.Retries = map[string]int{}
			for a, n := range f.retries {
				fs.Retries[actionKey(f.w.order[f.pc], a)] = n
			}
		}
		st.Frames = append(st.Frames, fs)
	}
	if n := len(st.Frames); n > 1 {
		// Each outer frame counts its step again as it resumes into it.
		st.Executions -= n - 1
	}
	return st
}

// finish records how the run ended. A run stopped by its context or by a
// request it would not re-send keeps its position, to be resumed.
func (r *run) finish(out wfOutcome, outputs map[string]any) {
	d := r.durable
	if d == nil || d.journal == nil || d.err != nil {
		return
	}
	var stop *StoppedError
	if out.err != nil && (errors.As(out.err, &stop) || errors.Is(out.err, ErrUnsafeResend) || errors.Is(out.err, ErrNotResumable)) {
		return
	}
	d.frames, d.execAt = nil, r.executions
	st := r.state()
	st.Status, st.Outputs, st.Error = out.status, outputs, errString(out.err)
	var sealed RunState
	if err := remarshal(st, &sealed, d.seal); err == nil {
		d.journal.Record(&sealed)
	}
}

// remarshal copies a state through JSON (numbers kept exact), replacing
// each key of subst found in its string values by its value: sealing
// secrets on the way to the journal, unsealing them on the way back. Only
// string values are touched, never names or numbers, however short the
// secret.
func remarshal(in *RunState, out *RunState, subst map[string]string) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if len(subst) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		// One pass, the longest first where several match: a secret
		// inside another, or inside a placeholder, is left alone.
		froms := slices.Collect(maps.Keys(subst))
		slices.SortFunc(froms, func(a, b string) int { return len(b) - len(a) })
		var pairs []string
		for _, from := range froms {
			pairs = append(pairs, from, subst[from])
		}
		if data, err = json.Marshal(substitute(v, strings.NewReplacer(pairs...))); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(out)
}

func substitute(v any, rep *strings.Replacer) any {
	switch x := v.(type) {
	case string:
		return rep.Replace(x) // inside a longer string too ("Bearer s3cret")
	case map[string]any:
		for k, e := range x {
			x[k] = substitute(e, rep)
		}
	case []any:
		for i, e := range x {
			x[i] = substitute(e, rep)
		}
	}
	return v
}

// sending records a request about to be sent; it returns why re-sending
// it would be safe, for the record.
func (r *run) sending(f *frame, s *Step, attempt int, br *builtRequest) error {
	if r.durable == nil {
		return nil
	}
	f.sent = append(f.sent, RequestRecord{StepID: s.ID, Visit: f.visits[s], Attempt: attempt, Method: br.Method,
		URL: r.redact.String(br.URL), SafeBy: resendSafety(br)})
	return r.save()
}

// received records the response of the request sending recorded.
func (r *run) received(f *frame, status int, header http.Header, body []byte) error {
	if r.durable == nil || len(f.sent) == 0 {
		return nil
	}
	rr := &ResponseRecord{Status: status, Header: header}
	if utf8.Valid(body) {
		rr.Body = string(body)
	} else {
		rr.Body64 = body
	}
	f.sent[len(f.sent)-1].Response = rr
	return r.save()
}

// replayed returns the response recorded for this request before the
// run stopped, if any. ok is false when the request must be sent (again);
// err is an *UnsafeResendError when it must not.
func (r *run) replayed(f *frame, s *Step, attempt int, br *builtRequest) (rec *ResponseRecord, err error) {
	if r.durable == nil || len(f.replay) == 0 {
		return nil, nil
	}
	q := f.replay[0]
	f.replay = f.replay[1:]
	if q.StepID != s.ID || q.Visit != f.visits[s] || q.Attempt != attempt {
		return nil, fmt.Errorf("%w: the recorded request was for step %s (visit %d, attempt %d), the run is at step %s (visit %d, attempt %d); was the document changed?",
			ErrNotResumable, q.StepID, q.Visit, q.Attempt, s.ID, f.visits[s], attempt)
	}
	if q.Response != nil {
		f.sent = append(f.sent, q)
		return q.Response, nil
	}
	if resendSafety(br) == "" && !r.durable.resend {
		return nil, &UnsafeResendError{StepID: s.ID, Method: q.Method, URL: q.URL}
	}
	return nil, nil
}

// resendSafety says why a request can be sent twice with the effect of
// once: an idempotent method (RFC 9110 9.2.2), or a client token the
// server deduplicates on (a header, query parameter or top-level JSON
// body member named like ClientToken or Idempotency-Key, with a value,
// which the run recorded, since it rebuilds the request from its state).
// It returns "" when it cannot.
func resendSafety(br *builtRequest) string {
	switch br.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return "idempotent method " + br.Method
	}
	for name, v := range br.Header {
		if clientTokenName(name) && len(v) > 0 && v[0] != "" {
			return "client token header " + name
		}
	}
	for name, v := range br.query {
		if clientTokenName(name) && v != "" {
			return "client token parameter " + name
		}
	}
	if br.HasBody && json.Valid(br.Body) {
		var obj map[string]any
		if json.Unmarshal(br.Body, &obj) == nil {
			for name, v := range obj {
				if s, ok := v.(string); ok && s != "" && clientTokenName(name) {
					return "client token " + name
				}
			}
		}
	}
	return ""
}

// DocumentHash identifies a document as run: the bytes of the file at doc
// and those of the local source descriptions plan names, so that a durable
// run (Resume, a Temporal worker) refuses a changed document whose
// positions and steps might no longer mean the recorded ones.
func DocumentHash(doc string, plan *Plan) (string, error) {
	h := sha256.New()
	data, err := os.ReadFile(doc)
	if err != nil {
		return "", err
	}
	h.Write(data)
	var names []string
	for _, sd := range plan.Doc.SourceDescriptions {
		names = append(names, sd.Name)
	}
	slices.Sort(names)
	for _, n := range names {
		src := plan.Source(n)
		if src == nil || src.Location == "" || strings.Contains(src.Location, "://") {
			continue
		}
		if data, err := os.ReadFile(src.Location); err == nil {
			fmt.Fprintf(h, "\x00%s\x00", n)
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
