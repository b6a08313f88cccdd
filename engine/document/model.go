// Package document is the Arazzo object model, one for 1.0.x and 1.1.x
// documents, and its parser. Version records which one a document declares;
// the fields 1.1 added are zero in a 1.0 document (the parser reports any a
// 1.0 document uses, pointing to `arazzo upgrade`).
//
// Every object keeps the position of its own node and of each of its fields,
// so that later stages (the validator, the compiler, the executor) can point
// at the exact line and column of whatever they complain about. The model is
// a faithful copy of what the file says: nothing is resolved or defaulted here.
package document

import "fmt"

// Pos is a 1-based line and column in a source file. The zero Pos means unknown.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is embedded in every object: where the object starts, where each of
// its fields' values start, and its `x-` extensions.
type Node struct {
	Pos        Pos
	FieldPos   map[string]Pos
	Extensions map[string]any
	keyPos     map[string]Pos
}

// KeyAt returns the position of field's key (where a schema error about an
// unknown field points), or of the object when the field is absent.
func (n *Node) KeyAt(field string) Pos {
	if p, ok := n.keyPos[field]; ok {
		return p
	}
	return n.Pos
}

// Version is the Arazzo specification version a document declares, by
// minor version: the patch number changes no rule.
type Version uint8

const (
	// VUnknown: no arazzo field, or one this tool does not know; the
	// document is checked by the 1.0 rules and an error says why.
	VUnknown Version = iota
	V10
	V11
)

func (v Version) String() string {
	switch v {
	case V10:
		return "1.0"
	case V11:
		return "1.1"
	}
	return "unknown"
}

// AtLeast11 reports whether the 1.1 rules apply.
func (v Version) AtLeast11() bool { return v >= V11 }

// At returns the position of field's value, or of the object when the field
// is absent, so a diagnostic always has somewhere sensible to point.
func (n *Node) At(field string) Pos {
	if p, ok := n.FieldPos[field]; ok {
		return p
	}
	return n.Pos
}

// Has reports whether the field was written in the document.
func (n *Node) Has(field string) bool {
	_, ok := n.FieldPos[field]
	return ok
}

// Document is the root Arazzo Specification Object.
type Document struct {
	Node
	File    string // the path or URL it was read from
	Arazzo  string
	Version Version // from Arazzo
	// Self is the 1.1 `$self` field as written (a URI reference).
	Self               string
	Info               Info
	SourceDescriptions []*SourceDescription
	Workflows          []*Workflow
	Components         *Components
	// Raw is the whole document as plain JSON-compatible values, for the
	// JSON Schema validation.
	Raw any
	// Index maps a JSON pointer (as the schema validator reports instance
	// locations) to its position.
	Index map[string]Pos
}

// Info is the Info Object.
type Info struct {
	Node
	Title, Summary, Description, Version string
}

// SourceDescription names an OpenAPI or Arazzo document the workflows use.
type SourceDescription struct {
	Node
	Name, URL, Type string
}

// Workflow is the Workflow Object.
type Workflow struct {
	Node
	WorkflowID     string
	Summary        string
	Description    string
	Inputs         any // a JSON Schema, kept as plain values
	DependsOn      []string
	Steps          []*Step
	SuccessActions []*ActionRef
	FailureActions []*ActionRef
	Outputs        *Outputs
	Parameters     []*ParameterRef
}

// Outputs is an ordered map from an output name to its runtime expression
// (Values) or, in 1.1, its Selector Object (Raw holds every value as
// written, strings included).
type Outputs struct {
	Node
	Names  []string
	Values map[string]string
	Raw    map[string]any
	// Constants holds the outputs written as a null, boolean or number
	// literal instead of an expression (a dialect: taken as that value).
	Constants map[string]any
}

// Step is the Step Object.
type Step struct {
	Node
	StepID          string
	Description     string
	OperationID     string
	OperationPath   string
	WorkflowID      string
	Parameters      []*ParameterRef
	RequestBody     *RequestBody
	SuccessCriteria []*Criterion
	OnSuccess       []*ActionRef
	OnFailure       []*ActionRef
	Outputs         *Outputs
	// 1.1 fields. Timeout is in milliseconds (nil when absent); DependsOn
	// lists step ids and $workflows / $sourceDescriptions step references.
	Timeout   *int64
	DependsOn []string
	// AsyncAPI step fields, parsed so they can be checked and refused.
	ChannelPath      string
	Action           string
	CorrelationID    any
	HasCorrelationID bool
}

// Parameter is the Parameter Object.
type Parameter struct {
	Node
	Name  string
	In    string
	Value any
}

// ParameterRef is either an inline Parameter or a Reusable Object naming one.
type ParameterRef struct {
	*Parameter
	Reusable *Reusable
}

// Reusable is the Reusable Object: a reference into components, and for
// parameters an optional value that replaces the component's.
type Reusable struct {
	Node
	Reference string
	Value     any
	HasValue  bool
}

// Action is a Success Action or a Failure Action; the fields that only
// failure actions have are zero on success actions.
type Action struct {
	Node
	Name       string
	Type       string
	WorkflowID string
	StepID     string
	RetryAfter *float64
	RetryLimit *int64
	Criteria   []*Criterion
	// Parameters (1.1) are the inputs of a goto or retry workflowId target.
	Parameters []*ParameterRef
}

// ActionRef is either an inline action or a Reusable Object naming one.
type ActionRef struct {
	*Action
	Reusable *Reusable
}

// RequestBody is the Request Body Object.
type RequestBody struct {
	Node
	ContentType  string
	Payload      any
	HasPayload   bool
	Replacements []*Replacement
}

// Replacement is the Payload Replacement Object.
type Replacement struct {
	Node
	Target string
	Value  any
	// TargetType and TargetVersion are the 1.1 targetSelectorType (a plain
	// type or an Expression Type Object); empty when absent.
	TargetType, TargetVersion string
}

// Criterion is the Criterion Object. Type holds the plain type string or the
// type of a Criterion Expression Type Object; Version is that object's version
// (or the flat `version` field the official schema accepts).
type Criterion struct {
	Node
	Context   string
	Condition string
	Type      string
	Version   string
	// TypeIsObject records that `type` was written as {type, version}.
	TypeIsObject bool
}

// Components is the Components Object.
type Components struct {
	Node
	Inputs         map[string]any
	Parameters     map[string]*Parameter
	SuccessActions map[string]*Action
	FailureActions map[string]*Action
	// KeyPos is the position of each component key, by "kind/key".
	KeyPos map[string]Pos
}
