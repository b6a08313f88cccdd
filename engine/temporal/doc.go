// Package temporal runs Arazzo workflows on Temporal (go.temporal.io): a
// Temporal workflow interprets a compiled plan with the engine's own
// state machine, and every HTTP request is an activity.
//
// Inside the workflow (Worker.Run) the engine runs with the workflow's
// clock (Options.Now = workflow.Now), durable timers for its waits
// (Options.Sleep = workflow.Sleep) and a Caller whose every request is an
// activity (Worker.Send). The activity runs on a worker and applies the
// worker's middleware there, at send time: credentials and signatures
// never enter workflow code, so none lands in the workflow's history.
// Secret inputs travel encrypted (Seal, Key) and are replaced by
// placeholders in what activities are given and return.
//
// What the state machine decides (success criteria, retry actions with
// their retryAfter and retryLimit, gotos, polls) stays in the workflow; a
// request that got no response is retried by Temporal (see transportFailure
// for which), and a response of any status is the activity's result.
//
// A run continues as new (ContinueAsNew) from its engine.RunState, the
// state Plan.Resume continues, once it has run Worker.MaxActions
// activities and timers or the server suggests it, so a poll of hours
// keeps its history bounded. Events go to the EventsQuery query, which
// a submitter polls to follow the run. Plans with AsyncAPI sources are
// refused: their receives wait in goroutines on broker connections, which
// do not replay.
//
// Nothing here runs at package initialisation; package engine does not
// import this one (a test checks), so programs that do not run on
// Temporal do not link its SDK.
package temporal
