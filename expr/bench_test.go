package expr

import "testing"

const exportBody = `{"ExportJobProperties":{"JobId":"0123456789abcdef0123456789abcdef","JobName":"nightly","JobStatus":"IN_PROGRESS","SubmitTime":1795655505.331,"DatastoreId":"4f8a2d1c9e7b4a6f8d3c2b1a0e9f8d7c","OutputDataConfig":{"S3Configuration":{"S3Uri":"s3://b/o","KmsKeyId":"k"}},"DataAccessRoleArn":"arn:aws:iam::123456789012:role/r"}}`

// The seed's jsonpath criterion, parsed once, evaluated against a parsed body.
func BenchmarkSeedJSONPathCriterion(b *testing.B) {
	c, errs := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: `$.ExportJobProperties.JobStatus == "COMPLETED"`, Type: string(JSONPath)})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	ctx := testContext(b, exportBody)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if pass, err := c.Eval(ctx); pass || err != nil {
			b.Fatal(pass, err)
		}
	}
}

func BenchmarkRFC9535Criterion(b *testing.B) {
	c, _ := CompileCriterion(CriterionSpec{Context: "$response.body", Condition: `$[?@.JobStatus == 'IN_PROGRESS']`, Type: string(JSONPath)})
	ctx := testContext(b, exportBody)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if pass, err := c.Eval(ctx); !pass || err != nil {
			b.Fatal(pass, err)
		}
	}
}

func BenchmarkPointerExpression(b *testing.B) {
	e, err := Parse("$response.body#/ExportJobProperties/OutputDataConfig/S3Configuration/S3Uri")
	if err != nil {
		b.Fatal(err)
	}
	ctx := testContext(b, exportBody)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if v, ok := e.Eval(ctx); !ok || v != "s3://b/o" {
			b.Fatal(v)
		}
	}
}

func BenchmarkSimpleCondition(b *testing.B) {
	c, _ := CompileCriterion(CriterionSpec{Condition: "$statusCode == 200 && $response.body#/ExportJobProperties/JobStatus != 'FAILED'"})
	ctx := testContext(b, exportBody)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if pass, _ := c.Eval(ctx); !pass {
			b.Fatal("should pass")
		}
	}
}
