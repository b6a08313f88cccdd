package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arazzo-go/arazzo/engine"
)

// newCompanionCmd is `arazzo emulate NAME`, served by the companion
// program with the same arguments (flags and --help included).
func newCompanionCmd(h host, name, short string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              short + " (runs arazzo-emulate)",
		DisableFlagParsing: true, // the companion parses them, --help included
		RunE: func(cmd *cobra.Command, args []string) error {
			path, cleanup, err := newCompanionFinder(h, cmd.ErrOrStderr()).find(cmd.Context())
			defer cleanup()
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("emulate %s: %v", name, err))
			}
			if code := runCompanion(cmd.Context(), path, append([]string{name}, args...), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != exitOK {
				return withCode(code, nil) // the companion has said why
			}
			return nil
		},
	}
}

// petstoreArgs start the companion for `run --emulate petstore`.
var petstoreArgs = []string{"kafka", "--addr", "127.0.0.1:0", "--petstore", "127.0.0.1:0", "--json"}

// emulatePetstore, for `run --emulate petstore`, runs the pet purchase
// example's APIs (a Kafka broker with the order service, the HTTP pet
// store) in the companion program and points the document's sources at
// them: every AsyncAPI source to the broker, every OpenAPI source to the
// store. The returned function stops the companion.
func emulatePetstore(ctx context.Context, finder *companionFinder, plan *engine.Plan, opts *engine.Options, emulate string, note func(string)) (func(), error) {
	if emulate != "petstore" {
		return func() {}, nil
	}
	path, cleanup, err := finder.find(ctx)
	if err != nil {
		return cleanup, fmt.Errorf("--emulate petstore: %v", err)
	}
	child, line, err := startCompanion(ctx, path, petstoreArgs)
	if err != nil {
		return cleanup, fmt.Errorf("--emulate petstore: the pet purchase example's broker did not start: %v", err)
	}
	stop := func() { child.stop(); cleanup() }
	var urls struct{ Broker, Petstore string }
	if err := json.Unmarshal([]byte(line), &urls); err != nil || !strings.HasPrefix(urls.Broker, "kafka://") || urls.Petstore == "" {
		return stop, fmt.Errorf("--emulate petstore: %s printed %q, not its broker and pet store URLs: is it the same version as this arazzo?", path, line)
	}
	broker := strings.TrimPrefix(urls.Broker, "kafka://")
	var names []string
	for _, ref := range plan.Sources() {
		if _, set := opts.Servers[ref.Name]; set || ref.Source == nil {
			continue
		}
		switch {
		case ref.Source.Async != nil:
			opts.Servers[ref.Name] = urls.Broker
		case ref.Source.OpenAPI != nil:
			opts.Servers[ref.Name] = urls.Petstore
		default:
			continue
		}
		names = append(names, ref.Name)
	}
	note(fmt.Sprintf("emulating the pet purchase example: Kafka at %s, pet store at %s (sources %s)", broker, urls.Petstore, strings.Join(names, ", ")))
	return stop, nil
}
