package expr

// JSON Pointers over XML bodies. A response body that is XML is kept as
// text; a pointer into it ($response.body#/ListBucketResult/Contents/0/Key)
// walks the element tree: each name token selects the child elements of
// that name, a number token picks one of them (0 by default), and the
// value is the element's text when it has no child elements, else the
// element as an object of its children. The first token may name the
// root element or, left out, start below it.

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"

	"github.com/arazzo-go/arazzo/expr/jsonpointer"
)

type xmlNode struct {
	name     string
	text     strings.Builder
	children []*xmlNode
}

// looksXML reports a text body that starts with an XML tag.
func looksXML(s string) bool {
	t := strings.TrimLeft(s, " \t\r\n\ufeff")
	return strings.HasPrefix(t, "<") && !strings.HasPrefix(t, "<!DOCTYPE html") && !strings.HasPrefix(t, "<html")
}

func parseXMLTree(s string) (*xmlNode, bool) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: x.Name.Local}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(bytes.TrimSpace(x))
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return root, root != nil
}

// xmlPointer evaluates pointer tokens over an XML document's text.
func xmlPointer(doc string, toks []string) (any, bool) {
	root, ok := parseXMLTree(doc)
	if !ok {
		return nil, false
	}
	sel := []*xmlNode{root}
	if len(toks) > 0 && toks[0] == root.name {
		toks = toks[1:]
	}
	for _, t := range toks {
		if i, isIdx := jsonpointer.Index(t); isIdx {
			if i >= len(sel) {
				return nil, false
			}
			sel = sel[i : i+1]
			continue
		}
		var next []*xmlNode
		for _, c := range sel[0].children {
			if c.name == t {
				next = append(next, c)
			}
		}
		if len(next) == 0 {
			return nil, false
		}
		sel = next
	}
	return xmlValue(sel[0]), true
}

func xmlValue(n *xmlNode) any {
	if len(n.children) == 0 {
		return n.text.String()
	}
	m := map[string]any{}
	for _, c := range n.children {
		v := xmlValue(c)
		switch prev := m[c.name].(type) {
		case nil:
			m[c.name] = v
		case []any:
			m[c.name] = append(prev, v)
		default:
			m[c.name] = []any{prev, v}
		}
	}
	return m
}
