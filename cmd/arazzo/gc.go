package main

import (
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/arazzo-go/arazzo/cmd/arazzo/internal/gcstart"
	"github.com/arazzo-go/arazzo/engine/schema"
)

// The collector's pacing, unless GOGC says what the user wants.
//
// Start-up (the package initialisers, reading the documents, compiling the
// Arazzo schema and the OpenAPI descriptions) allocates about 7 MB, most of
// it garbage, in the first few milliseconds: at the default GOGC the
// collector ran twice during it, a third of a cold start on two busy cores.
// At 200 the minimum heap is 8 MB instead of 4, so a small document starts
// with no collection at all.
//
// The runs then keep about 1.3 MB live (the JSON Schema library's
// meta-schemas, the AWS SDK's tables, the plan), where a Go program
// making the same calls by hand keeps 0.2 MB: under the default 4 MB
// minimum that left 2.7 MB between collections instead of 3.8, so a poll
// loop collected twice as often as the raw loop (87 against 45 times in
// 20 000 polls), each collection costing the same few milliseconds of
// CPU. At 150 the minimum is 6 MB: as many collections as the raw loop,
// for 1.7 MB more at peak; a large live heap gets 2.5 times its size
// instead of 2.
//
// The start-up pacing is set by package gcstart's initialiser, before the
// libraries' own (which allocate about 4 MB); relaxStartup sets it again
// for the record and arranges the runs' pacing.
const (
	startupGCPercent = gcstart.Percent
	runGCPercent     = 150
)

// startupOver is called once the documents are loaded, before the first
// run; a no-op until main sets it (tests running the CLI in-process leave
// it alone).
var startupOver = func() {}

// relaxStartup sets the start-up pacing and returns what ends the
// start-up: the pacing of the runs, and the compiled Arazzo schema dropped,
// as nothing validates a document once the runs start and every
// collection would walk it.
func relaxStartup(getenv func(string) string) func() {
	tune := getenv("GOGC") == ""
	if tune {
		debug.SetGCPercent(startupGCPercent)
	}
	return sync.OnceFunc(func() {
		if tune {
			// The runs' pace starts after their first collection: setting
			// it now would collect at once (start-up leaves the heap at
			// about 7 MB, over the 6 MB goal) and a short run would pay a
			// collection it does not need; a long one collects once at
			// start-up's 8 MB, then at the runs' pace.
			runtime.AddCleanup(new(gcSentinel), func(int) { debug.SetGCPercent(runGCPercent) }, 0)
		}
		schema.Release()
	})
}

// gcSentinel is unreachable once allocated: its cleanup runs after the next
// collection. It holds pointers so that it is not a tiny allocation, which
// may share its block with live objects and never be collected.
type gcSentinel struct{ _ [2]*byte }
