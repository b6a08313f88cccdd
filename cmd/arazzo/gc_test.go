package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gogc reads the GC percent without changing it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func TestRelaxStartup(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	over := relaxStartup(func(string) string { return "" })
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Fatalf("start-up GC percent %d, want %d", got, startupGCPercent)
	}
	over()
	if got := gogc(); got != startupGCPercent {
		t.Fatalf("before the runs' first collection the GC percent is %d, want still %d", got, startupGCPercent)
	}
	runtime.GC()
	for deadline := time.Now().Add(5 * time.Second); gogc() != runGCPercent; {
		if time.Now().After(deadline) {
			t.Fatalf("after the runs' first collection the GC percent is %d, want %d", gogc(), runGCPercent)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
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
