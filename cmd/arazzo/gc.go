package main

import (
	"runtime/debug"
	"sync"
)

// Start-up (the package initialisers, reading the documents, compiling the
// Arazzo schema and the OpenAPI descriptions) allocates about 7 MB, most of
// it garbage, in the first few milliseconds: at the default GOGC the
// collector runs twice during it, a third of a cold start on two busy cores.
// Until the first workflow starts, the collector waits for the heap to
// triple instead of double, which lifts the 4 MB minimum heap to 8 MB, so a
// small document starts with no collection at all; large descriptions
// still get collected, at 3x their live heap instead of 2x. The runs then
// pace at the usual rate, so a long poll holds no more memory than before.
const startupGCPercent = 200

// steadyGC restores the collector's pacing for the runs; a no-op until
// relaxGC is called (tests running the CLI in-process leave it alone).
var steadyGC = func() {}

// relaxGC sets the start-up pacing, unless GOGC says what the user wants.
func relaxGC(getenv func(string) string) {
	if getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(startupGCPercent)
	steadyGC = sync.OnceFunc(func() { debug.SetGCPercent(prev) })
}
