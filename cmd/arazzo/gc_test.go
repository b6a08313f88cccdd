package main

import (
	"runtime/debug"
	"testing"
)

func TestRelaxGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig); steadyGC = func() {} })

	relaxGC(func(string) string { return "" })
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Fatalf("start-up GC percent %d, want %d", got, startupGCPercent)
	}
	steadyGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after steadyGC the GC percent is %d, want the 100 it was", got)
	}

	// A GOGC the user set is left alone.
	debug.SetGCPercent(50)
	steadyGC = func() {}
	relaxGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(50); got != 50 {
		t.Fatalf("with GOGC set the GC percent is %d, want 50", got)
	}
}
