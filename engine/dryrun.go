package engine

import (
	"context"
	"net/http"
	"strings"
)

// DryRequest is what one step would send, as far as it is known before
// any response arrives.
type DryRequest struct {
	WorkflowID string         `json:"workflowId"`
	StepID     string         `json:"stepId"`
	Method     string         `json:"method,omitempty"`
	URL        string         `json:"url,omitempty"`
	Header     http.Header    `json:"headers,omitempty"`
	Body       string         `json:"body,omitempty"`
	Calls      string         `json:"callsWorkflow,omitempty"`
	Inputs     map[string]any `json:"inputs,omitempty"`
	Notes      []string       `json:"notes,omitempty"`
	Error      string         `json:"error,omitempty"`
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
