package schedules

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	valid := func() *Rotation {
		return &Rotation{
			ID: "ops", Members: []string{"a", "b"}, Kind: Weekly, HandoffDay: time.Monday,
			HandoffMinute: 9 * 60, Start: Date{2026, time.November, 2}, Location: time.UTC,
		}
	}
	tests := []struct {
		name   string
		change func(r *Rotation)
		want   string // a fragment of the error; "" for valid
	}{
		{"valid weekly", func(r *Rotation) {}, ""},
		{"valid daily", func(r *Rotation) { r.Kind = Daily; r.Start.Day = 3 }, ""},
		{"valid every", func(r *Rotation) { r.Kind, r.Every = Every, 36*time.Hour }, ""},
		{"no members", func(r *Rotation) { r.Members = nil }, "no members"},
		{"empty member", func(r *Rotation) { r.Members = []string{"a", ""} }, "member 2 is empty"},
		{"no id", func(r *Rotation) { r.ID = "" }, "id is empty"},
		{"weekly start off day", func(r *Rotation) { r.Start.Day = 3 }, "start 2026-11-03 is a Tuesday, but the weekly handoff is on Monday"},
		{"zero every", func(r *Rotation) { r.Kind, r.Every = Every, 0 }, "not a whole number of minutes"},
		{"seconds every", func(r *Rotation) { r.Kind, r.Every = Every, 90*time.Second }, "shift 1m30s is not a whole number"},
		{"bad kind", func(r *Rotation) { r.Kind = 7 }, "unknown shift kind 7"},
		{"bad minute", func(r *Rotation) { r.HandoffMinute = 24 * 60 }, "handoff minute 1440"},
		{"bad date", func(r *Rotation) { r.Kind = Daily; r.Start = Date{2026, time.February, 30} }, "start 2026-02-30 is not a date"},
		{"empty window", func(r *Rotation) { r.Active = &Window{Days: weekdays(time.Monday), From: 60, To: 60} }, "window is empty"},
		{"window no days", func(r *Rotation) { r.Active = &Window{From: 60, To: 120} }, "no days"},
		{"window out of range", func(r *Rotation) { r.Active = &Window{Days: weekdays(time.Monday), From: 60, To: 1440} }, "not minutes of a day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.change(r)
			err := r.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
