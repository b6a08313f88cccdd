// Package brokertest holds documents that tests of several packages run
// against brokers.
package brokertest

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
