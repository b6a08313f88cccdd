package expr

import (
	"strings"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Context is what expressions are evaluated against; the executor
// implements it. Every lookup reports ok == false for "undefined".
type Context interface {
	URL() (string, bool)
	Method() (string, bool)
	StatusCode() (int, bool)
	// Message returns the current step's request or response, or nil.
	Message(response bool) Message
	Inputs() map[string]any
	// Outputs is the current workflow's outputs, or inside a workflowId
	// step the called workflow's outputs.
	Outputs() map[string]any
	StepOutputs(stepID string) (map[string]any, bool)
	WorkflowValues(workflowID string, outputs bool) (map[string]any, bool)
	SourceDescription(name, ref string) (any, bool)
	Component(kind, key string) (any, bool)
}

// MessageContext is a Context that can show the AsyncAPI message of the
// current step (`$message`, 1.1): the one sent or received.
type MessageContext interface {
	AsyncHeader(name string) (string, bool)
	AsyncPayload() (any, bool)
}

// Message is an HTTP request or response as expressions see it.
type Message interface {
	Header(name string) (string, bool) // case-insensitive
	Query(name string) (string, bool)
	Path(name string) (string, bool)
	Body() (any, bool)
}

// Eval resolves the expression. ok is false when the value is undefined.
func (e *Expression) Eval(ctx Context) (v any, ok bool) {
	switch e.Source {
	case SrcURL:
		s, ok := ctx.URL()
		return s, ok
	case SrcMethod:
		s, ok := ctx.Method()
		return s, ok
	case SrcStatusCode:
		c, ok := ctx.StatusCode()
		if !ok {
			return nil, false
		}
		return c, true
	case SrcRequest, SrcResponse:
		m := ctx.Message(e.Source == SrcResponse)
		if m == nil {
			return nil, false
		}
		switch e.Part {
		case "header":
			s, ok := m.Header(e.Name)
			return s, ok
		case "query":
			s, ok := m.Query(e.Name)
			return s, ok
		case "path":
			s, ok := m.Path(e.Name)
			return s, ok
		}
		if v, ok = m.Body(); !ok {
			return nil, false
		}
		return e.descend(v)
	case SrcInputs:
		return e.named(ctx.Inputs(), true)
	case SrcOutputs:
		return e.named(ctx.Outputs(), true)
	case SrcSteps:
		m, ok := ctx.StepOutputs(e.ID)
		return e.named(m, ok)
	case SrcWorkflows:
		m, ok := ctx.WorkflowValues(e.ID, e.Part == "outputs")
		return e.named(m, ok)
	case SrcSourceDescriptions:
		return ctx.SourceDescription(e.ID, e.Name)
	case SrcComponents:
		return ctx.Component(e.Part, e.Name)
	case SrcMessage:
		mc, ok := ctx.(MessageContext)
		if !ok {
			return nil, false
		}
		if e.Part == "header" {
			s, ok := mc.AsyncHeader(e.Name)
			return s, ok
		}
		if v, ok = mc.AsyncPayload(); !ok {
			return nil, false
		}
		return e.descend(v)
	case SrcSelf:
		if sc, ok := ctx.(SelfContext); ok {
			s, ok := sc.Self()
			return s, ok
		}
	}
	return nil, false
}

// named looks up e.Name in m. A name with dots is tried as one exact key
// first, then as a shorter key followed by property navigation (checklist
// O4), so `$inputs.customer.firstName` works either way.
func (e *Expression) named(m map[string]any, ok bool) (any, bool) {
	if !ok || m == nil {
		return nil, false
	}
	if v, ok := m[e.Name]; ok {
		return e.descend(v)
	}
	for i := strings.LastIndexByte(e.Name, '.'); i > 0; i = strings.LastIndexByte(e.Name[:i], '.') {
		v, ok := m[e.Name[:i]]
		if !ok {
			continue
		}
		for _, k := range strings.Split(e.Name[i+1:], ".") {
			if v, ok = navigate(v, NavElem{Key: k}); !ok {
				return nil, false
			}
		}
		return e.descend(v)
	}
	return nil, false
}

func (e *Expression) descend(v any) (any, bool) {
	ok := true
	if e.HasPointer {
		if s, isText := v.(string); isText && len(e.Pointer) > 0 && looksXML(s) {
			if v, ok = xmlPointer(s, e.Pointer); !ok {
				return nil, false
			}
		} else if v, ok = jsonpointer.Get(v, e.Pointer); !ok {
			return nil, false
		}
	}
	for _, n := range e.Nav {
		if v, ok = navigate(v, n); !ok {
			return nil, false
		}
	}
	return v, true
}

// navigate applies one `.key` or `[n]` step.
func navigate(v any, n NavElem) (any, bool) {
	if n.IsIdx {
		a, ok := v.([]any)
		if !ok || n.Index >= len(a) {
			return nil, false
		}
		return a[n.Index], true
	}
	switch x := v.(type) {
	case map[string]any:
		r, ok := x[n.Key]
		return r, ok
	case []any:
		// `.0` reads like an index in dotted paths.
		if i, ok := jsonpointer.Index(n.Key); ok && i < len(x) {
			return x[i], true
		}
	}
	return nil, false
}
