package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/diag"
	"github.com/arazzo-go/arazzo/expr"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Limits that keep a hostile document from exhausting memory: alias bombs
// expand a few nodes into very many, and deep nesting costs stack. Nodes
// written out in the text are not limited here (the size cap on reads
// bounds them); only those that aliases produce are.
const (
	maxAliasNodes = 250_000
	maxDepth      = 200
)

// Parse reads an Arazzo document from YAML or JSON (JSON is read as YAML,
// which keeps positions). It never panics; anything it cannot make sense of
// becomes a diagnostic. The returned document is nil only when the bytes are
// not a YAML mapping at all.
func Parse(file string, data []byte) (*Document, diag.List) {
	root, err := DecodeYAML(data)
	return ParseDecoded(file, root, err)
}

// ParseDecoded is Parse for a node tree already decoded with DecodeYAML
// (and its error), so a caller that looks at the nodes first parses once.
func ParseDecoded(file string, root *yaml.Node, err error) (*Document, diag.List) {
	p := &parser{file: file}
	if err != nil {
		p.errorf(yamlErrorPos(err), "syntax", "%s", cleanYAMLError(err))
		return nil, p.diags
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(posOf(root), "structure", "an Arazzo document must be an object, found %s", kindName(root))
		return nil, p.diags
	}
	doc := &Document{File: file, Index: map[string]Pos{}}
	conv := &converter{index: doc.Index}
	raw, err := conv.value(root, "", 0)
	if err != nil {
		p.errorf(posOf(root), "limits", "%v", err)
		return nil, p.diags
	}
	doc.Raw = raw
	p.document(root, doc)
	return doc, p.diags
}

// DecodeYAML parses bytes into a yaml.Node tree and returns the document's
// content node. It recovers from panics inside the YAML library, which some
// pathological inputs have triggered in the past.
func DecodeYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	if err := trailingJSON(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("yaml: the document is empty")
		}
		return nil, err
	}
	if n.Kind == 0 || len(n.Content) == 0 {
		return nil, fmt.Errorf("yaml: the document is empty")
	}
	// A second document in the same file would be ignored: say so.
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		line := more.Line
		if err != nil {
			return nil, err
		}
		if len(more.Content) == 0 || more.Content[0].Kind == yaml.ScalarNode && more.Content[0].Tag == "!!null" {
			return n.Content[0], nil // an empty second document holds nothing to ignore
		}
		return nil, fmt.Errorf("yaml: line %d: a second YAML document starts here; an Arazzo file holds one document (remove the --- separator and what follows, or split the file)", line)
	}
	return n.Content[0], nil
}

// trailingJSON reports content after a JSON document's closing brace,
// which the YAML parser would otherwise silently drop.
func trailingJSON(data []byte) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return nil // not strict JSON: YAML flow syntax, or a syntax error YAML reports
	}
	off := len(data) - len(trimmed) + int(dec.InputOffset())
	rest := data[off:]
	if skip := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")); skip < len(rest) {
		off += skip
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := off - bytes.LastIndexByte(data[:off], '\n')
		return fmt.Errorf("yaml: line %d, column %d: content after the end of the JSON document: %q", line, col, excerpt(data[off:]))
	}
	return nil
}

func excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

var yamlLinePrefixRE = regexp.MustCompile(`^line \d+(, column \d+)?: `)

var yamlLineRE = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

func yamlErrorPos(err error) Pos {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return Pos{Line: 1, Col: 1}
	}
	line, _ := strconv.Atoi(m[1])
	col := 1
	if m[2] != "" {
		col, _ = strconv.Atoi(m[2])
	}
	return Pos{Line: line, Col: col}
}

func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = yamlLinePrefixRE.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "\n", "; ")
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// contentPos is where a scalar's text starts: after the opening quote of a
// quoted scalar, so an offset into the value maps to its exact column.
func contentPos(n *yaml.Node) Pos {
	p := posOf(n)
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
		p.Col++
	}
	return p
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "an array"
	case yaml.AliasNode:
		return kindName(n.Alias)
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	return "a string"
}

type parser struct {
	file  string
	diags diag.List
	// version and declared are what the document's arazzo field says.
	version  Version
	declared string
}

// only11 reports a 1.1 feature used in a document that declares 1.0.
func (p *parser) only11(pos Pos, what string) {
	if p.version != V10 {
		return
	}
	p.errorf(pos, "arazzo-1.1-feature", "%s is an Arazzo 1.1 feature, but this document declares arazzo: %s; run `arazzo upgrade %s` to make it a 1.1 document", what, p.declared, p.file)
}

// only11Fields reports each 1.1-only field of an object in a 1.0 document.
func (p *parser) only11Fields(n *Node, fields ...string) {
	for _, f := range fields {
		if n.Has(f) {
			p.only11(n.KeyAt(f), fmt.Sprintf("the %s field", f))
		}
	}
}

func (p *parser) report(sev diag.Severity, pos Pos, rule, format string, args ...any) {
	p.diags = append(p.diags, diag.Diagnostic{
		File: p.file, Line: pos.Line, Column: pos.Col, Severity: sev,
		Rule: rule, Message: fmt.Sprintf(format, args...),
	})
}

func (p *parser) errorf(pos Pos, rule, format string, args ...any) {
	p.report(diag.Error, pos, rule, format, args...)
}

func (p *parser) warnf(pos Pos, rule, format string, args ...any) {
	p.report(diag.Warning, pos, rule, format, args...)
}

// fields records the object's position, each field's position and the
// extensions, and returns the field value nodes by name. A non-object is
// left to the schema check to report.
func (p *parser) fields(n *yaml.Node, into *Node) map[string]*yaml.Node {
	n = deref(n)
	into.Pos = posOf(n)
	into.FieldPos = map[string]Pos{}
	into.keyPos = map[string]Pos{}
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		out[k.Value] = v
		into.FieldPos[k.Value] = contentPos(v)
		into.keyPos[k.Value] = posOf(k)
		if strings.HasPrefix(k.Value, "x-") {
			if into.Extensions == nil {
				into.Extensions = map[string]any{}
			}
			into.Extensions[k.Value], _ = (&converter{}).value(v, "", 0)
		}
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// str reads a scalar as its text; non-scalars read as "" and are reported by
// the schema check.
func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

func plain(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	v, _ := (&converter{}).value(n, "", 0)
	return v
}

func (p *parser) document(root *yaml.Node, doc *Document) {
	f := p.fields(root, &doc.Node)
	if v := f["arazzo"]; v != nil {
		doc.Arazzo = str(v)
		doc.Version = VersionOf(doc.Arazzo)
		switch {
		case v.Kind == yaml.ScalarNode && (v.Tag == "!!float" || v.Tag == "!!int"):
			p.errorf(posOf(v), "arazzo-version",
				"arazzo: %s is read as a number, not a version string; quote it (arazzo: \"1.0.1\") or write the full version (arazzo: 1.0.1)", v.Value)
			doc.Raw.(map[string]any)["arazzo"] = v.Value
		case v.Kind == yaml.ScalarNode && v.Tag == "!!str" && doc.Version == VUnknown && strings.HasPrefix(v.Value, "1."):
			p.errorf(posOf(v), "arazzo-version", "arazzo version %q is not supported: this tool runs Arazzo 1.0.x and 1.1.x documents", v.Value)
		}
	}
	p.version, p.declared = doc.Version, doc.Arazzo
	if v := f["$self"]; v != nil {
		doc.Self = str(v)
		p.only11(doc.KeyAt("$self"), "the $self field")
	}
	if v := f["info"]; v != nil {
		info := p.fields(v, &doc.Info.Node)
		doc.Info.Title = str(info["title"])
		doc.Info.Summary = str(info["summary"])
		doc.Info.Description = str(info["description"])
		if iv := info["version"]; iv != nil {
			doc.Info.Version = str(iv)
			if iv.Kind == yaml.ScalarNode && (iv.Tag == "!!float" || iv.Tag == "!!int") {
				p.warnf(posOf(iv), "info-version-number", "info.version %s is a number; it is read as the string %q (quote it to silence this)", iv.Value, iv.Value)
				if m, ok := doc.Raw.(map[string]any)["info"].(map[string]any); ok {
					m["version"] = iv.Value
				}
			}
		}
	}
	for _, n := range seq(f["sourceDescriptions"]) {
		sd := &SourceDescription{}
		sf := p.fields(n, &sd.Node)
		sd.Name, sd.URL, sd.Type = str(sf["name"]), str(sf["url"]), str(sf["type"])
		if sd.Type == "asyncapi" {
			p.only11(sd.At("type"), "an asyncapi source description")
		}
		doc.SourceDescriptions = append(doc.SourceDescriptions, sd)
	}
	for _, n := range seq(f["workflows"]) {
		doc.Workflows = append(doc.Workflows, p.workflow(n))
	}
	if v := f["components"]; v != nil {
		doc.Components = p.components(v)
	}
}

var (
	arazzo10RE = regexp.MustCompile(`^1\.0\.\d+(-.+)?$`)
	arazzo11RE = regexp.MustCompile(`^1\.1\.\d+(-.+)?$`)
)

// VersionOf maps an arazzo field to the rules that apply: the patch number
// and a pre-release suffix change nothing (checklist L4).
func VersionOf(arazzo string) Version {
	switch {
	case arazzo10RE.MatchString(arazzo):
		return V10
	case arazzo11RE.MatchString(arazzo):
		return V11
	}
	return VUnknown
}

func (p *parser) workflow(n *yaml.Node) *Workflow {
	w := &Workflow{}
	f := p.fields(n, &w.Node)
	w.WorkflowID = str(f["workflowId"])
	w.Summary = str(f["summary"])
	w.Description = str(f["description"])
	if v := f["inputs"]; v != nil {
		w.Inputs = plain(v)
	}
	for _, d := range seq(f["dependsOn"]) {
		w.DependsOn = append(w.DependsOn, str(d))
	}
	for _, s := range seq(f["steps"]) {
		w.Steps = append(w.Steps, p.step(s))
	}
	w.SuccessActions = p.actions(f["successActions"])
	w.FailureActions = p.actions(f["failureActions"])
	w.Outputs = p.outputs(f["outputs"])
	w.Parameters = p.parameters(f["parameters"])
	return w
}

func (p *parser) step(n *yaml.Node) *Step {
	s := &Step{}
	f := p.fields(n, &s.Node)
	s.StepID = str(f["stepId"])
	s.Description = str(f["description"])
	s.OperationID = str(f["operationId"])
	s.OperationPath = str(f["operationPath"])
	s.WorkflowID = str(f["workflowId"])
	s.Parameters = p.parameters(f["parameters"])
	if v := f["requestBody"]; v != nil {
		rb := &RequestBody{}
		rf := p.fields(v, &rb.Node)
		rb.ContentType = str(rf["contentType"])
		if pv, ok := rf["payload"]; ok {
			rb.Payload, rb.HasPayload = plain(pv), true
		}
		for _, r := range seq(rf["replacements"]) {
			rep := &Replacement{}
			repf := p.fields(r, &rep.Node)
			rep.Target = str(repf["target"])
			rep.Value = plain(repf["value"])
			if t := repf["targetSelectorType"]; t != nil {
				rep.TargetType, rep.TargetVersion = p.exprType(t)
			}
			p.only11Fields(&rep.Node, "targetSelectorType")
			if expr.IsSelector(rep.Value) {
				p.only11(rep.At("value"), "a Selector Object")
			}
			rb.Replacements = append(rb.Replacements, rep)
		}
		s.RequestBody = rb
	}
	s.SuccessCriteria = p.criteria(f["successCriteria"])
	s.OnSuccess = p.actions(f["onSuccess"])
	s.OnFailure = p.actions(f["onFailure"])
	s.Outputs = p.outputs(f["outputs"])
	if v := f["timeout"]; v != nil && v.Kind == yaml.ScalarNode {
		if x, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			s.Timeout = &x
		}
	}
	for _, d := range seq(f["dependsOn"]) {
		s.DependsOn = append(s.DependsOn, str(d))
	}
	s.ChannelPath, s.Action = str(f["channelPath"]), str(f["action"])
	if v, ok := f["correlationId"]; ok {
		s.CorrelationID, s.HasCorrelationID = plain(v), true
	}
	p.only11Fields(&s.Node, "timeout", "dependsOn", "channelPath", "action", "correlationId")
	return s
}

func (p *parser) outputs(n *yaml.Node) *Outputs {
	if n == nil {
		return nil
	}
	o := &Outputs{Values: map[string]string{}, Raw: map[string]any{}}
	p.fields(n, &o.Node)
	if n.Kind != yaml.MappingNode {
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, deref(n.Content[i+1])
		if strings.HasPrefix(k, "x-") {
			continue // a specification extension (a lint silencer, say), not an output
		}
		if _, dup := o.Values[k]; !dup {
			o.Names = append(o.Names, k)
		}
		o.Values[k] = str(v)
		o.Raw[k] = plain(v)
		if expr.IsSelector(o.Raw[k]) {
			p.only11(o.At(k), "a Selector Object")
		}
		if v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!str" {
			if o.Constants == nil {
				o.Constants = map[string]any{}
			}
			o.Constants[k] = plain(v)
		}
	}
	return o
}

func (p *parser) parameters(n *yaml.Node) []*ParameterRef {
	var out []*ParameterRef
	for _, e := range seq(n) {
		if r := p.reusable(e); r != nil {
			out = append(out, &ParameterRef{Reusable: r})
			continue
		}
		out = append(out, &ParameterRef{Parameter: p.parameter(e)})
	}
	return out
}

func (p *parser) parameter(n *yaml.Node) *Parameter {
	prm := &Parameter{}
	f := p.fields(n, &prm.Node)
	prm.Name, prm.In = str(f["name"]), str(f["in"])
	prm.Value = plain(f["value"])
	if prm.In == "querystring" {
		p.only11(prm.At("in"), "in: querystring")
	}
	if expr.IsSelector(prm.Value) {
		p.only11(prm.At("value"), "a Selector Object")
	}
	return prm
}

// reusable returns a Reusable Object when the node has a `reference` field.
func (p *parser) reusable(n *yaml.Node) *Reusable {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var has bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "reference" {
			has = true
		}
	}
	if !has {
		return nil
	}
	r := &Reusable{}
	f := p.fields(n, &r.Node)
	r.Reference = str(f["reference"])
	if v, ok := f["value"]; ok {
		r.Value, r.HasValue = plain(v), true
	}
	for k := range f {
		if k != "reference" && k != "value" {
			p.warnf(r.At(k), "reusable-extra-field", "a Reusable Object takes only reference and value; %q is ignored", k)
		}
	}
	return r
}

func (p *parser) actions(n *yaml.Node) []*ActionRef {
	var out []*ActionRef
	for _, e := range seq(n) {
		if r := p.reusable(e); r != nil {
			out = append(out, &ActionRef{Reusable: r})
			continue
		}
		out = append(out, &ActionRef{Action: p.action(e)})
	}
	return out
}

func (p *parser) action(n *yaml.Node) *Action {
	a := &Action{}
	f := p.fields(n, &a.Node)
	a.Name, a.Type = str(f["name"]), str(f["type"])
	a.WorkflowID, a.StepID = str(f["workflowId"]), str(f["stepId"])
	if v := f["retryAfter"]; v != nil && v.Kind == yaml.ScalarNode {
		if x, err := strconv.ParseFloat(v.Value, 64); err == nil {
			a.RetryAfter = &x
		}
	}
	if v := f["retryLimit"]; v != nil && v.Kind == yaml.ScalarNode {
		if x, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			a.RetryLimit = &x
		}
	}
	a.Criteria = p.criteria(f["criteria"])
	a.Parameters = p.parameters(f["parameters"])
	p.only11Fields(&a.Node, "parameters")
	return a
}

// exprType reads a type that is a plain string or an Expression Type
// Object, and reports versions only 1.1 defines.
func (p *parser) exprType(t *yaml.Node) (typ, version string) {
	if t.Kind != yaml.MappingNode {
		if s := str(t); s == "jsonpointer" {
			p.only11(posOf(t), "the jsonpointer expression type")
		}
		return str(t), ""
	}
	var tn Node
	tf := p.fields(t, &tn)
	typ, version = str(tf["type"]), str(tf["version"])
	switch {
	case typ == "jsonpointer":
		p.only11(tn.At("type"), "the jsonpointer expression type")
	case version == "rfc9535" || version == "xpath-31":
		p.only11(tn.At("version"), "version "+version)
	}
	return typ, version
}

func (p *parser) criteria(n *yaml.Node) []*Criterion {
	var out []*Criterion
	for _, e := range seq(n) {
		c := &Criterion{}
		f := p.fields(e, &c.Node)
		c.Context, c.Condition = str(f["context"]), str(f["condition"])
		c.Version = str(f["version"])
		if t := f["type"]; t != nil {
			if t.Kind == yaml.MappingNode {
				c.Type, c.Version = p.exprType(t)
				c.TypeIsObject = true
			} else {
				c.Type = str(t)
			}
		}
		out = append(out, c)
	}
	return out
}

func (p *parser) components(n *yaml.Node) *Components {
	c := &Components{
		Inputs: map[string]any{}, Parameters: map[string]*Parameter{},
		SuccessActions: map[string]*Action{}, FailureActions: map[string]*Action{},
		KeyPos: map[string]Pos{},
	}
	f := p.fields(n, &c.Node)
	each := func(kind string, fn func(key string, v *yaml.Node)) {
		m := f[kind]
		if m == nil || m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			c.KeyPos[kind+"/"+m.Content[i].Value] = posOf(m.Content[i])
			fn(m.Content[i].Value, deref(m.Content[i+1]))
		}
	}
	each("inputs", func(k string, v *yaml.Node) { c.Inputs[k] = plain(v) })
	each("parameters", func(k string, v *yaml.Node) { c.Parameters[k] = p.parameter(v) })
	each("successActions", func(k string, v *yaml.Node) { c.SuccessActions[k] = p.action(v) })
	each("failureActions", func(k string, v *yaml.Node) { c.FailureActions[k] = p.action(v) })
	return c
}

// converter turns yaml nodes into JSON-compatible values: map[string]any,
// []any, string, bool, nil and json.Number (numbers stay exact). With an
// index it records where each JSON pointer's value sits.
type converter struct {
	index      map[string]Pos
	aliasNodes int // nodes produced by expanding aliases
	inAlias    int // >0 while expanding one
}

// FromYAML converts a yaml node tree to JSON-compatible values.
func FromYAML(n *yaml.Node) (any, error) { return (&converter{}).value(n, "", 0) }

func (c *converter) value(n *yaml.Node, ptr string, depth int) (any, error) {
	if c.inAlias > 0 {
		if c.aliasNodes++; c.aliasNodes > maxAliasNodes {
			return nil, fmt.Errorf("YAML aliases expand the document to more than %d nodes", maxAliasNodes)
		}
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("the document nests deeper than %d levels", maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, nil
		}
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.value(n.Alias, ptr, depth+1)
	}
	if c.index != nil {
		if _, seen := c.index[ptr]; !seen {
			c.index[ptr] = posOf(n)
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if c.index != nil {
				c.index[ptr+"/"+jsonpointer.Escape(k)+"#key"] = posOf(n.Content[i])
			}
			v, err := c.value(n.Content[i+1], ptr+"/"+jsonpointer.Escape(k), depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			v, err := c.value(e, ptr+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], ptr, depth+1)
	}
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value, nil
		}
		return b, nil
	case "!!int", "!!float":
		return yamlNumber(n.Value), nil
	}
	return n.Value, nil
}

// yamlNumber keeps a YAML number as an exact json.Number when it is valid
// JSON number text, else falls back to its float value (0x1F, 1_000, .inf).
func yamlNumber(s string) any {
	if json.Valid([]byte(s)) {
		return json.Number(s)
	}
	var f float64
	if err := yaml.Unmarshal([]byte(s), &f); err == nil {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return s
		}
		if i := int64(f); float64(i) == f {
			return json.Number(strconv.FormatInt(i, 10))
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return s
}
