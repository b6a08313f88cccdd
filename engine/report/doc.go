// Package report renders what the engine produces for people and for
// tools. Every writer takes an io.Writer and holds no global state, so a
// program that embeds the engine writes the same reports as the arazzo
// command.
//
// Two kinds of writer exist, by what they read:
//
//   - Observers read the event stream of a run as it happens. Put them in
//     engine.Options.Observers:
//     TextLog, the human log, one line per event (NewTextLog; verbose adds
//     headers and bodies);
//     JSONLines, one JSON object per event per line, for log pipelines and
//     tools (NewJSONLines; the schema is JSONEvent);
//     HAR, a HAR 1.2 trace of every HTTP exchange, for browser dev tools
//     and HAR viewers (NewHAR; call Close when the run is over).
//
//   - Functions render something finished:
//     WriteResult and WriteSummary, the text result of one run and the
//     table of several;
//     WriteDryRun, the requests a dry run would send;
//     WriteJUnit, JUnit XML over RunRecords, for CI test reports;
//     WriteSARIF and WriteGitHubAnnotations, the diagnostics of
//     engine.LoadFile (package diag) for code scanning and for annotations
//     in GitHub Actions.
//
// Observers are called on the goroutine that runs the workflow; each writer
// here takes a lock per event, so one writer may serve several runs at once
// without tearing a line, although their lines then interleave. Write
// errors are remembered: an observer stops writing after the first and
// reports it from Err (or Close, for HAR).
//
// Events reach observers already redacted (credentials in headers, secret
// inputs), so nothing here masks anything again.
package report
