package engine

import (
	"net/http"
	"testing"

	"github.com/arazzo-go/arazzo/engine/protocol"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/expr"
)

// FuzzResponseBody feeds arbitrary bodies under various content types
// through response parsing and the expressions and criteria that read
// them: nothing may panic.
func FuzzResponseBody(f *testing.F) {
	f.Add([]byte(`{"ExportJobProperties":{"JobStatus":"COMPLETED"}}`), "application/x-amz-json-1.0")
	f.Add([]byte(`{"a":[1,2,{"b":null}],"n":1e400}`), "application/json")
	f.Add([]byte(`not json`), "application/problem+json")
	f.Add([]byte(`<a><b>1</b></a>`), "application/xml")
	f.Add([]byte(`[`), "")
	f.Add([]byte("\xff\xfe"), "text/plain; charset=utf-16")
	exprs := []string{"$response.body", "$response.body#/a/0", "$response.body#/ExportJobProperties/JobStatus", "$response.body.a[2].b"}
	var parsed []*expr.Expression
	for _, s := range exprs {
		e, err := expr.Parse(s)
		if err != nil {
			f.Fatal(err)
		}
		parsed = append(parsed, e)
	}
	var crits []*expr.Criterion
	for _, spec := range []expr.CriterionSpec{
		{Context: "$response.body", Condition: `$.ExportJobProperties.JobStatus == "COMPLETED"`, Type: "jsonpath"},
		{Context: "$response.body", Condition: `$[?@.b == null]`, Type: "jsonpath"},
		{Context: "$response.body", Condition: `/a/b = 1`, Type: "xpath"},
		{Context: "$response.body", Condition: `COMPLETED`, Type: "regex"},
		{Condition: "$response.body#/n > 1 && $statusCode == 200"},
	} {
		c, _ := expr.CompileCriterion(spec)
		crits = append(crits, c)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		ex := &exchange{status: 500, hasStatus: true, respHeader: http.Header{"Content-Type": {contentType}}, respBody: body}
		ex.parseBody()
		fr := &frame{current: ex, steps: map[string]map[string]any{}}
		for _, e := range parsed {
			e.Eval(fr)
		}
		for _, c := range crits {
			c.Eval(fr)
		}
		ex.protocol = protocol.HTTP
		ex.failedStatus(nil, false)
		awsjson.Protocol{}.ErrorSummary(ex.respHeader, body)
	})
}
