// Package expr implements Arazzo runtime expressions, string templates with
// embedded `{$...}` expressions, payload templates and criteria (simple,
// regex, jsonpath and xpath conditions).
//
// Everything is parsed once into a small tree and then evaluated many times
// against a Context, which the executor implements. Values are plain JSON
// values (nil, bool, string, json.Number, map[string]any, []any); numbers
// stay json.Number so that a 64-bit id survives a round trip. "Undefined"
// (a missing input, a pointer that hits nothing) is not JSON null: the
// evaluators return it as ok == false.
//
// Parsing never panics, and errors carry the byte offset inside the
// expression text so the validator can point at the exact column.
package expr

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Source is what a runtime expression reads.
type Source int

const (
	SrcURL Source = iota + 1
	SrcMethod
	SrcStatusCode
	SrcRequest
	SrcResponse
	SrcInputs
	SrcOutputs
	SrcSteps
	SrcWorkflows
	SrcSourceDescriptions
	SrcComponents
	// SrcSelf is `$self` (1.1): the document's resolved $self URI.
	SrcSelf
	// SrcMessage is `$message` (1.1): an AsyncAPI message, which this tool
	// does not exchange yet; it parses so 1.1 documents validate.
	SrcMessage
)

// Version is the runtime-expression grammar of an Arazzo version. V10 is
// the zero value, so callers that predate 1.1 keep 1.0's grammar.
type Version uint8

const (
	V10 Version = iota
	V11
)

// SelfContext is an optional Context extension for `$self`.
type SelfContext interface {
	Self() (string, bool)
}

// Expression is one parsed runtime expression, for example
// `$steps.start.outputs.jobId` or `$response.body#/items/0/id`.
type Expression struct {
	Text   string
	Source Source
	// Part is, for $request/$response, one of header, query, path, body;
	// for $workflows, inputs or outputs; for $components the component kind.
	Part string
	// ID is the stepId, workflowId or source name the expression names.
	ID string
	// Name is the header, query, path, input, output, component key or
	// source-description field/id the expression names.
	Name string
	// Pointer is the RFC 6901 pointer after `#`, already split and unescaped.
	Pointer    []string
	HasPointer bool
	// Nav is the dotted / indexed navigation written after a value
	// (`$response.body.items[0].id`), a common slip that is accepted.
	Nav []NavElem
	// Warnings are accepted slips the validator should surface.
	Warnings []*Error
}

// NavElem is one `.name` or `[n]` step of navigation into a value.
type NavElem struct {
	Key   string
	Index int
	IsIdx bool
}

// Error is a problem found at Offset bytes into the text that was parsed.
type Error struct {
	Offset  int
	Msg     string
	Warning bool
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

func errAt(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func warnAt(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Warning: true}
}

// Parse parses one complete runtime expression in 1.0's grammar.
func Parse(text string) (*Expression, error) { return ParseVersion(text, V10) }

// ParseVersion parses one complete runtime expression in the grammar of
// Arazzo version v.
func ParseVersion(text string, v Version) (*Expression, error) {
	e, err := parseV(text, v)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func parse(text string) (*Expression, *Error) { return parseV(text, V10) }

func parseV(text string, v Version) (*Expression, *Error) {
	e := &Expression{Text: text}
	if !strings.HasPrefix(text, "$") {
		return nil, errAt(0, "a runtime expression starts with $")
	}
	head, rest := text, ""
	if i := strings.IndexAny(text, ".#"); i >= 0 {
		head, rest = text[:i], text[i:]
	}
	off := len(head)
	switch head {
	case "$url", "$method", "$statusCode":
		e.Source = map[string]Source{"$url": SrcURL, "$method": SrcMethod, "$statusCode": SrcStatusCode}[head]
		if rest != "" {
			return nil, errAt(off, "%s takes nothing after it", head)
		}
		return e, nil
	case "$request", "$response":
		e.Source = SrcRequest
		if head == "$response" {
			e.Source = SrcResponse
		}
		return e, e.parseMessage(rest, off)
	case "$inputs", "$outputs":
		e.Source = SrcInputs
		if head == "$outputs" {
			e.Source = SrcOutputs
		}
		if !strings.HasPrefix(rest, ".") || len(rest) == 1 {
			return nil, errAt(off, "%s needs a name: %s.<name>", head, head)
		}
		return e, e.parseName(rest[1:], off+1)
	case "$steps":
		e.Source = SrcSteps
		id, after, ok := idThen(rest)
		if !ok {
			return nil, errAt(off, "$steps needs a step id: $steps.<stepId>.outputs.<name>")
		}
		e.ID = id
		off += 1 + len(id)
		if !strings.HasPrefix(after, ".outputs.") || len(after) == len(".outputs.") {
			return nil, errAt(off, "after $steps.%s only .outputs.<name> is defined (found %q)", id, after)
		}
		return e, e.parseName(after[len(".outputs."):], off+len(".outputs."))
	case "$workflows":
		e.Source = SrcWorkflows
		id, after, ok := idThen(rest)
		if !ok {
			return nil, errAt(off, "$workflows needs a workflow id: $workflows.<workflowId>.outputs.<name>")
		}
		e.ID = id
		off += 1 + len(id)
		switch {
		case strings.HasPrefix(after, ".outputs.") && len(after) > len(".outputs."):
			e.Part = "outputs"
		case strings.HasPrefix(after, ".inputs.") && len(after) > len(".inputs."):
			e.Part = "inputs"
		default:
			return nil, errAt(off, "after $workflows.%s only .inputs.<name> or .outputs.<name> is defined (found %q)", id, after)
		}
		n := len(e.Part) + 2
		return e, e.parseName(after[n:], off+n)
	case "$sourceDescriptions":
		e.Source = SrcSourceDescriptions
		id, after, ok := idThen(rest)
		if !ok || len(after) < 2 || after[0] != '.' {
			return nil, errAt(off, "$sourceDescriptions needs a source name and a field or id: $sourceDescriptions.<name>.<field>")
		}
		e.ID, e.Name = id, after[1:]
		return e, nil
	case "$components":
		e.Source = SrcComponents
		kind, after, ok := idThen(rest)
		if !ok || len(after) < 2 || after[0] != '.' {
			return nil, errAt(off, "$components needs a kind and a key: $components.parameters.<key>")
		}
		switch {
		case kind == "parameters", kind == "successActions", kind == "failureActions":
		case kind == "inputs" && v == V10:
		case v == V10:
			return nil, errAt(off+1, "unknown component kind %q (parameters, successActions, failureActions or inputs)", kind)
		default:
			return nil, errAt(off+1, "unknown component kind %q (parameters, successActions or failureActions)", kind)
		}
		e.Part, e.Name = kind, after[1:]
		return e, nil
	case "$message":
		if v == V10 {
			return nil, errAt(0, "$message is an Arazzo 1.1 expression (AsyncAPI messages); this document declares 1.0: run `arazzo upgrade`")
		}
		e.Source = SrcMessage
		switch {
		case strings.HasPrefix(rest, ".header.") && len(rest) > len(".header."):
			e.Part, e.Name = "header", rest[len(".header."):]
			return e, nil
		case rest == ".payload" || strings.HasPrefix(rest, ".payload#") || strings.HasPrefix(rest, ".payload.") || strings.HasPrefix(rest, ".payload["):
			e.Part = "payload"
			return e, e.parseSuffix(rest[len(".payload"):], off+len(".payload"))
		}
		return nil, errAt(off, "after $message expected .header.<name> or .payload")
	case "$self":
		if v == V10 {
			return nil, errAt(0, "$self is an Arazzo 1.1 expression; this document declares 1.0: run `arazzo upgrade`")
		}
		if rest != "" {
			return nil, errAt(off, "$self takes nothing after it")
		}
		e.Source = SrcSelf
		return e, nil
	}
	if v >= V11 {
		return nil, errAt(0, "unknown runtime expression %q: expected $url, $method, $statusCode, $request, $response, $message, $inputs, $outputs, $steps, $workflows, $sourceDescriptions, $components or $self", head)
	}
	return nil, errAt(0, "unknown runtime expression %q: expected $url, $method, $statusCode, $request, $response, $inputs, $outputs, $steps, $workflows, $sourceDescriptions or $components", head)
}

// idThen splits ".id.rest" into "id" and ".rest".
func idThen(rest string) (id, after string, ok bool) {
	if !strings.HasPrefix(rest, ".") {
		return "", "", false
	}
	rest = rest[1:]
	i := strings.IndexAny(rest, ".#")
	if i < 0 {
		return rest, "", rest != ""
	}
	return rest[:i], rest[i:], i > 0
}

func (e *Expression) parseMessage(rest string, off int) *Error {
	switch {
	case strings.HasPrefix(rest, ".header."):
		e.Part, e.Name = "header", rest[len(".header."):]
		if e.Name == "" {
			return errAt(off+len(".header."), "a header name is required")
		}
		for i := 0; i < len(e.Name); i++ {
			if !isTChar(e.Name[i]) {
				return errAt(off+len(".header.")+i, "%q is not allowed in a header name", e.Name[i])
			}
		}
		return nil
	case strings.HasPrefix(rest, ".query."), strings.HasPrefix(rest, ".path."):
		i := strings.Index(rest[1:], ".") + 1
		e.Part, e.Name = rest[1:i], rest[i+1:]
		if e.Name == "" {
			return errAt(off+i+1, "a %s parameter name is required", e.Part)
		}
		return nil
	case rest == ".body" || strings.HasPrefix(rest, ".body#") || strings.HasPrefix(rest, ".body.") || strings.HasPrefix(rest, ".body["):
		e.Part = "body"
		return e.parseSuffix(rest[len(".body"):], off+len(".body"))
	case strings.HasPrefix(rest, ".headers."):
		return errAt(off, "use .header.<name> (singular), not .headers")
	}
	name := "$request"
	if e.Source == SrcResponse {
		name = "$response"
	}
	return errAt(off, "after %s expected .header.<name>, .query.<name>, .path.<name> or .body", name)
}

// parseName reads an input/output name and an optional #pointer. Names may
// contain dots; splitting them for navigation is left to evaluation (exact
// key first).
func (e *Expression) parseName(s string, off int) *Error {
	i := strings.IndexAny(s, "#[")
	if i < 0 {
		e.Name = s
		return nil
	}
	e.Name = s[:i]
	if e.Name == "" {
		return errAt(off, "a name is required")
	}
	return e.parseSuffix(s[i:], off+i)
}

// parseSuffix parses what may follow a value: `#pointer`, or the tolerated
// dotted/indexed navigation.
func (e *Expression) parseSuffix(s string, off int) *Error {
	if s == "" {
		return nil
	}
	if s[0] == '#' {
		e.HasPointer = true
		ptr := s[1:]
		if ptr != "" && ptr[0] != '/' {
			e.Warnings = append(e.Warnings, warnAt(off+1, "a JSON pointer starts with /: read #%s as #/%s", ptr, ptr))
			ptr = "/" + ptr
		}
		toks, err := jsonpointer.Split(ptr)
		if err != nil {
			se := err.(*jsonpointer.SyntaxError)
			return errAt(off+1+se.Offset, "%s", se.Msg)
		}
		e.Pointer = toks
		return nil
	}
	nav, err := parseNav(s, off)
	if err != nil {
		return err
	}
	e.Nav = nav
	e.Warnings = append(e.Warnings, warnAt(off, "navigation with . and [] after a value is not in the runtime-expression grammar (1.0 or 1.1); prefer a JSON pointer (#/...)"))
	return nil
}

func parseNav(s string, off int) ([]NavElem, *Error) {
	var nav []NavElem
	for i := 0; i < len(s); {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, errAt(off+i, "a property name is required after .")
			}
			nav = append(nav, NavElem{Key: s[i+1 : j]})
			i = j
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, errAt(off+i, "unclosed [")
			}
			n, err := strconv.Atoi(s[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, errAt(off+i+1, "an index in [] must be a non-negative integer")
			}
			nav = append(nav, NavElem{Index: n, IsIdx: true})
			i += j + 1
		default:
			return nil, errAt(off+i, "unexpected %q", s[i])
		}
	}
	return nav, nil
}

func isTChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// String returns the expression's source text.
func (e *Expression) String() string { return e.Text }
