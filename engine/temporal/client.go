package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/arazzo-go/arazzo/engine"
)

// NewInput makes the Input of a run of workflowID in plan (loaded from
// document, whose engine.DocumentHash is hash): the secret inputs
// encrypted under key (Key), the others (client tokens among them, which
// must be the same when a request is sent again) as JSON. A run with
// secret inputs and no key is refused: they would be in the history.
func NewInput(document, hash string, plan *engine.Plan, workflowID string, inputs map[string]any, key []byte) (Input, error) {
	in := Input{Document: document, Hash: hash, WorkflowID: workflowID}
	w := plan.Workflow(workflowID)
	if w == nil {
		return in, fmt.Errorf("%w %q", engine.ErrUnknownWorkflow, workflowID)
	}
	plain, secret := map[string]any{}, map[string]any{}
	for k, v := range inputs {
		if w.SecretInput(k) && !engine.ClientTokenName(k) { // a client token is recorded, as by --state
			secret[k] = v
		} else {
			plain[k] = v
		}
	}
	var err error
	if in.Secrets, err = Seal(key, secret); err != nil {
		return in, err
	}
	if in.Inputs, err = json.Marshal(plain); err != nil {
		return in, err
	}
	return in, nil
}

// CheckSettings refuses settings that would put a secret in the history in
// the clear: inputs given for other workflows (Settings.WorkflowInputs)
// travel as they are, so none of them may be a secret input of its
// workflow.
func CheckSettings(plan *engine.Plan, s Settings) error {
	for _, id := range slices.Sorted(mapsKeys(s.WorkflowInputs)) { // the first in order, every time
		w := plan.Workflow(id)
		if w == nil {
			continue
		}
		for _, name := range slices.Sorted(mapsKeys(s.WorkflowInputs[id])) {
			if w.SecretInput(name) && !engine.ClientTokenName(name) {
				return fmt.Errorf("input %s of workflow %s is secret: inputs for workflows other than the one run are not encrypted on Temporal, so they would be recorded in its history; run %s on its own, or without --temporal-address", name, id, id)
			}
		}
	}
	return nil
}

// RefusedError is a run the worker refused before sending anything: the
// document changed, invalid inputs, an unknown workflow.
type RefusedError struct{ Message string }

func (e *RefusedError) Error() string { return e.Message }

// Follow waits for the run of workflow execution id to end, handing its
// events to observers as they come (polling EventsQuery every interval),
// and returns its result as Plan.Run would: a failed run's *RunError is
// also in the result; a refused run returns a *RefusedError and no
// result. When ctx ends first, the execution is cancelled (its result
// then says so, as a local run interrupted does), (run without following to
// detach).
func Follow(ctx context.Context, c client.Client, id string, every time.Duration, observers []engine.Observer) (*engine.Result, error) {
	type outcome struct {
		res engine.Result
		err error
	}
	done := make(chan outcome, 1)
	// The result is awaited on a context of its own: after an interrupt
	// the cancelled run's result is still wanted.
	wait, stopWait := context.WithCancel(context.Background())
	defer stopWait()
	go func() {
		var o outcome
		o.err = c.GetWorkflow(wait, id, "").Get(wait, &o.res)
		done <- o
	}()
	next := 0
	poll := func(ctx context.Context) {
		// A query waits for a worker to answer it: not for long, so that
		// the run's end and an interrupt are seen at once.
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		v, err := c.QueryWorkflow(ctx, id, "", EventsQuery, next)
		if err != nil {
			return // not started on a worker yet, or no worker: try again
		}
		var evs Events
		if v.Get(&evs) != nil {
			return
		}
		for _, e := range evs.Events {
			for _, o := range observers {
				o.OnEvent(e)
			}
		}
		next = evs.Next
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	interrupted := false
	var gone <-chan time.Time // after a cancel: how long to wait for the end
	for {
		select {
		case <-gone:
			return nil, fmt.Errorf("cancelled the Temporal workflow %s, which has not ended yet (no worker has taken it up?); it ends when one does: %w", id, context.Canceled)
		case o := <-done:
			// The last events: a query of a closed run replays it on a worker.
			drain, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			poll(drain)
			cancel()
			res, err := resultOf(&o.res, o.err)
			if interrupted && res != nil && res.Error != nil {
				res.Error.Err = context.Canceled
			}
			return res, err
		case <-tick.C:
			poll(ctx)
		case <-ctx.Done():
			if !interrupted {
				interrupted = true
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.CancelWorkflow(cctx, id, "")
				cancel()
				if err != nil {
					return nil, fmt.Errorf("cancelling the Temporal workflow %s: %v", id, err)
				}
				gone = time.After(CancelWait)
			}
			ctx = context.Background() // go on following until it has ended
		}
	}
}

// CancelWait is how long Follow waits, after cancelling a run, for it to
// end with its result.
var CancelWait = 10 * time.Second

// resultOf turns the execution's outcome into what Plan.Run returns.
func resultOf(res *engine.Result, err error) (*engine.Result, error) {
	if err == nil {
		return res, nil
	}
	var ae *temporal.ApplicationError
	var ce *temporal.CanceledError
	var te *temporal.TimeoutError
	var r engine.Result
	switch {
	case errors.As(err, &ae) && ae.Type() == ErrTypeFailed:
		var cause string
		if ae.Details(&r, &cause) != nil {
			return nil, err
		}
		if r.Error != nil {
			r.Error.Err = causes[cause]
		}
		return &r, errOf(&r)
	case errors.As(err, &ae) && ae.Type() == ErrTypeRefused:
		return nil, &RefusedError{Message: ae.Message()}
	case errors.As(err, &ce):
		if ce.HasDetails() && ce.Details(&r) == nil {
			if r.Error != nil {
				r.Error.Err = context.Canceled
			}
			return &r, errOf(&r)
		}
		return nil, fmt.Errorf("the Temporal workflow was cancelled: %w", context.Canceled)
	case errors.As(err, &te):
		return nil, fmt.Errorf("the Temporal workflow timed out (%v): %w", te.TimeoutType(), context.DeadlineExceeded)
	}
	return nil, err
}

func errOf(r *engine.Result) error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}
