package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/arazzo-go/arazzo/engine/protocol"
)

// DryRequest is what one step would send, as far as it is known before
// any response arrives.
type DryRequest struct {
	WorkflowID string      `json:"workflowId"`
	StepID     string      `json:"stepId"`
	Method     string      `json:"method,omitempty"`
	URL        string      `json:"url,omitempty"`
	Header     http.Header `json:"headers,omitempty"`
	Body       string      `json:"body,omitempty"`
	Calls      string      `json:"callsWorkflow,omitempty"`
	// Message is an AsyncAPI step's "send CHANNEL" or "receive CHANNEL".
	Message string         `json:"message,omitempty"`
	Inputs  map[string]any `json:"inputs,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// DryRun validates the inputs and lays out the first request of each step
// of the workflow, in document order, without sending anything. Values that
// only a response could give show as placeholders such as
// `<$steps.start.outputs.jobId>`; values nothing gives are left out, as a
// run would leave them out.
func (p *Plan) DryRun(ctx context.Context, workflowID string, inputs map[string]any, opts *Options) ([]DryRequest, error) {
	w, inputs, _, err := p.prepare(workflowID, inputs)
	if err != nil {
		return nil, err
	}
	r := newRun(p, opts, w, inputs)
	r.dry = true
	for _, x := range p.Workflows {
		r.wfOutputs[x.ID] = placeholders("$workflows."+x.ID+".outputs.", x.Outputs)
	}
	f := newFrame(r, w, inputs)
	for _, s := range w.Steps {
		f.steps[s.ID] = placeholders("$steps."+s.ID+".outputs.", s.Outputs)
	}
	var out []DryRequest
	for _, s := range w.order {
		d := DryRequest{WorkflowID: w.ID, StepID: s.ID}
		if len(s.Unsupported) > 0 {
			d.Error = "cannot run: " + strings.Join(s.Unsupported, "; ")
			out = append(out, d)
			continue
		}
		if s.Kind == WorkflowStep {
			d.Calls, d.Inputs = s.Callee.ID, map[string]any{}
			for _, prm := range s.Params {
				if v, ok := prm.Value.Eval(f); ok {
					d.Inputs[prm.Name] = v
				}
			}
			out = append(out, d)
			continue
		}
		if s.Kind == MessageStep {
			out = append(out, dryMessage(f, s, d))
			continue
		}
		br, err := r.buildRequest(s, f)
		if err != nil {
			d.Error = r.redact.String(err.Error())
			out = append(out, d)
			continue
		}
		d.Method, d.URL, d.Body, d.Notes = br.Method, r.redact.String(br.URL), r.redact.String(string(br.Body)), br.Notices
		d.Header = r.redact.Header(br.Header)
		out = append(out, d)
	}
	return out, nil
}

func placeholders(prefix string, outs []Output) map[string]any {
	m := make(map[string]any, len(outs))
	for _, o := range outs {
		m[o.Name] = "<" + prefix + o.Name + ">"
	}
	return m
}

// dryMessage says what an AsyncAPI step would send or wait for.
func dryMessage(f *frame, s *Step, d DryRequest) DryRequest {
	ch, err := f.channel(s)
	if err != nil {
		d.Error = f.run.redact.String(err.Error())
		return d
	}
	d.Message = s.Message.Action + " " + ch
	if s.Message.Action == "send" && s.Body != nil {
		b := &builtRequest{Request: protocol.Request{Header: http.Header{}}}
		body := *s.Body
		body.ContentType = s.Message.ContentType(s)
		if err := b.setBody(&body, f, nil); err != nil {
			d.Error = f.run.redact.String(err.Error())
			return d
		}
		d.Body = f.run.redact.String(string(b.Body))
	}
	d.Header = http.Header{}
	for _, p := range s.Params {
		if v, ok := p.Value.Eval(f); ok && p.In == "header" {
			d.Header[p.Name] = []string{fmt.Sprint(v)} // as sent: message headers keep their case
		}
	}
	d.Header = f.run.redact.Header(d.Header)
	return d
}
