package expr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSimpleConditions(t *testing.T) {
	ctx := testContext(t, sampleBody)
	tests := []struct {
		cond string
		want bool
	}{
		{"$statusCode == 200", true},
		{"$statusCode == '200'", true},
		{"$statusCode != 200", false},
		{"$statusCode >= 200 && $statusCode < 300", true},
		{"$response.body#/count > 5", true},
		{"'10' > '9'", false}, // two strings compare lexically (pinned)
		{"$response.body#/flag == true", false},
		{"$response.body#/ok == true", true},
		{"$response.body#/status == 'AVAILABLE'", true},
		{"$response.body#/status != 'AVAILABLE'", false},
		{"$response.body#/name == 'O''Brien'", true},
		{"'it''s' == 'IT''S'", true},
		{`$response.body#/status == "available"`, true},
		{"$response.body#/missing == null", false},
		{"$response.body#/n == null", true},
		{"$response.body#/missing != null", true},
		{"$statusCode == 200 || $statusCode == 201 && false", true},
		{"($statusCode == 200 || $statusCode == 201) && false", false},
		{"!($statusCode == 1)", true},
		{"!$response.body#/status", true},
		{"$response.body#/ok", true},
		{"$response.body#/status", false},
		{"$response.body#/missing", false},
		{"$response.body#/arr[0] == 10", true},
		{"($response.body#/a).b == 'plain'", true},
		{"$response.body.arr[1] == 20", true},
		{"$response.body#/id == 9007199254740993", true},
		{"$response.body#/id == 9007199254740992", false},
		{"-1 < 0", true},
		{"1e2 == 100", true},
		{"null == null", true},
		{"true == 'true'", false},
		{"$response.header.X-Rate-Limit == 5", true},
		{"{$statusCode == 200}", true},
		{"$response.body#/status < 5", false},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, errs := CompileCriterion(CriterionSpec{Condition: tt.cond})
			for _, e := range errs {
				if !e.Warning {
					t.Fatalf("compile: %v", e)
				}
			}
			got, err := c.Eval(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionSyntaxErrors(t *testing.T) {
	tests := []struct {
		cond   string
		offset int
	}{
		{"$statusCode = 200", 12},
		{"$statusCode == ", 15},
		{"$statusCode == OK", 15},
		{"($statusCode == 200", 19},
		{"$statusCode == 'abc", 15},
		{"$steps.x.response == 1", 8},
		{"", 0},
		{"$statusCode == 200 )", 19},
		{"$response.body#/a[x] == 1", 18},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			_, err := ParseCondition(tt.cond)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("want a syntax error, got %v", err)
			}
			if e.Offset != tt.offset {
				t.Fatalf("offset %d (%s), want %d", e.Offset, e.Msg, tt.offset)
			}
		})
	}
}

func TestRegexCriteria(t *testing.T) {
	ctx := testContext(t, sampleBody)
	tests := []struct {
		cond string
		want bool
	}{
		{`^2\d\d$`, true},
		{`20`, true},
		{`^20$`, false},
	}
	for _, tt := range tests {
		c, errs := CompileCriterion(CriterionSpec{Context: "$statusCode", Condition: tt.cond, Type: string(Regex)})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if got, _ := c.Eval(ctx); got != tt.want {
			t.Errorf("%s: got %v", tt.cond, got)
		}
	}
	c, errs := CompileCriterion(CriterionSpec{Context: "$response.body#/status", Condition: "^AVAILABLE$", Type: string(Regex)})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got, _ := c.Eval(ctx); got {
		t.Error("regex is case-sensitive unless (?i)")
	}
	c, errs = CompileCriterion(CriterionSpec{Context: "$statusCode", Condition: "(", Type: string(Regex)})
	if len(errs) != 1 || errs[0].Field != "condition" {
		t.Fatalf("invalid regex must be a condition error, got %v", errs)
	}
	if got, err := c.Eval(ctx); got || err == nil {
		t.Fatalf("invalid regex must fail with an error, got %v %v", got, err)
	}
}

func jsonCtx(t *testing.T, body string) *fakeContext {
	c := testContext(t, "{}")
	c.resp.body = jsonValue(t, body)
	return c
}

func TestJSONPathCriteria(t *testing.T) {
	tests := []struct {
		name, body, cond string
		want             bool
		dialect          string
	}{
		{"T-JP1 root object", `{"pets":[1]}`, `$[?count(@.pets) > 0]`, false, DialectRFC9535},
		{"T-JP1 root array", `[{"pets":[1]}]`, `$[?count(@.pets) > 0]`, true, DialectRFC9535},
		{"wildcard nonempty", `{"pets":[1]}`, `$.pets[*]`, true, DialectRFC9535},
		{"wildcard empty", `{"pets":[]}`, `$.pets[*]`, false, DialectRFC9535},
		{"T-JP2 passes on error body", `{"error":"x"}`, `$[?@.access_token != null]`, true, DialectRFC9535},
		{"T-JP2 empty object fails", `{}`, `$[?@.access_token != null]`, false, DialectRFC9535},
		{"empty array is a node", `{"items":[]}`, `$.items`, true, DialectRFC9535},
		{"missing key", `{"items":[]}`, `$.nope`, false, DialectRFC9535},
		{"rfc filter", `{"a":[{"x":2},{"x":1}]}`, `$.a[?@.x > 1]`, true, DialectRFC9535},
		{"length()", `{"a":"abcd"}`, `$[?length(@) > 3]`, true, DialectRFC9535},
		{"seed comparison", `{"ExportJobProperties":{"JobStatus":"COMPLETED"}}`, `$.ExportJobProperties.JobStatus == "COMPLETED"`, true, DialectGoessner},
		{"seed comparison other", `{"ExportJobProperties":{"JobStatus":"IN_PROGRESS"}}`, `$.ExportJobProperties.JobStatus == "COMPLETED"`, false, DialectGoessner},
		{"seed comparison missing", `{}`, `$.ExportJobProperties.JobStatus == "COMPLETED"`, false, DialectGoessner},
		{"single quotes", `{"s":"x"}`, `$.s == 'x'`, true, DialectGoessner},
		{"or", `{"s":"b"}`, `$.s == "a" || $.s == "b"`, true, DialectGoessner},
		{"and", `{"s":"b","n":3}`, `$.s == "b" && $.n > 2`, true, DialectGoessner},
		{"not equal", `{"s":"b"}`, `$.s != "b"`, false, DialectGoessner},
		{"in", `{"s":"b"}`, `$.s in ["a","b"]`, true, DialectGoessner},
		{"contains array", `{"F":[{"A":"arn1","Status":"ACTIVE"},{"A":"arn2","Status":"CREATE_PENDING"}]}`, `$.F[?(@.A == "arn1")].Status contains "ACTIVE"`, true, DialectGoessner},
		{"contains array no", `{"F":[{"A":"arn1","Status":"ACTIVE"},{"A":"arn2","Status":"CREATE_PENDING"}]}`, `$.F[?(@.A == "arn2")].Status contains "ACTIVE"`, false, DialectGoessner},
		{"contains string", `{"s":"hello world"}`, `$.s contains "world"`, true, DialectGoessner},
		{"goessner filter", `{"a":[{"x":2}]}`, `$.a[?(@.x == 2)]`, true, DialectRFC9535},
		// The Goessner .length idiom, as AWS-style documents poll on it.
		{".length nonempty", `{"FileSystems":[{"Id":"fs-1"}]}`, `$.FileSystems.length > 0`, true, DialectGoessner},
		{".length empty", `{"FileSystems":[]}`, `$.FileSystems.length > 0`, false, DialectGoessner},
		{".length zero", `{"MountTargets":[]}`, `$.MountTargets.length == 0`, true, DialectGoessner},
		{".length alone", `{"MountTargets":[1,2]}`, `$.MountTargets.length`, true, DialectGoessner},
		{".length of string", `{"Name":"abc"}`, `$.Name.length == 3`, true, DialectGoessner},
		{".length member", `{"Box":{"length":7}}`, `$.Box.length == 7`, true, DialectGoessner},
		{".length in filter", `{"a":[{"t":[1]},{"t":[]}]}`, `$.a[?(@.t.length > 0)].length == 1`, true, DialectGoessner},
		{"quoted .length untouched", `{"s":"x.length"}`, `$.s == "x.length"`, true, DialectGoessner},
		{"length() outside a filter", `{"Items":[1,2,3]}`, `length($.Items) >= 3`, true, DialectGoessner},
		{"count()", `{"Items":[{"a":1},{"a":2}]}`, `count($.Items[*]) == 2`, true, DialectGoessner},
		{"match()", `{"Id":"fs-0123"}`, `match($.Id, "fs-[0-9]+")`, true, DialectGoessner},
		{"match() is anchored", `{"Id":"xfs-0123"}`, `match($.Id, "fs-[0-9]+")`, false, DialectGoessner},
		{"search()", `{"Id":"xfs-0123"}`, `search($.Id, "fs-[0-9]+")`, true, DialectGoessner},
		{"value()", `{"a":[{"x":5}]}`, `value($.a[0].x) == 5`, true, DialectGoessner},
		// A wildcard compared with one value: some element matches.
		{"any element", `{"Items":[{"S":"OFF"},{"S":"ACTIVE"}]}`, `$.Items[*].S == "ACTIVE"`, true, DialectGoessner},
		{"no element", `{"Items":[{"S":"OFF"}]}`, `$.Items[*].S == "ACTIVE"`, false, DialectGoessner},
		{"any element ordered", `{"Items":[{"n":1},{"n":9}]}`, `$.Items[*].n > 5`, true, DialectGoessner},
		{"none equal", `{"Items":[{"S":"OFF"}]}`, `$.Items[*].S != "ACTIVE"`, true, DialectGoessner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: tt.cond, Type: string(JSONPath)})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if c.Dialect != tt.dialect || c.Describe() != "jsonpath ("+tt.dialect+")" {
				t.Errorf("dialect %s (%s), want %s", c.Dialect, c.Describe(), tt.dialect)
			}
			got, err := c.Eval(jsonCtx(t, tt.body))
			if strings.Contains(tt.name, "missing") && tt.dialect == DialectGoessner {
				// Never a silent false: the caller learns the path is absent.
				if !errors.Is(err, ErrNothingSelected) {
					t.Fatalf("error %v, want ErrNothingSelected", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJSONPathWithEmbeddedExpressions(t *testing.T) {
	ctx := jsonCtx(t, `{"F":[{"A":"arn1","Status":"ACTIVE"},{"A":"arn2","Status":"PENDING"}]}`)
	ctx.steps["create"] = map[string]any{"arn": "arn1"}
	for cond, want := range map[string]bool{
		`$.F[?(@.A == "$steps.create.outputs.arn")].Status contains "ACTIVE"`:    true,
		`$.F[?(@.A == "{$steps.create.outputs.arn}")].Status contains "PENDING"`: false,
	} {
		c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: cond, Type: string(JSONPath)})
		if len(errs) > 0 {
			t.Fatal(cond, errs)
		}
		if got, err := c.Eval(ctx); err != nil || got != want {
			t.Errorf("%s: got %v %v, want %v", cond, got, err, want)
		}
		if len(c.Expressions()) != 2 {
			t.Errorf("%s: want the context and the embedded expression listed", cond)
		}
	}
}

// The seed's three criteria against every HealthLake export job status.
func TestSeedCriteriaAllStatuses(t *testing.T) {
	conds := map[string]string{
		"exportCompleted":      `$.ExportJobProperties.JobStatus == "COMPLETED"`,
		"exportStillSubmitted": `$.ExportJobProperties.JobStatus == "SUBMITTED"`,
		"exportStillRunning":   `$.ExportJobProperties.JobStatus == "IN_PROGRESS"`,
	}
	statuses := []string{"SUBMITTED", "QUEUED", "IN_PROGRESS", "COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_SUBMITTED", "CANCEL_IN_PROGRESS", "CANCEL_COMPLETED", "CANCEL_FAILED"}
	want := map[string]string{"COMPLETED": "exportCompleted", "SUBMITTED": "exportStillSubmitted", "IN_PROGRESS": "exportStillRunning"}
	for _, st := range statuses {
		body := fmt.Sprintf(`{"ExportJobProperties":{"JobId":"j1","JobStatus":%q,"DatastoreId":"d1","SubmitTime":1.7e9}}`, st)
		ctx := jsonCtx(t, body)
		for name, cond := range conds {
			c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: cond, Type: string(JSONPath)})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got, err := c.Eval(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != (want[st] == name) {
				t.Errorf("status %s, criterion %s: got %v", st, name, got)
			}
		}
	}
}

func TestXPathCriteria(t *testing.T) {
	ctx := testContext(t, "{}")
	ctx.resp.body = `<order><qty>3</qty><status>ok</status></order>`
	tests := []struct {
		cond string
		want bool
	}{
		{"/order/qty = 3", true},
		{"/order/qty > 5", false},
		{"count(/order/*)", true},
		{"/order/missing", false},
		{"/order/status", true},
		{"string(/order/missing)", false},
	}
	for _, tt := range tests {
		c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: tt.cond, Type: string(XPath)})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if got, err := c.Eval(ctx); err != nil || got != tt.want {
			t.Errorf("%s: got %v %v, want %v", tt.cond, got, err, tt.want)
		}
	}
	c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: "/a", Type: string(XPath), Version: "xpath-30"})
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "unsupported") {
		t.Fatalf("xpath-30 must be reported unsupported, got %v", errs)
	}
	if got, err := c.Eval(ctx); got || err == nil {
		t.Fatal("an unsupported xpath criterion fails with an error")
	}
	ctx.resp.body = "not xml <"
	c, _ = CompileCriterion(CriterionSpec{Context: "$response.body", Condition: "/a", Type: string(XPath)})
	if got, err := c.Eval(ctx); got || err == nil {
		t.Fatal("malformed XML fails the criterion with an error")
	}
}

func TestCriterionNeedsContext(t *testing.T) {
	for _, typ := range []CriterionKind{Regex, JSONPath, XPath} {
		_, errs := CompileCriterion(CriterionSpec{Condition: "x", Type: string(typ)})
		found := false
		for _, e := range errs {
			found = found || e.Field == "context"
		}
		if !found {
			t.Errorf("%s without context must be an error", typ)
		}
	}
	if _, errs := CompileCriterion(CriterionSpec{Condition: "$statusCode == 200", Type: string(Simple)}); len(errs) != 0 {
		t.Errorf("type: simple needs no context, got %v", errs)
	}
}

func TestObservedSaysWhatACriterionLookedAt(t *testing.T) {
	ctx := jsonCtx(t, `{"Job":{"Status":"FAILED","Tags":["a"]}}`)
	ctx.status = 200
	for _, tc := range []struct {
		spec CriterionSpec
		want string
	}{
		{CriterionSpec{Condition: "$statusCode == 201"}, "$statusCode = 200"},
		{CriterionSpec{Context: "$response.body", Type: "jsonpath", Condition: `$.Job.Status == "IN_PROGRESS" || $.Job.Status == "SUBMITTED"`}, `$.Job.Status = "FAILED"`},
		{CriterionSpec{Context: "$response.body", Type: "jsonpath", Condition: `$.Job.Missing == "x"`}, `$.Job.Missing = undefined`},
		{CriterionSpec{Context: "$response.body#/Job/Status", Type: "regex", Condition: `^DONE$`}, `$response.body#/Job/Status = "FAILED"`},
	} {
		c, errs := CompileCriterion(tc.spec)
		if len(errs) > 0 {
			t.Fatalf("%+v: %v", tc.spec, errs)
		}
		if got := c.Observed(ctx); got != tc.want {
			t.Errorf("Observed(%q) = %q, want %q", tc.spec.Condition, got, tc.want)
		}
	}
}
