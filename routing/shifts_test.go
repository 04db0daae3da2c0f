package routing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/schedules"
)

// TestStepShifts: each step of a chain gets its own stretches, a step of
// two rotations the one whose window is open, an override the time it
// covers (named after its rotation), a daily rotation of one member a
// single stretch, and a fixed engineer the whole span.
func TestStepShifts(t *testing.T) {
	cfg := parseChainConfig(t)
	at := func(h int) time.Time { return time.Date(2026, 11, 24, h, 0, 0, 0, time.UTC) }
	idx := schedules.NewOverrideIndex([]schedules.Override{{ID: 1, Rotation: "amer", Engineer: "erin", From: at(17), To: at(19)}})
	got, err := StepShifts(cfg, idx, "ops", at(5), at(29))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range got {
		lines = append(lines, fmt.Sprintf("%d %s %s %s %s–%s", s.Step, s.Rotation, s.Engineer, s.Source,
			s.From.UTC().Format("2T15"), s.To.UTC().Format("2T15")))
	}
	want := []string{
		"1 emea alice rotation:emea 24T08–24T16",
		"1 amer carol rotation:amer 24T16–24T17",
		"1 amer erin override:1 24T17–24T19",
		"1 amer carol rotation:amer 24T19–25T01",
		"2 secondary carol rotation:secondary 24T05–25T05",
		"3  dana engineer 24T05–25T05",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("StepShifts:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if _, err := StepShifts(cfg, idx, "nope", at(5), at(29)); err == nil {
		t.Errorf("an unknown team gave no error")
	}
}
