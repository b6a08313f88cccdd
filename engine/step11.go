package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// The run-time side of what Arazzo 1.1 adds to steps: timeouts, step
// dependencies, action parameters and $self.

// timed is a step kind whose every execution has a deadline, the step's
// 1.1 timeout. A step that exceeds it fails with a StepTimeoutError, which
// is an ordinary step failure: its onFailure actions decide what follows
// (retry, goto, end), as for any other failure.
type timed struct{ performer }

func (t timed) perform(ctx context.Context, f *frame, s *Step, attempt int) *stepOutcome {
	sctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	start := f.run.opts.Now()
	res := t.performer.perform(sctx, f, s, attempt)
	// The run's clock decides too, not only the context's wall-clock
	// timer: a run replayed on Temporal (engine/temporal) replays the
	// failure at once, and must decide as the run did, by the workflow's
	// clock.
	over := errors.Is(sctx.Err(), context.DeadlineExceeded) || f.run.opts.Now().Sub(start) >= s.Timeout
	if ctx.Err() == nil && over && res.err != nil {
		res.err = &StepTimeoutError{StepID: s.ID, Timeout: s.Timeout, Err: res.err}
		res.interrupted = false // the run goes on: onFailure decides
	}
	return res
}

// pending names the first dependency of s that has not completed in this
// run, or "". Dependencies inside the workflow are satisfied by the
// execution order unless a goto skipped them; those in other workflows or
// documents must have run already (dependsOn starts nothing).
func (r *run) pending(s *Step) string {
	for i, d := range s.After {
		if sr := r.stepIndex[d]; sr == nil || sr.Runs == 0 {
			return s.AfterText[i]
		}
	}
	return ""
}

// targetInputs are the inputs an action with 1.1 parameters passes to the
// workflow it transfers to, evaluated in this step's context and checked
// (enterTarget handles actions without parameters).
func (f *frame) targetInputs(a *Action) (map[string]any, error) {
	w := a.TargetWorkflow
	in := map[string]any{}
	for _, p := range a.Params {
		if v, ok := p.Value.Eval(f); ok {
			in[p.Name] = v
		}
	}
	if w.Inputs != nil {
		in = w.Inputs.ApplyDefaults(in)
		if err := w.Inputs.Validate(in); err != nil {
			return nil, &RequestError{fmt.Errorf("inputs that action %s passes to workflow %s: %w", a.Name, w.ID, err)}
		}
	}
	return in, nil
}

// Self is the document's $self, resolved (expr.SelfContext).
func (f *frame) Self() (string, bool) { return f.w.Plan.selfURI() }

// setAll sets every node an RFC 9535 replacement target selects; a target
// that selects nothing is an error, as an XPath target's is.
func (rep *Replacement) setAll(v, val any) (any, error) {
	ptrs := rep.locate(v)
	if len(ptrs) == 0 {
		return nil, fmt.Errorf("replacement target %q selects nothing in the payload", rep.Target)
	}
	for _, toks := range ptrs {
		var err error
		if v, err = jsonpointer.Set(v, toks, val); err != nil {
			return nil, fmt.Errorf("replacement target %q: %v", rep.Target, err)
		}
	}
	return v, nil
}

// serializeQueryString lays out an OpenAPI 3.2 `in: querystring` value:
// the whole query. A string in the form media type (the default) is
// already a query string and is sent as written, with only the bytes a
// URL cannot carry escaped; in another media type (application/json) it
// is escaped whole. An object is form-encoded.
func serializeQueryString(prm *Param, v any) string {
	form := true
	if prm.Decl != nil {
		for mt := range prm.Decl.Content {
			form = strings.HasPrefix(mt, "application/x-www-form-urlencoded")
		}
	}
	if m, ok := v.(map[string]any); ok && form {
		q := url.Values{}
		for k, x := range m {
			q.Set(k, expr.Text(x))
		}
		return q.Encode()
	}
	text := expr.Text(v)
	if !form {
		return url.QueryEscape(text)
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"#<>\^`+"`{|}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Placeholders reports a dry run (expr.PlaceholderContext).
func (f *frame) Placeholders() bool { return f.run.dry }
