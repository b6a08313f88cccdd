// Package upgrade rewrites an Arazzo 1.0.x document as a 1.1.0 one that
// means the same thing, editing the text in place.
//
// The rewrite is a list of byte-range edits at positions the YAML parser
// reports, applied to the original text: everything the edits do not touch
// (comments, key order, quoting, indentation, blank lines, JSON layout)
// stays byte for byte. What it changes:
//
//   - `arazzo: 1.0.x` becomes `1.1.0` (quoting kept);
//   - criteria whose meaning depends on a default that 1.1 changed are
//     pinned: a jsonpath condition that is not an RFC 9535 query (this tool
//     evaluated it as a Goessner-style comparison under 1.0) gets
//     `type: {type: jsonpath, version: draft-goessner-dispatch-jsonpath-00}`,
//     and an xpath condition without a version (XPath 1.0 here; 1.1's
//     default is 3.1) gets `version: xpath-10`;
//   - the flat criterion `version` field 1.0 tolerated moves into an
//     Expression Type Object, and `type: simple` without a context (which
//     the 1.1 schema rejects) is dropped, simple being the default;
//   - an XML payload replacement target that is not a plain location path
//     gets `targetSelectorType: {type: xpath, version: xpath-10}`.
//
// What it cannot convert comes back as Findings: a regex condition with
// `{$` (1.1 substitutes such embeds) and `$components.inputs` references
// (not in 1.1's grammar).
package upgrade

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr"
)

// Target is the version upgraded documents declare.
const Target = "1.1.0"

// Finding is something the upgrade changed, or could not convert.
type Finding struct {
	Line, Col int
	Message   string
}

func (f Finding) String() string { return fmt.Sprintf("%d:%d: %s", f.Line, f.Col, f.Message) }

// Result is an upgraded document.
type Result struct {
	Text    []byte
	Changes []Finding // what was rewritten
	Manual  []Finding // what needs a person
}

type edit struct {
	start, end int // byte offsets; start == end inserts
	text       string
}

type upgrader struct {
	src     []byte
	lines   []int // byte offset of each line's start
	json    bool  // the document is written in JSON (flow style, quoted)
	edits   []edit
	changes []Finding
	manual  []Finding
}

// Document upgrades one document. It fails when the text is not an Arazzo
// 1.0.x document.
func Document(src []byte) (*Result, error) {
	root, err := document.DecodeYAML(src)
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not an Arazzo document (not an object)")
	}
	u := &upgrader{src: src, json: root.Style&yaml.FlowStyle != 0}
	// Line starts as YAML counts lines: \n, \r\n and a lone \r each end one.
	u.lines = append(u.lines, 0)
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n':
			i++
			u.lines = append(u.lines, i+1)
		case src[i] == '\n' || src[i] == '\r':
			u.lines = append(u.lines, i+1)
		}
	}
	ver := get(root, "arazzo")
	switch v := document.VersionOf(scalar(ver)); {
	case ver == nil:
		return nil, fmt.Errorf("not an Arazzo document (no arazzo field)")
	case v == document.V11:
		return nil, fmt.Errorf("already an Arazzo %s document", scalar(ver))
	case v != document.V10:
		return nil, fmt.Errorf("arazzo %q is not a 1.0.x version", scalar(ver))
	}
	u.replaceScalar(ver, Target)
	u.note(ver, "arazzo: %s -> %s", scalar(ver), Target)
	u.walk(root, "")
	sort.SliceStable(u.edits, func(i, j int) bool { return u.edits[i].start > u.edits[j].start })
	out := append([]byte{}, src...)
	for _, e := range u.edits {
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return &Result{Text: out, Changes: u.changes, Manual: u.manual}, nil
}

func (u *upgrader) note(n *yaml.Node, format string, args ...any) {
	u.changes = append(u.changes, Finding{n.Line, n.Column, fmt.Sprintf(format, args...)})
}

func (u *upgrader) cannot(n *yaml.Node, format string, args ...any) {
	u.manual = append(u.manual, Finding{n.Line, n.Column, fmt.Sprintf(format, args...)})
}

// walk visits every mapping; field names say what an object is.
func (u *upgrader) walk(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.MappingNode:
		if key == "successCriteria" || key == "criteria" {
			u.criterion(n)
		}
		if key == "replacements" {
			u.replacement(n)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			u.walk(n.Content[i+1], n.Content[i].Value)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			u.walk(c, key) // list items belong to the list's field
		}
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "$components.inputs") {
			u.cannot(n, "$components.inputs is not a runtime expression in Arazzo 1.1; reference the schema with $ref instead")
		}
	}
}

func (u *upgrader) criterion(n *yaml.Node) {
	typ, version, ctx := get(n, "type"), get(n, "version"), get(n, "context")
	cond := scalar(get(n, "condition"))
	t := scalar(typ)
	if typ != nil && typ.Kind == yaml.MappingNode {
		t, version = scalar(get(typ, "type")), get(typ, "version")
		typ = nil // already an Expression Type Object
	}
	switch t {
	case "simple":
		if typ != nil && ctx == nil {
			u.removeEntry(n, "type")
			u.note(typ, "dropped `type: simple` without a context (the 1.1 schema needs a context once type is given; simple is the default)")
		}
	case "regex":
		if strings.Contains(cond, "{$") {
			u.cannot(get(n, "condition"), "the regex condition contains {$, which Arazzo 1.1 substitutes as an embedded runtime expression; rewrite the pattern")
		}
	case "jsonpath", "xpath":
		if typ == nil && version == nil {
			return // an Expression Type Object with no version: the schema reports it
		}
		v := scalar(version)
		if v == "" {
			v = pinned(t, cond)
		}
		if v == "" {
			return // the 1.1 default means the same
		}
		if version != nil && typ != nil {
			u.removeEntry(n, "version")
		}
		if typ != nil {
			u.replaceValue(typ, u.object(map[string]string{"type": t, "version": v}))
			u.note(typ, "criterion type pinned to {type: %s, version: %s}", t, v)
		}
	}
}

// pinned is the version a criterion written for 1.0 had in this tool, when
// 1.1's default would read it differently.
func pinned(typ, cond string) string {
	if typ == "xpath" {
		if expr.PlainXPath(cond) {
			return ""
		}
		return expr.VersionXPath10
	}
	c, _ := expr.CompileCriterion(expr.CriterionSpec{Context: "$response.body", Condition: cond, Type: typ})
	if c != nil && c.Dialect == expr.DialectGoessner {
		return expr.VersionGoessner
	}
	return ""
}

func (u *upgrader) replacement(n *yaml.Node) {
	target := get(n, "target")
	if target == nil || get(n, "targetSelectorType") != nil {
		return
	}
	t := scalar(target)
	if strings.HasPrefix(t, "/") && !strings.ContainsAny(t, "[@*()") || expr.PlainXPath(t) {
		return // a JSON pointer, or a path every XPath version reads alike
	}
	if strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") {
		u.insertAfter(n, target, "targetSelectorType", u.object(map[string]string{"type": "xpath", "version": expr.VersionXPath10}))
		u.note(target, "XPath replacement target pinned to xpath-10")
	}
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// object writes a flow mapping in the document's syntax.
func (u *upgrader) object(m map[string]string) string {
	keys := []string{"type", "version"}
	var parts []string
	for _, k := range keys {
		if u.json {
			parts = append(parts, fmt.Sprintf("%q: %q", k, m[k]))
		} else {
			parts = append(parts, k+": "+m[k])
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// offset is the byte offset of a node: the parser counts columns in
// characters, so the line is decoded up to it.
func (u *upgrader) offset(n *yaml.Node) int {
	if n.Line < 1 || n.Line-1 >= len(u.lines) {
		return len(u.src)
	}
	i := u.lines[n.Line-1]
	for col := 1; col < n.Column && i < len(u.src); col++ {
		_, size := utf8.DecodeRune(u.src[i:])
		i += size
	}
	return i
}

func isBreak(b byte) bool { return b == '\n' || b == '\r' }

// scalarEnd is the offset just past a scalar's text (quotes included).
func (u *upgrader) scalarEnd(n *yaml.Node) int {
	i := u.offset(n)
	s := u.src
	switch {
	case i < len(s) && s[i] == '\'':
		for j := i + 1; j < len(s); j++ {
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					j++
					continue
				}
				return j + 1
			}
		}
	case i < len(s) && s[i] == '"':
		for j := i + 1; j < len(s); j++ {
			if s[j] == '\\' {
				j++
				continue
			}
			if s[j] == '"' {
				return j + 1
			}
		}
	}
	// A plain scalar on one line is its value, byte for byte.
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Value != "" && bytes.HasPrefix(s[i:], []byte(n.Value)) {
		return i + len(n.Value)
	}
	// Otherwise (folded over lines): up to a comment or a flow delimiter.
	j := i
	for j < len(s) && !isBreak(s[j]) {
		if s[j] == '#' && j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
			break
		}
		if (s[j] == ',' || s[j] == '}' || s[j] == ']') && inFlow(s, i) {
			break
		}
		j++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return j
}

// inFlow reports whether offset i sits inside a flow collection on its line.
func inFlow(s []byte, i int) bool {
	depth := 0
	for j := i - 1; j >= 0 && !isBreak(s[j]); j-- {
		switch s[j] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return depth > 0
}

func (u *upgrader) replaceScalar(n *yaml.Node, value string) {
	start, end := u.offset(n), u.scalarEnd(n)
	q := ""
	if start < len(u.src) && (u.src[start] == '"' || u.src[start] == '\'') {
		q = string(u.src[start])
	}
	u.edits = append(u.edits, edit{start, end, q + value + q})
}

func (u *upgrader) replaceValue(n *yaml.Node, text string) {
	u.edits = append(u.edits, edit{u.offset(n), u.scalarEnd(n), text})
}

// removeEntry deletes key: value from mapping m. In block style its whole
// line goes (comments on other lines stay); a first entry (after "- ") is
// cut up to the next key. In flow style the comma before it goes too.
func (u *upgrader) removeEntry(m *yaml.Node, key string) {
	flow := m.Style&yaml.FlowStyle != 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case i == 0 && i+2 < len(m.Content):
			u.edits = append(u.edits, edit{u.offset(k), u.offset(m.Content[i+2]), ""})
		case flow && i > 0:
			u.edits = append(u.edits, edit{u.scalarEnd(m.Content[i-1]), u.scalarEnd(v), ""})
		case i > 0:
			end := u.scalarEnd(v)
			for end < len(u.src) && !isBreak(u.src[end]) {
				end++
			}
			if end+1 < len(u.src) && u.src[end] == '\r' && u.src[end+1] == '\n' {
				end += 2
			} else if end < len(u.src) {
				end++
			}
			u.edits = append(u.edits, edit{u.lines[k.Line-1], end, ""})
		}
		return
	}
}

// insertAfter adds key: text after the entry whose value is after, in the
// mapping's style.
func (u *upgrader) insertAfter(m, after *yaml.Node, key, text string) {
	at := u.scalarEnd(after)
	if m.Style&yaml.FlowStyle != 0 {
		if u.json {
			key = fmt.Sprintf("%q", key)
		}
		u.edits = append(u.edits, edit{at, at, ", " + key + ": " + text})
		return
	}
	for at < len(u.src) && !isBreak(u.src[at]) {
		at++ // after a comment on the same line, which stays there
	}
	nl := "\n"
	if at < len(u.src) && u.src[at] == '\r' {
		nl = "\r\n" // keep the file's line ends
	}
	indent := strings.Repeat(" ", m.Content[0].Column-1)
	u.edits = append(u.edits, edit{at, at, nl + indent + key + ": " + text})
}
