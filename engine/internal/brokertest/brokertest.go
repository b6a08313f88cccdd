// Package brokertest holds documents and helpers that tests of several
// packages use against brokers.
package brokertest

import (
	"context"
	"testing"

	"github.com/arazzo-go/arazzo/engine"
	"github.com/arazzo-go/arazzo/engine/auth/security"
)

// SecuredSend returns the files of a one-step workflow (a.arazzo.yaml,
// workflow w, step send) that sends to an AsyncAPI source (events) on
// host whose server requires security scheme name of type typ. The step
// sends the given headers (name: value, as YAML flow pairs) when not
// empty.
func SecuredSend(host, protocol, name, typ, headers string) map[string]string {
	params := ""
	if headers != "" {
		params = "        parameters: [" + headers + "]\n"
	}
	return map[string]string{
		"events.asyncapi.yaml": `asyncapi: 3.0.0
info: {title: events, version: '1'}
servers:
  prod:
    host: ` + host + `
    protocol: ` + protocol + `
    security: [{$ref: '#/components/securitySchemes/` + name + `'}]
channels:
  audit: {address: audit}
operations:
  record: {action: receive, channel: {$ref: '#/channels/audit'}}
components:
  securitySchemes:
    ` + name + `: {type: ` + typ + `}
`,
		"a.arazzo.yaml": `arazzo: 1.1.0
info: {title: a, version: '1'}
sourceDescriptions:
  - {name: events, url: ./events.asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: w
    steps:
      - stepId: send
        operationId: record
        action: send
` + params + `        requestBody: {payload: {what: login}}
`,
	}
}

// RunWithAuth runs workflow w of plan with --auth flags (SOURCE.SCHEME=
// VALUE) through the security middleware, as the CLI gives them. Flags
// that do not parse or check are the test's failure.
func RunWithAuth(t testing.TB, plan *engine.Plan, flags ...string) error {
	t.Helper()
	var layers []security.Layer
	if len(flags) > 0 {
		v, err := security.ParseFlags(flags)
		if err != nil {
			t.Fatal(err)
		}
		if v, err = security.Check(v, "--auth", security.PlanSchemes(plan)); err != nil {
			t.Fatal(err)
		}
		layers = append(layers, v.Layer("--auth"))
	}
	_, err := plan.Run(context.Background(), "w", nil, &engine.Options{Middleware: []engine.Middleware{security.New(security.Config{Layers: layers})}})
	return err
}
