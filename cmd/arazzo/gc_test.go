package main

import (
	"runtime/debug"
	"testing"
)

func TestRelaxStartup(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	over := relaxStartup(func(string) string { return "" })
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Fatalf("start-up GC percent %d, want %d", got, startupGCPercent)
	}
	over()
	if got := debug.SetGCPercent(100); got != runGCPercent {
		t.Fatalf("after the start-up the GC percent is %d, want %d", got, runGCPercent)
	}

	// A GOGC the user set is left alone, before and after.
	debug.SetGCPercent(50)
	over = relaxStartup(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(50); got != 50 {
		t.Fatalf("with GOGC set the GC percent is %d, want 50", got)
	}
	over()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Fatalf("with GOGC set, after the start-up the GC percent is %d, want 50", got)
	}
}
