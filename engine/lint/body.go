package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// stepPointer is the JSON pointer of a step in the document.
func (l *linter) stepPointer(s *engine.Step) string {
	for i, w := range l.plan.Workflows {
		if w == s.Workflow {
			return fmt.Sprintf("/workflows/%d/steps/%d", i, s.Index)
		}
	}
	return ""
}

func (l *linter) requestBody(s *engine.Step) {
	op := s.Operation
	var rb = op.Op.RequestBody
	if rb == nil || rb.Value == nil {
		return
	}
	if s.Doc.RequestBody == nil {
		if rb.Value.Required {
			var types []string
			for t := range rb.Value.Content {
				types = append(types, t)
			}
			l.report("request-body-missing", stepTarget(s), fmt.Sprintf("operation %s requires a request body (%s), which step %q does not give", op, list(types, 4), s.ID))
		}
		return
	}
	body := s.Doc.RequestBody
	ct := ""
	if s.Body != nil {
		ct = s.Body.ContentType
	}
	if ct == "" {
		return
	}
	media := rb.Value.Content.Get(ct)
	if media == nil && s.Source != nil && s.Source.Protocol != nil && s.Source.Protocol != protocol.HTTP && engine.IsJSONMediaType(ct) {
		// A wire protocol that is not plain HTTP (AWS JSON) sets the content
		// type itself: a JSON body stands for the JSON type it declares.
		for _, t := range slices.Sorted(maps.Keys(rb.Value.Content)) {
			if engine.IsJSONMediaType(t) {
				media = rb.Value.Content[t]
				break
			}
		}
	}
	if media == nil {
		var types []string
		for t := range rb.Value.Content {
			types = append(types, t)
		}
		if len(types) > 0 {
			l.report("request-body-schema", body.At("contentType"), fmt.Sprintf("operation %s does not accept %s bodies (it accepts %s)", op, ct, list(types, 6)))
		}
		return
	}
	if media.Schema == nil || media.Schema.Value == nil || !body.HasPayload || !engine.IsJSONMediaType(ct) {
		return
	}
	if _, isText := body.Payload.(string); isText && !strings.HasPrefix(strings.TrimSpace(body.Payload.(string)), "$") {
		return // a JSON text template: its holes are not values lint can place
	}
	// The payload with each expression replaced by a value of its known
	// type, and where the unknowns are.
	unknown := map[string]abstractValue{}
	var build func(v any, ptr string) any
	build = func(v any, ptr string) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, c := range x {
				m[k] = build(c, ptr+"/"+jsonpointer.Escape(k))
			}
			return m
		case []any:
			a := make([]any, len(x))
			for i, c := range x {
				a[i] = build(c, fmt.Sprintf("%s/%d", ptr, i))
			}
			return a
		}
		av := abstract(s.Workflow, v)
		if av.kind == literalValue {
			return v
		}
		unknown[ptr] = av
		if sv, ok := sentinel(av.typ); ok && av.kind == typedValue {
			return sv
		}
		return nil
	}
	instance := build(body.Payload, "")
	var replaced []string
	for _, r := range body.Replacements {
		replaced = append(replaced, r.Target)
	}
	base := l.stepPointer(s) + "/requestBody/payload"
	var msgs []string
	for _, p := range visit(op.Source.OpenAPI, media.Schema.Value, instance) {
		if !keepBodyProblem(p, unknown, replaced) {
			continue
		}
		where := p.pointer
		if where == "" {
			where = "/"
		}
		msg := fmt.Sprintf("payload %s: %s", where, p.reason)
		if av, ok := unknown[p.pointer]; ok {
			if av.source != "" {
				msg = fmt.Sprintf("payload %s: %s is of type %s, but the schema wants %s", where, av.source, av.typ, p.reason)
			} else {
				msg = fmt.Sprintf("payload %s: %s is a %s: %s", where, av.expr, av.typ, p.reason)
			}
		}
		pos, ok := l.plan.Doc.Index[base+p.pointer]
		if !ok {
			pos = body.At("payload")
		}
		msgs = append(msgs, msg)
		l.report("request-body-schema", pos, fmt.Sprintf("%s (operation %s, %s)", msg, op, ct))
		if len(msgs) == 10 {
			break
		}
	}
}

// keepBodyProblem decides whether a schema problem with the payload is
// certain: not about a value lint does not know, nor about a place that
// a replacement or an unknown value may still fill.
func keepBodyProblem(p schemaProblem, unknown map[string]abstractValue, replaced []string) bool {
	for ptr, av := range unknown {
		if p.pointer == ptr {
			return av.kind == typedValue && p.keyword == "type"
		}
		if strings.HasPrefix(p.pointer, ptr+"/") {
			return false
		}
		if strings.HasPrefix(ptr, p.pointer+"/") || p.pointer == "" {
			switch p.keyword {
			case "required", "additionalProperties", "type":
			default:
				return false
			}
		}
	}
	for _, r := range replaced {
		if r == p.pointer || strings.HasPrefix(p.pointer, r+"/") || strings.HasPrefix(r, p.pointer+"/") || p.pointer == "" && r != "" {
			if p.keyword != "additionalProperties" {
				return false
			}
		}
	}
	return true
}
