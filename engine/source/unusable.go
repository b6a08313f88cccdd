package source

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/engine/document"
	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

// Unusable is an operation left out of a description because its own
// definition is malformed (a schema kin-openapi cannot read). The rest of
// the description stays usable: one bad schema in an operation no step
// uses must not make a whole API unusable.
type Unusable struct {
	Method, Path string // upper-case method, OpenAPI path key
	ID           string // its operationId, when it could be read
	Reason       string
}

func (u Unusable) String() string {
	if u.ID != "" {
		return fmt.Sprintf("%s %s (%s)", u.Method, u.Path, u.ID)
	}
	return u.Method + " " + u.Path
}

// Unusable returns the operations left out of the description.
func (s *Source) Unusable() []Unusable { return s.unusable }

// UnusableByID and UnusableByPath find a left-out operation.
func (s *Source) UnusableByID(id string) *Unusable {
	for i := range s.unusable {
		if s.unusable[i].ID == id {
			return &s.unusable[i]
		}
	}
	return nil
}

func (s *Source) UnusableByPath(path, method string) *Unusable {
	for i := range s.unusable {
		if s.unusable[i].Path == path && strings.EqualFold(s.unusable[i].Method, method) {
			return &s.unusable[i]
		}
	}
	return nil
}

var inOperationRE = regexp.MustCompile(` in (/paths/[^/\s]+/(get|put|post|delete|options|head|patch|trace))(/|\s|$)`)

// maxUnusable bounds the retries: a description broken everywhere is
// reported as broken.
const maxUnusable = 20

// loadSkippingBroken loads a description; when the loader names an
// operation as the place of its error, that operation is removed and the
// load retried. It returns the operations removed.
func loadSkippingBroken(newLoader func() *openapi3.Loader, data []byte, loc *url.URL) (*openapi3.T, []Unusable, error) {
	doc, err := loadOpenAPI(newLoader(), data, loc)
	if err == nil {
		return doc, nil, nil
	}
	var tree map[string]any
	var dropped []Unusable
	first := err
	for len(dropped) < maxUnusable {
		m := inOperationRE.FindStringSubmatch(err.Error())
		if m == nil {
			return nil, nil, first
		}
		if tree == nil {
			root, yerr := document.DecodeYAML(data)
			if yerr != nil {
				return nil, nil, first
			}
			v, cerr := document.FromYAML(root)
			if tree, _ = v.(map[string]any); cerr != nil || tree == nil {
				return nil, nil, first
			}
		}
		toks, perr := jsonpointer.Split(m[1])
		if perr != nil || len(toks) != 3 {
			return nil, nil, first
		}
		paths, _ := tree["paths"].(map[string]any)
		item, _ := paths[toks[1]].(map[string]any)
		op, _ := item[toks[2]].(map[string]any)
		if op == nil {
			return nil, nil, first
		}
		id, _ := op["operationId"].(string)
		dropped = append(dropped, Unusable{Method: strings.ToUpper(toks[2]), Path: toks[1], ID: id, Reason: oneLine(err)})
		delete(item, toks[2])
		again, merr := json.Marshal(tree)
		if merr != nil {
			return nil, nil, first
		}
		if doc, err = loadOpenAPI(newLoader(), again, loc); err == nil {
			return doc, dropped, nil
		}
	}
	return nil, nil, first
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
