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

// petstoreStarts starts the companions of `run --emulate petstore`, one
// per document; the first may be started early, before the documents are
// loaded, so that the two overlap.
type petstoreStarts struct {
	finder *companionFinder
	early  *petstoreStart // nil once taken, or when none was started early
}

// petstoreStart is one companion's start: the companion and its JSON
// line, or why it did not start; cleanup removes a temporary build.
type petstoreStart struct {
	done    chan struct{}
	path    string
	child   *companionChild
	line    string
	cleanup func()
	err     error
	cancel  context.CancelFunc // ends a start under way (a go build, the wait for readiness)
}

func newPetstoreStarts(f *companionFinder, early bool) *petstoreStarts {
	p := &petstoreStarts{finder: f}
	if early {
		p.early = p.start(context.Background())
	}
	return p
}

// start finds and starts a companion in the background.
func (p *petstoreStarts) start(ctx context.Context) *petstoreStart {
	ctx, cancel := context.WithCancel(ctx)
	s := &petstoreStart{done: make(chan struct{}), cleanup: func() {}, cancel: cancel}
	go func() {
		defer close(s.done)
		if s.path, s.cleanup, s.err = p.finder.find(ctx); s.err == nil {
			s.child, s.line, s.err = startCompanion(ctx, s.path, petstoreArgs)
		}
	}()
	return s
}

// next is the next document's companion: the early one if it is still
// there, else a new one. The caller owns it.
func (p *petstoreStarts) next(ctx context.Context) *petstoreStart {
	s := p.early
	if s == nil {
		s = p.start(ctx)
	}
	p.early = nil
	select {
	case <-s.done:
	case <-ctx.Done():
		// Ctrl-C while it starts: the run is over, the child is stopped.
		go func() { <-s.done; s.stop() }()
		s.cancel()
		return &petstoreStart{cleanup: func() {}, cancel: func() {}, err: context.Cause(ctx)}
	}
	return s
}

// stopUnused stops the early companion if no document took it (the
// documents failed to load, or none needed it).
func (p *petstoreStarts) stopUnused() {
	if s := p.early; s != nil {
		p.early = nil
		s.cancel()
		<-s.done
		s.stop()
	}
}

func (s *petstoreStart) stop() {
	s.cancel()
	if s.child != nil {
		s.child.stop()
	}
	s.cleanup()
}

// emulatePetstore, for `run --emulate petstore`, runs the pet purchase
// example's APIs (a Kafka broker with the order service, the HTTP pet
// store) in the companion program and points the document's sources at
// them: every AsyncAPI source to the broker, every OpenAPI source to the
// store. The returned function stops the companion.
func emulatePetstore(ctx context.Context, starts *petstoreStarts, plan *engine.Plan, opts *engine.Options, emulate string, note func(string)) (func(), error) {
	if emulate != "petstore" {
		return func() {}, nil
	}
	s := starts.next(ctx)
	switch {
	case s.err != nil && s.path == "":
		return s.stop, fmt.Errorf("--emulate petstore: %v", s.err)
	case s.err != nil:
		return s.stop, fmt.Errorf("--emulate petstore: the pet purchase example's broker did not start: %v", s.err)
	}
	stop, line, path := s.stop, s.line, s.path
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
