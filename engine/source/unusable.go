package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
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

// inPathRE finds the place of a loader error inside a path item, and the
// member of the path item it is in (an operation's method, or parameters
// and the like, which every operation of the item shares).
var inPathRE = regexp.MustCompile(` in (/paths/[^/\s;]+)(?:/([A-Za-z$]+))?`)

var methodOrder = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// maxAttempts bounds the retries and maxUnusable the operations left out:
// a description broken everywhere is reported as broken.
const (
	maxAttempts = 20
	maxUnusable = 200
)

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
	for attempt := 0; attempt < maxAttempts && len(dropped) < maxUnusable; attempt++ {
		// One message may list several places (construct errors).
		found := inPathRE.FindAllStringSubmatch(err.Error(), -1)
		if found == nil {
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
		progress := false
		for _, m := range found {
			toks, perr := jsonpointer.Split(m[1])
			if perr != nil || len(toks) != 2 {
				continue
			}
			paths, _ := tree["paths"].(map[string]any)
			item, _ := paths[toks[1]].(map[string]any)
			if item == nil {
				continue
			}
			place := m[1] + "/" + m[2]
			leave := func(method string) {
				op, _ := item[method].(map[string]any)
				if op == nil {
					return
				}
				id, _ := op["operationId"].(string)
				dropped = append(dropped, Unusable{Method: strings.ToUpper(method), Path: toks[1], ID: id, Reason: placeReason(err, place)})
				progress = true
			}
			if slices.Contains(methodOrder, m[2]) {
				leave(m[2])
				delete(item, m[2])
				continue
			}
			// Shared by the whole path item: every operation goes.
			for _, meth := range methodOrder {
				leave(meth)
			}
			delete(paths, toks[1])
			progress = true
		}
		if !progress {
			return nil, nil, first
		}
		again, merr := json.Marshal(tree)
		if merr != nil {
			return nil, nil, first
		}
		doc, err = loadOpenAPI(newLoader(), again, loc)
		if err == nil {
			return doc, dropped, nil
		}
	}
	return nil, nil, first
}

// placeReason is the part of a loader error about one place: a message
// listing several places is cut to the one that names the operation.
func placeReason(err error, place string) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if i := strings.Index(s, " in "+place); i >= 0 {
		start := strings.LastIndexAny(s[:i], ";:") + 1
		if j := strings.LastIndex(s[:i], "line "); j >= 0 && j < i {
			start = j
		}
		end := i + len(" in "+place)
		if k := strings.IndexByte(s[end:], ';'); k >= 0 {
			end += k
		} else {
			end = len(s)
		}
		s = strings.TrimSpace(s[start:end])
		// Line numbers past the first attempt count in the re-encoded text.
		s = lineRE.ReplaceAllString(s, "")
	}
	return oneLine(errors.New(s))
}

var lineRE = regexp.MustCompile(`^line \d+: `)

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
