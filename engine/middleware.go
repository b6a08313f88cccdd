package engine

// Hooks for Middleware. They keep scheme-specific code (credentials,
// signing, OAuth flows) out of the engine while giving it what it needs:
//
//   - CallOf: which step, operation and source a request is for, and the
//     expression context its values come from (per-operation security
//     requirements, x-security extensions over inputs);
//   - AddSecret: values the middleware derives or fetches during a run
//     (tokens, Authorization headers) join the run's masking;
//   - Preparer: a check before anything is sent (a required credential
//     that is missing), over every step the run can reach;
//   - WithTLS: a copy of a Caller with a TLS configuration of its own
//     (client certificates for mutual TLS).

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/arazzo-go/arazzo/expr"
)

type callKey struct{}

// Call is what the engine tells middleware about the request it is given.
// The engine puts it on the context of every request of a run that has
// middleware; CallOf reads it.
type Call struct {
	// Step is the step the request is for: Step.Operation is its OpenAPI
	// operation (with its security requirements), Step.Source the source,
	// Step.Doc and Step.Workflow.Doc carry the document's extensions.
	Step    *Step
	Attempt int
	// ServerURL is the source's base URL in this run (after --server
	// overrides and server variables): what relative URLs in a
	// description, such as an OAuth tokenUrl, are resolved against.
	ServerURL string
	// Values evaluates runtime expressions as the step's own parameters
	// are: $inputs of the running workflow, $steps outputs so far,
	// $components. ($statusCode, $request and $response are not this
	// request's: it has not been answered yet.)
	Values expr.Context
	run    *run
	// secrets takes AddSecret's values where there is no run (CallContext).
	secrets func(...string)
}

// CallOf returns what the engine says about the request whose context is
// ctx, or nil outside a run (a middleware's own tests).
func CallOf(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// AddSecret masks values in everything the run reports from now on:
// events (and so every report writer), errors and the result. A Caller
// calls it with what it derives or fetches during the run (an OAuth token,
// an Authorization header) before sending it, so an API that echoes it is
// masked too. Values shorter than 4 bytes are ignored; outside a run it
// does nothing.
func AddSecret(ctx context.Context, values ...string) {
	c := CallOf(ctx)
	switch {
	case c == nil:
	case c.run != nil:
		c.run.redact.add(values...)
	case c.secrets != nil:
		c.secrets(values...)
	}
}

// CallContext returns a context that tells middleware about a request
// performed outside the run that built it: a durable backend sends each
// request from a worker (package temporal), where middleware must apply
// credentials at send time. CallOf returns c; AddSecret hands its values
// to addSecret (nil drops them).
func CallContext(ctx context.Context, c Call, addSecret func(...string)) context.Context {
	c.run, c.secrets = nil, addSecret
	return context.WithValue(ctx, callKey{}, &c)
}

// InputValues evaluates expressions over a workflow's inputs alone: the
// Values of a Call made with CallContext, where the run's step outputs
// are not at hand.
func InputValues(inputs map[string]any) expr.Context { return inputValues(inputs) }

type inputValues map[string]any

func (inputValues) URL() (string, bool)                                { return "", false }
func (inputValues) Method() (string, bool)                             { return "", false }
func (inputValues) StatusCode() (int, bool)                            { return 0, false }
func (inputValues) Message(bool) expr.Message                          { return nil }
func (v inputValues) Inputs() map[string]any                           { return v }
func (inputValues) Outputs() map[string]any                            { return nil }
func (inputValues) StepOutputs(string) (map[string]any, bool)          { return nil, false }
func (inputValues) WorkflowValues(string, bool) (map[string]any, bool) { return nil, false }
func (inputValues) SourceDescription(string, string) (any, bool)       { return nil, false }
func (inputValues) Component(string, string) (any, bool)               { return nil, false }

// Preparer is implemented by Middleware that checks or sets up something
// before a run sends its first request: the credentials that the
// operations the run can reach require, say. Plan.Run calls Prepare once
// per run, after the inputs are validated; an error ends the run with no
// result, nothing sent, as invalid inputs do.
type Preparer interface {
	Prepare(ctx context.Context, scope *RunScope) error
}

// RunScope is what a run can reach, for Preparer.
type RunScope struct {
	Workflow *Workflow
	// Inputs are the workflow's inputs, with the schema's defaults applied.
	Inputs map[string]any
	// Steps are the operation steps the run can reach, each once, in
	// document order: the workflow's, its dependencies', and those of the
	// workflows it calls, retries or goes to, transitively.
	Steps []*Step
	// Values evaluates expressions over the inputs of Workflow (the
	// inputs of other workflows are only known when they run).
	Values expr.Context
	run    *run
}

// AddSecret masks values in everything the run reports (see AddSecret).
func (s *RunScope) AddSecret(values ...string) { s.run.redact.add(values...) }

// prepare calls every Preparer among the run's middleware.
func (r *run) prepare(ctx context.Context, w *Workflow, inputs map[string]any) error {
	var scope *RunScope
	for _, m := range r.opts.Middleware {
		p, ok := m.(Preparer)
		if !ok {
			continue
		}
		if scope == nil {
			scope = &RunScope{Workflow: w, Inputs: inputs, Steps: reachableSteps(w), Values: newFrame(r, w, inputs), run: r}
		}
		if err := p.Prepare(ctx, scope); err != nil {
			return err
		}
	}
	return nil
}

// reachableSteps lists the operation steps a run of w can reach.
func reachableSteps(w *Workflow) []*Step {
	seen := map[*Workflow]bool{}
	var steps []*Step
	var visit func(*Workflow)
	visit = func(w *Workflow) {
		if w == nil || seen[w] {
			return
		}
		seen[w] = true
		for _, d := range w.DependsOn {
			visit(d)
		}
		for _, s := range w.Steps {
			if s.Kind == OperationStep {
				steps = append(steps, s)
			}
			visit(s.Callee)
			for _, a := range append(append([]*Action{}, s.OnSuccess...), s.OnFailure...) {
				visit(a.TargetWorkflow)
			}
		}
	}
	visit(w)
	return steps
}

// TLSCaller is a Caller that can copy itself with a TLS configuration of
// its own; WithTLS uses it for callers other than *http.Client.
type TLSCaller interface {
	WithTLS(configure func(*tls.Config)) (Caller, error)
}

// WithTLS returns a copy of c whose connections use their own TLS
// configuration, as configure changes it (a client certificate for mutual
// TLS, a private CA to trust): the per-source transport a middleware needs
// when one source must present a certificate that others must not. It
// works on the default caller (an *http.Client over an *http.Transport)
// and on any TLSCaller; a middleware that calls it on the next Caller it
// wraps must therefore come before middleware that wraps callers of its
// own (first in Options.Middleware). The copy has its own connection pool.
func WithTLS(c Caller, configure func(*tls.Config)) (Caller, error) {
	switch c := c.(type) {
	case TLSCaller:
		return c.WithTLS(configure)
	case *http.Client:
		var t *http.Transport
		switch rt := c.Transport.(type) {
		case nil:
			t = http.DefaultTransport.(*http.Transport).Clone()
		case *http.Transport:
			t = rt.Clone()
		default:
			return nil, fmt.Errorf("the HTTP client's transport (%T) cannot take a TLS configuration", rt)
		}
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		configure(t.TLSClientConfig)
		cp := *c
		cp.Transport = t
		return &cp, nil
	}
	return nil, fmt.Errorf("the caller (%T) cannot take a TLS configuration of its own", c)
}
