// Package dialect finds the places where a real-world Arazzo document
// deviates from the specification in a way whose intent is certain, and
// rewrites them to the canonical form without touching anything else.
//
// The compiler runs a document's canonical form and reports each finding
// (a warning for run, an error for validate); `arazzo fix` writes the
// canonical form back. Rewriting works on the text, guided by the YAML
// node positions, so comments, key order, quoting and indentation survive:
// every rewrite replaces a span inside one scalar and never adds a line.
//
// What counts as certain, and is rewritten:
//
//   - operationPath "NAME#/paths/..." where NAME is a declared source name:
//     {$sourceDescriptions.NAME.url}#/paths/...
//   - $response.headers.X and $request.headers.X: .header.X
//   - $steps.S.NAME where step S of the same workflow declares output NAME:
//     $steps.S.outputs.NAME
//
// And reported without a rewrite (there is no canonical spelling):
//
//   - an output whose value is a literal, not a runtime expression: it is
//     taken as a constant.
//
// Anything that could mean two things (an undeclared output, a step that
// does not exist) is not a dialect; the compiler reports it as an error.
package dialect

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/document"
)

// Rule ids, as diagnostics name them.
const (
	RuleOperationPath = "dialect-operation-path"
	RuleHeaders       = "dialect-headers"
	RuleStepOutput    = "dialect-step-output"
	RuleLiteralOutput = "dialect-literal-output"
)

// Finding is one deviation. When New is not empty, replacing the bytes
// data[Offset:Offset+len(Old)] with New gives the canonical form.
type Finding struct {
	Line, Col int // where Old starts (1-based; the column counts runes)
	Offset    int // byte offset of Old
	Old, New  string
	Rule      string
	Message   string
	// Workflow is the workflowId the finding sits in ("" outside workflows).
	Workflow string
}

// Rewrites reports whether the finding has a canonical replacement.
func (f Finding) Rewrites() bool { return f.New != "" }

// Find returns the findings in data, in document order. A document that
// does not parse has none (the parser reports it).
func Find(data []byte) []Finding {
	root, err := document.DecodeYAML(data)
	if err != nil {
		return nil
	}
	return FindIn(data, root)
}

// FindIn is Find over the node tree of data, already decoded.
func FindIn(data []byte, root *yaml.Node) []Finding {
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	s := &scan{data: data, lines: lineStarts(data)}
	s.sources = map[string]bool{}
	for _, sd := range seqOf(field(root, "sourceDescriptions")) {
		if n := field(sd, "name"); n != nil && n.Kind == yaml.ScalarNode {
			s.sources[n.Value] = true
		}
	}
	for _, wf := range seqOf(field(root, "workflows")) {
		s.workflow(wf)
	}
	s.wfID, s.outputs = "", nil
	if comp := field(root, "components"); comp != nil {
		s.walk(comp, "")
	}
	sort.SliceStable(s.found, func(i, j int) bool { return s.found[i].Offset < s.found[j].Offset })
	return s.found
}

// Apply returns data with every rewriting finding applied. Findings must
// come from Find on the same data.
func Apply(data []byte, fs []Finding) []byte {
	var b strings.Builder
	last := 0
	for _, f := range fs {
		if !f.Rewrites() || f.Offset < last {
			continue
		}
		b.Write(data[last:f.Offset])
		b.WriteString(f.New)
		last = f.Offset + len(f.Old)
	}
	b.Write(data[last:])
	return []byte(b.String())
}

type scan struct {
	data    []byte
	lines   []int
	sources map[string]bool
	// The workflow being scanned: its id and each step's declared outputs.
	wfID    string
	outputs map[string]map[string]bool
	found   []Finding
}

func (s *scan) workflow(wf *yaml.Node) {
	s.wfID = scalar(field(wf, "workflowId"))
	s.outputs = map[string]map[string]bool{}
	for _, st := range seqOf(field(wf, "steps")) {
		names := map[string]bool{}
		if o := field(st, "outputs"); o != nil && o.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(o.Content); i += 2 {
				names[o.Content[i].Value] = true
			}
		}
		s.outputs[scalar(field(st, "stepId"))] = names
	}
	s.walk(wf, "")
}

// walk visits every scalar under n; key is the mapping key n sits under.
func (s *scan) walk(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.MappingNode:
		// Only a step's or a workflow's outputs are expressions; a payload
		// may well have a member called outputs.
		owner := field(n, "stepId") != nil || field(n, "workflowId") != nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if owner && k.Value == "outputs" && v.Kind == yaml.MappingNode {
				s.outputsMap(v)
			}
			s.walk(v, k.Value)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			s.walk(c, "")
		}
	case yaml.ScalarNode:
		s.scalar(n, key)
	}
}

func (s *scan) outputsMap(o *yaml.Node) {
	for i := 0; i+1 < len(o.Content); i += 2 {
		if strings.HasPrefix(o.Content[i].Value, "x-") {
			continue // a specification extension, not an output
		}
		v := o.Content[i+1]
		if v.Kind != yaml.ScalarNode || strings.Contains(v.Value, "$") {
			continue
		}
		text := v.Value
		if v.Tag == "!!str" {
			text = fmt.Sprintf("%q", v.Value)
		}
		start := s.offset(v)
		s.found = append(s.found, s.at(start, Finding{Rule: RuleLiteralOutput,
			Message: fmt.Sprintf("output %q is %s, not a runtime expression; it is taken as a constant", o.Content[i].Value, text)}))
	}
}

var (
	opPathRE  = regexp.MustCompile(`^([A-Za-z0-9_.\-]+)#`)
	headersRE = regexp.MustCompile(`\$(response|request)\.headers\.`)
	stepsRE   = regexp.MustCompile(`\$steps\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)`)
)

func (s *scan) scalar(n *yaml.Node, key string) {
	v := n.Value
	start := s.offset(n)
	if key == "operationPath" {
		if m := opPathRE.FindStringSubmatch(v); m != nil && s.sources[m[1]] {
			old, new := m[1]+"#", "{$sourceDescriptions."+m[1]+".url}#"
			if n.Style == 0 && strings.HasPrefix(string(s.data[start:]), v) {
				// A plain scalar starting with { would be a YAML mapping:
				// the rewrite quotes the whole value.
				old, new = v, "'"+strings.ReplaceAll(new+v[len(old):], "'", "''")+"'"
			}
			s.add(start, old, new, RuleOperationPath,
				fmt.Sprintf("operationPath names source %q by its bare name; the specification's form is {$sourceDescriptions.%s.url}#...", m[1], m[1]))
		}
	}
	if !strings.Contains(v, "$") {
		return
	}
	for _, m := range headersRE.FindAllStringSubmatch(v, -1) {
		s.add(start, m[0], "$"+m[1]+".header.", RuleHeaders,
			fmt.Sprintf("$%s.headers.<name> is written $%s.header.<name>", m[1], m[1]))
	}
	if s.outputs == nil {
		return
	}
	for _, m := range stepsRE.FindAllStringSubmatch(v, -1) {
		if m[2] == "outputs" || !s.outputs[m[1]][m[2]] {
			continue
		}
		s.add(start, m[0], "$steps."+m[1]+".outputs."+m[2], RuleStepOutput,
			fmt.Sprintf("$steps.%s.%s reads step %q's output %q, written $steps.%s.outputs.%s", m[1], m[2], m[1], m[2], m[1], m[2]))
	}
}

// add records a rewrite of the next occurrence of old at or after from,
// within the text; later occurrences in the same scalar find later spans.
func (s *scan) add(from int, old, new, rule, msg string) {
	for _, f := range s.found {
		if f.Old == old && f.Offset >= from && f.Offset+len(old) > from {
			from = f.Offset + len(old)
		}
	}
	i := strings.Index(string(s.data[from:]), old)
	if i < 0 {
		return // an escaped form in a quoted scalar: leave it to the compiler
	}
	s.found = append(s.found, s.at(from+i, Finding{Old: old, New: new, Rule: rule,
		Message: msg}))
}

func (s *scan) at(off int, f Finding) Finding {
	line := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off })
	f.Line = line
	f.Col = utf8.RuneCount(s.data[s.lines[line-1]:off]) + 1
	f.Offset = off
	f.Workflow = s.wfID
	return f
}

// offset is the byte offset of a node's first character.
func (s *scan) offset(n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(s.lines) {
		return 0
	}
	off := s.lines[n.Line-1]
	for col := 1; col < n.Column && off < len(s.data); col++ {
		_, size := utf8.DecodeRune(s.data[off:])
		off += size
	}
	return off
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func field(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqOf(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
