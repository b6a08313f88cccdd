package engine

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/arazzo-go/arazzo/engine/source"
)

const seedFile = "../workflows/amazon-healthlake-export.arazzo.yaml"

func pollWarnings(t *testing.T, data []byte) []string {
	t.Helper()
	plan, diags := LoadBytes(context.Background(), seedFile, data, &source.Loader{})
	if plan == nil || diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var out []string
	for _, d := range diags {
		if d.Rule == "poll-enum-coverage" {
			out = append(out, d.String())
		}
	}
	return out
}

// The seed loops on SUBMITTED and IN_PROGRESS and leaves on COMPLETED: the
// other seven JobStatus values fall through to the list step as success.
func TestPollCoverageNamesTheValuesThatFallThrough(t *testing.T) {
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	w := pollWarnings(t, seed)
	if len(w) != 1 || !strings.Contains(w[0], ":104:11: warning:") ||
		!strings.Contains(w[0], "QUEUED, COMPLETED_WITH_ERRORS, FAILED, CANCEL_SUBMITTED, CANCEL_IN_PROGRESS, CANCEL_COMPLETED, CANCEL_FAILED match no action") {
		t.Fatalf("warnings %q", w)
	}

	// Ending on the failures and polling on the rest covers the enum.
	more := ""
	for _, v := range []string{"QUEUED", "CANCEL_SUBMITTED", "CANCEL_IN_PROGRESS"} {
		more += "\n          - {name: wait" + v + ", type: goto, stepId: pollExportJob, criteria: [{context: $response.body, condition: '$.ExportJobProperties.JobStatus == \"" + v + "\"', type: jsonpath}]}"
	}
	for _, v := range []string{"COMPLETED_WITH_ERRORS", "FAILED", "CANCEL_COMPLETED", "CANCEL_FAILED"} {
		// The simple form reads the member with a JSON pointer.
		more += "\n          - {name: stop" + v + ", type: end, criteria: [{condition: \"$response.body#/ExportJobProperties/JobStatus == '" + v + "'\"}]}"
	}
	covered := strings.Replace(string(seed), "        onSuccess:\n", "        onSuccess:"+more+"\n", 1)
	if w := pollWarnings(t, []byte(covered)); len(w) != 0 {
		t.Fatalf("every value handled, yet: %q", w)
	}
	// A criterion on another member is no status test; nothing to say
	// when the loop's member has no enum.
	other := strings.ReplaceAll(string(seed), "$.ExportJobProperties.JobStatus", "$.ExportJobProperties.JobName")
	if w := pollWarnings(t, []byte(other)); len(w) != 0 {
		t.Fatalf("JobName has no enum: %q", w)
	}
}
