package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

// The seed, signed with SigV4 in the activity against the emulator that
// verifies every signature: the export is started once and polled to
// completion, and neither the secret key nor any signature it received
// is in the history.
func TestSeedSigV4NotInHistory(t *testing.T) {
	emu := healthlake.NewVerifying(healthlake.Config{})
	var mu sync.Mutex
	var signatures []string
	starts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if m := regexp.MustCompile(`Signature=([0-9a-f]{64})`).FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			signatures = append(signatures, m[1])
		}
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".StartFHIRExportJob") {
			starts++
		}
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	seed := filepath.Join("..", "..", "workflows", "amazon-healthlake-export.arazzo.yaml")
	signer := sigv4.New(sigv4.Config{Region: emu.Region(), MaxAttempts: 1, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey}, nil
	})})
	w := &Worker{
		Load: func(ctx context.Context, doc string) (*engine.Plan, string, error) {
			plan, diags := engine.LoadFile(ctx, doc, &source.Loader{}, engine.WithProtocols(awsjson.Detect))
			if plan == nil {
				return nil, "", errors.New(diags.Error())
			}
			hash, err := engine.DocumentHash(doc, plan)
			return plan, hash, err
		},
		Options: func(plan *engine.Plan) (*engine.Options, error) {
			servers := map[string]string{}
			for name := range sigv4.Sources(plan) {
				servers[name] = srv.URL
			}
			return &engine.Options{Middleware: []engine.Middleware{signer}, Servers: servers, Secrets: []string{healthlake.TestSecretAccessKey}}, nil
		},
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "healthlake-export.inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var inputs map[string]any
	if err := json.Unmarshal(data, &inputs); err != nil {
		t.Fatal(err)
	}
	inputs["DatastoreId"] = emu.DatastoreID()
	plan, hash, err := w.Load(context.Background(), seed)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(seed, hash, plan, plan.Workflows[0].ID, inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.Settings.PollInterval = time.Second
	h := newHarness(t, w)
	res, err := h.run(t, in)
	if err != nil || res.Status != engine.Succeeded {
		t.Fatalf("the seed on Temporal: %v", err)
	}
	if starts != 1 {
		t.Errorf("%d export jobs started, want 1", starts)
	}
	history := h.rec.all()
	if len(signatures) < 3 || !strings.Contains(history, "StartFHIRExportJob") {
		t.Fatalf("%d signed requests; the check would prove nothing", len(signatures))
	}
	for _, secret := range append(signatures, healthlake.TestSecretAccessKey, "AWS4-HMAC-SHA256") {
		if strings.Contains(history, secret) {
			t.Errorf("%q is in the history", secret)
		}
	}
}
