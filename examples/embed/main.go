// Command embed shows the engine used as a library: load the HealthLake
// export workflow once, then run it several times concurrently against the
// in-process emulator, observing every step.
//
//	go run ./examples/embed
package main

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/sigv4"
	"github.com/arazzo-go/arazzo/engine/protocol/awsjson"
	"github.com/arazzo-go/arazzo/engine/source"
	"github.com/arazzo-go/arazzo/examples/emulators/healthlake"
)

func main() {
	ctx := context.Background()
	emu := healthlake.NewVerifying(healthlake.Config{})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	// Parse and compile once.
	// The description says its calls are AWS JSON 1.0: the awsjson
	// protocol reads its errors and sends its Content-Type.
	plan, diags := engine.LoadFile(ctx, "workflows/amazon-healthlake-export.arazzo.yaml", &source.Loader{},
		engine.WithProtocols(awsjson.Detect))
	if plan == nil {
		log.Fatal(diags.Error())
	}

	var mu sync.Mutex
	opts := &engine.Options{
		Servers:      map[string]string{"healthlakeApi": srv.URL},
		PollInterval: -1, // the emulator's jobs advance on each poll
		Observers: []engine.Observer{engine.ObserverFunc(func(e engine.Event) {
			if e.Kind == engine.StepFinished {
				mu.Lock()
				fmt.Printf("  %-16s visit %d: %s\n", e.StepID, e.Visit, e.Status)
				mu.Unlock()
			}
		})},
	}
	// SigV4 is one auth middleware: it signs the sources whose
	// descriptions say so and leaves the others alone.
	opts.Middleware = []engine.Middleware{sigv4.New(sigv4.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: healthlake.TestAccessKeyID, SecretAccessKey: healthlake.TestSecretAccessKey}, nil
	})})}

	// Run many times, concurrently: each run has its own state.
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := plan.Run(ctx, "start-export-poll-and-list", map[string]any{
				"DatastoreId":       emu.DatastoreID(),
				"OutputS3Uri":       "s3://example-bucket/export/",
				"OutputKmsKeyId":    "alias/export",
				"DataAccessRoleArn": "arn:aws:iam::123456789012:role/Export",
				"ClientToken":       fmt.Sprintf("embed-%d", i),
			}, opts)
			if err != nil {
				log.Fatal(err)
			}
			mu.Lock()
			fmt.Printf("run %d: %s, job %v is %v\n", i, res.Status, res.Outputs["jobId"], res.Outputs["jobStatus"])
			mu.Unlock()
		}(i)
	}
	wg.Wait()
}
