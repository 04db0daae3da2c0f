//go:build race

package main

// raceEnabled reports a -race build, whose timings mean little.
const raceEnabled = true
