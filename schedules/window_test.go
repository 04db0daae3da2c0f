package schedules

import (
	"slices"
	"testing"
	"time"
)

func TestActiveAt(t *testing.T) {
	ny := zone(t, "America/New_York")
	weekdaysDay := &Window{Days: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), From: hm(t, "08:00"), To: hm(t, "20:00")}
	fridayNight := &Window{Days: weekdays(time.Friday), From: hm(t, "22:00"), To: hm(t, "06:00")}
	small := &Window{Days: weekdays(time.Sunday), From: hm(t, "01:00"), To: hm(t, "01:30")}
	gap := &Window{Days: weekdays(time.Sunday), From: hm(t, "01:30"), To: hm(t, "02:30")}
	tests := []struct {
		name string
		w    *Window
		at   string
		want bool
	}{
		{"no window", nil, "2026-11-07T03:00:00-05:00", true},
		{"before from", weekdaysDay, "2026-11-02T07:59:59-05:00", false},
		{"at from", weekdaysDay, "2026-11-02T08:00:00-05:00", true},
		{"before to", weekdaysDay, "2026-11-02T19:59:59.999-05:00", true},
		{"at to", weekdaysDay, "2026-11-02T20:00:00-05:00", false},
		{"saturday", weekdaysDay, "2026-11-07T12:00:00-05:00", false},
		{"overnight before", fridayNight, "2026-11-06T21:59:00-05:00", false},
		{"overnight start", fridayNight, "2026-11-06T22:00:00-05:00", true},
		{"overnight past midnight", fridayNight, "2026-11-07T05:59:00-05:00", true},
		{"overnight end", fridayNight, "2026-11-07T06:00:00-05:00", false},
		{"overnight morning of start day", fridayNight, "2026-11-06T05:00:00-05:00", false},
		{"overnight evening of next day", fridayNight, "2026-11-07T23:00:00-05:00", false},
		{"repeated hour first pass", small, "2026-11-01T01:15:00-04:00", true},
		{"repeated hour first pass after", small, "2026-11-01T01:45:00-04:00", false},
		{"repeated hour second pass", small, "2026-11-01T01:15:00-05:00", true},
		{"skipped hour before", gap, "2027-03-14T01:29:00-05:00", false},
		{"skipped hour inside", gap, "2027-03-14T01:59:00-05:00", true},
		{"skipped hour after the jump", gap, "2027-03-14T03:00:00-04:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rotation{ID: "r", Location: ny, Active: tt.w}
			if got := r.ActiveAt(ts(t, tt.at)); got != tt.want {
				t.Errorf("ActiveAt(%s) = %v; want %v", tt.at, got, tt.want)
			}
		})
	}
}

// TestBoundariesExample spells out a two-day timeline: window edges and the
// handoffs inside the window, none while it is shut.
func TestBoundariesExample(t *testing.T) {
	r := &Rotation{
		ID: "r", Members: []string{"a", "b"}, Kind: Daily, HandoffMinute: hm(t, "09:00"),
		Start: Date{2026, time.October, 1}, Location: zone(t, "America/New_York"),
		Active: &Window{Days: weekdays(time.Monday, time.Tuesday), From: hm(t, "08:00"), To: hm(t, "20:00")},
	}
	got := r.Boundaries(ts(t, "2026-11-01T00:00:00-04:00"), ts(t, "2026-11-04T00:00:00-05:00"))
	var want []time.Time
	for _, s := range []string{
		"2026-11-02T08:00:00-05:00", "2026-11-02T09:00:00-05:00", "2026-11-02T20:00:00-05:00",
		"2026-11-03T08:00:00-05:00", "2026-11-03T09:00:00-05:00", "2026-11-03T20:00:00-05:00",
	} {
		want = append(want, ts(t, s))
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("Boundaries =\n%v\nwant\n%v", got, want)
	}
	// The interval is open: a boundary at from or to is left out.
	if got := r.Boundaries(want[0], want[2]); len(got) != 1 || !got[0].Equal(want[1]) {
		t.Errorf("Boundaries(open interval) = %v; want [%s]", got, want[1])
	}
}
