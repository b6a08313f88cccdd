// Package gcstart sets the collector's start-up pacing before the package
// initialisers that allocate most of a start run (the JSON Schema
// library compiling every draft's meta-schema, the AWS SDK's tables, the
// embedded brokers': about 4 MB, enough for a collection or two at the
// default pacing, a fifth of a cold start's CPU).
//
// Go initialises packages in the order of their import paths, each as
// soon as its own imports are (the language specification, "Package
// initialization"): this package imports only the runtime and os, and
// "github.com/arazzo-go/…" sorts before those libraries, so its init runs
// before theirs. cmd/arazzo's gc.go takes the pacing from there.
package gcstart

import (
	"os"
	"runtime/debug"
)

// Percent is the GOGC of the start-up: at 200 the minimum heap is 8 MB
// instead of 4, so a cold start collects never.
const Percent = 200

// Set says whether the start-up pacing was set (no GOGC in the
// environment: a GOGC the user chose wins throughout).
var Set bool

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
		Set = true
	}
}
