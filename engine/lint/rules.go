package lint

import (
	"sort"

	"github.com/arazzo-go/arazzo/engine/diag"
)

// Rule is one lint rule.
type Rule struct {
	ID       string
	Severity diag.Severity // by default
	Summary  string        // one line
	Explain  string        // one paragraph: what it finds, why it matters, what to do
}

var rules = []Rule{
	{"parameter-undeclared", diag.Warning, "a parameter the operation does not declare",
		"A step passes a parameter (name and `in`) that its OpenAPI operation declares neither at operation nor at path-item level. The engine sends it anyway, but the API most likely ignores it, and the parameter the operation does expect gets no value. The finding names the nearest declared parameter when the name looks like a slip (`pet_id` for `petId`). Rename the parameter, or silence the rule on the step if the API accepts parameters its description does not list."},
	{"parameter-location", diag.Error, "a parameter given in the wrong place",
		"The operation declares a parameter of this name, but in another location: `in: query` for what the operation reads from a header, say. It would be sent where the API does not look for it, and the declared parameter would be missing. Change `in` to the location the operation declares."},
	{"parameter-missing", diag.Error, "a required parameter the step does not provide",
		"The operation declares a parameter as required (every path parameter is), or a called workflow declares a required input without a default, and neither the step nor its workflow's parameters give it a value. The request cannot be built (a path parameter) or the API will refuse it. Add the parameter to the step or to the workflow's parameters. Accept, Content-Type and Authorization headers are exempt: OpenAPI ignores them as parameters."},
	{"parameter-type", diag.Error, "a value whose type or enum cannot satisfy the parameter's schema",
		"A literal value, or a workflow input of a declared type or enum, cannot satisfy the schema of the parameter (or the called workflow's input) it is given to: a boolean for an integer, `desc` where the enum allows `asc` and `descending`. Path, query, header and cookie values travel as text, so a number written as a string is accepted for an integer parameter; values from other steps or responses are unknown before running and are not judged. Fix the value, or the input's declared type."},
	{"request-body-missing", diag.Error, "a required request body the step does not provide",
		"The operation declares `requestBody.required: true` but the step has no `requestBody`. The API will refuse the request. Add a requestBody with the payload the operation describes."},
	{"request-body-schema", diag.Error, "a payload that breaks the request body's schema",
		"The step's payload is checked against the operation's request body schema for its content type with the same JSON Schema validator the run uses (OpenAPI 3.0 and 3.1 dialects). Literal parts must satisfy it; an expression counts as an unknown value of its source's type when that is known (a workflow input's declared type), so only a type that can never fit is reported. Missing required properties and properties the schema forbids are reported too."},
	{"response-field-unknown", diag.Warning, "an output or criterion reads a response field no response schema has",
		"An output or criterion reads `$response.body#/pointer`, but no response the operation declares has that field in its schema: an object schema lists its properties and the name is not among them (and additional properties are not declared), or the path goes into a string. At run time the value would be undefined, the output empty, the criterion false. The finding names the properties the schema has. Fix the pointer (`/JobList` rather than `/Jobs`), or declare the field in the description."},
	{"loop-no-exit", diag.Error, "a goto loop with no criterion that leaves it",
		"A success action goes back to the same or an earlier step without criteria, and nothing in the loop (an earlier conditional action, an end, a goto out) ever leaves it. Such a loop polls until a step fails, the step limit stops it or the run times out. Give the goto a criterion (`$response.body#/status == 'RUNNING'`) so it only loops while the work is pending, or add an action that ends the loop."},
	{"loop-enum-fallthrough", diag.Warning, "a polling loop whose criteria leave enum values unhandled",
		"A polling step compares a response field whose schema is an enum (a job status, say) in its success criteria and actions, but some of the enum's values match no action and are not refused by its success criteria: on those values the run silently leaves the loop and goes on to the next step, usually with a job that failed or was cancelled. The finding names the values that fall through. Add an action (`end` on FAILED, or a failure criterion) for them."},
	{"unreachable-step", diag.Warning, "a step that can never run",
		"No path reaches the step: the step before it always ends the workflow or jumps elsewhere (an action without criteria), and no goto or retry targets it. Its requests are never sent and its outputs never set. Remove the step, or fix the actions that should lead to it."},
	{"unused-input", diag.Warning, "a workflow input nothing reads",
		"The workflow's inputs schema declares an input that no expression of the workflow reads (`$inputs.name`), nor any other workflow (`$workflows.id.inputs.name`). Callers must still supply it when it is required. Remove it, or use it where it was meant to go."},
	{"unused-output", diag.Warning, "a step output nothing reads",
		"A step declares an output that no expression of the document reads (`$steps.id.outputs.name`). Step outputs exist to carry values to later steps and to the workflow's outputs; one that nothing reads is often a value someone forgot to pass on. Read it where it was meant to go, or remove it."},
	{"constant-criterion", diag.Warning, "a criterion whose outcome is fixed",
		"A simple criterion has no runtime expression in it (`true`, `1 == 1`, `'a' == $x` typed without the `$`), so it is the same on every run: a success criterion that is always true checks nothing, one that is always false always fails the step, and an action criterion of either kind makes the action unconditional or dead. Compare a runtime expression such as `$statusCode` or `$response.body#/status`."},
}

// Rules returns the lint rules, sorted by id.
func Rules() []Rule {
	out := append([]Rule(nil), rules...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the rule with the given id.
func Lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// ruleIDs are the ids of the lint rules and of validate's, which a config
// may also set.
func ruleIDs() []string {
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	return append(ids, validateRules...)
}

// validateRules are the rule ids `validate` reports, which a config may
// turn down or off like lint's own.
var validateRules = []string{
	"action-target", "action-type", "arazzo-version", "criterion", "condition", "depends-on-cycle", "duplicate-action",
	"duplicate-parameter", "duplicate-source", "duplicate-step-id", "duplicate-workflow-id", "embed-quoted-object",
	"expression", "expression-reference", "expression-style", "info-version-number", "inputs-schema", "operation-ambiguous",
	"operation-path", "operation-unqualified", "operation-unresolved", "output-name", "parameter-in", "parameter-object-value",
	"replacement-target", "request-body-content-type", "request-body-ignored", "reusable-reference",
	"reusable-value-ignored", "schema", "self-reference", "source-cycle", "source-invalid", "source-unavailable",
	"undeclared-output", "workflow-step-status", "workflow-unresolved",
}
