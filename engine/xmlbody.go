package engine

// XML request bodies from object payloads, as OpenAPI's XML Object
// describes them: the schema's xml.name names an element, xml.namespace
// gives its xmlns, xml.attribute makes a member an attribute, and an
// array is a run of elements (wrapped in one element when xml.wrapped).

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/arazzo-go/arazzo/expr"
)

// encodeXML serializes an object payload. The root element is the
// schema's xml.name; a payload that is one member of that name (the body
// wrapped in its element's name) is unwrapped. Without a schema name, a
// one-member object names its root.
func encodeXML(v any, sch *openapi3.Schema) ([]byte, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an XML body needs an object or a string payload, got %T", v)
	}
	root, ns := "", ""
	if sch != nil && sch.XML != nil {
		root, ns = sch.XML.Name, sch.XML.Namespace
	}
	if len(m) == 1 {
		for k, inner := range m {
			if im, ok := inner.(map[string]any); ok && (root == "" || k == root) {
				root, m = k, im
			}
		}
	}
	if root == "" {
		return nil, fmt.Errorf("an XML body from an object payload needs its root element's name: give the request schema an xml.name, or make the payload one member named after the element")
	}
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Local: root}}
	if ns != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: ns})
	}
	if err := encodeXMLObject(enc, start, m, sch); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func propSchema(sch *openapi3.Schema, name string) *openapi3.Schema {
	if sch == nil {
		return nil
	}
	if p := sch.Properties[name]; p != nil {
		return p.Value
	}
	return nil
}

func encodeXMLObject(enc *xml.Encoder, start xml.StartElement, m map[string]any, sch *openapi3.Schema) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var children []string
	for _, k := range keys {
		ps := propSchema(sch, k)
		if ps != nil && ps.XML != nil && ps.XML.Attribute {
			name := k
			if ps.XML.Name != "" {
				name = ps.XML.Name
			}
			start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: name}, Value: expr.Text(m[k])})
			continue
		}
		children = append(children, k)
	}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range children {
		if err := encodeXMLMember(enc, k, m[k], propSchema(sch, k)); err != nil {
			return err
		}
	}
	return enc.EncodeToken(start.End())
}

func encodeXMLMember(enc *xml.Encoder, name string, v any, sch *openapi3.Schema) error {
	el := name
	if sch != nil && sch.XML != nil && sch.XML.Name != "" {
		el = sch.XML.Name
	}
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return encodeXMLObject(enc, xml.StartElement{Name: xml.Name{Local: el}}, x, sch)
	case []any:
		var items *openapi3.Schema
		if sch != nil && sch.Items != nil {
			items = sch.Items.Value
		}
		itemName := el
		wrapped := sch != nil && sch.XML != nil && sch.XML.Wrapped
		if wrapped {
			itemName = name
			if items != nil && items.XML != nil && items.XML.Name != "" {
				itemName = items.XML.Name
			}
			if err := enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: el}}); err != nil {
				return err
			}
		}
		for _, it := range x {
			if err := encodeXMLMember(enc, itemName, it, items); err != nil {
				return err
			}
		}
		if wrapped {
			return enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: el}})
		}
		return nil
	}
	return enc.EncodeElement(expr.Text(v), xml.StartElement{Name: xml.Name{Local: el}})
}
