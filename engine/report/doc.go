// Package report renders what the engine produces, for people and for
// tools. Every writer takes an io.Writer and holds no global state, so a
// program that embeds the engine writes the same reports as the arazzo
// command.
//
// Observers read the events of a run as they happen; put them in
// engine.Options.Observers:
//
//   - TextLog (NewTextLog): the human log, one line per event; verbose adds
//     headers, bodies and criteria.
//   - JSONLines (NewJSONLines): one JSON object per event per line, for log
//     pipelines and tools; JSONEvent is its schema.
//   - HAR (NewHAR): a HAR 1.2 trace of every HTTP exchange, for browser
//     developer tools and HAR viewers; Close it when the runs are over.
//
// Functions render something finished:
//
//   - WriteResult and WriteSummary: the text result of a run, and the table
//     of several runs.
//   - WriteDryRun: the requests engine.Plan.DryRun lays out.
//   - WriteJUnit: JUnit XML over RunRecords, for CI test reports.
//   - WriteSARIF and WriteGitHubAnnotations: the diagnostics of
//     engine.LoadFile, for code scanning and for annotations in GitHub
//     Actions.
//
// A typical embedder:
//
//	har := report.NewHAR(traceFile, report.Tool{Name: "myapp", Version: "1.0"})
//	res, err := plan.Run(ctx, "checkout", inputs, &engine.Options{
//		Observers: []engine.Observer{report.NewTextLog(os.Stderr, false), har},
//	})
//	traceErr := har.Close() // ends the trace whatever became of the run
//	if res == nil {
//		return err // invalid inputs: nothing ran
//	}
//	report.WriteResult(os.Stdout, res, true)
//
// Observers are called on the goroutine that runs the workflow. Each writer
// here takes a lock per event, so one writer may serve several runs at
// once without tearing a line, although their lines then interleave (a HAR
// pairs a response with its request by workflow, step and attempt, so its
// concurrent runs must be of different workflows). Write
// errors are kept: an observer stops writing after the first and reports
// it from Err (or Close, for HAR).
//
// Events reach observers already redacted (credentials in headers, secret
// inputs), so nothing here masks anything again.
package report
