//go:build race

package main

// raceEnabled: the race detector slows every process a test starts.
const raceEnabled = true
