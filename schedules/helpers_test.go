package schedules

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST tables must not depend on the host's zoneinfo
)

// zone loads a named zone or fails the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// ts parses an RFC 3339 time or fails the test.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// day parses "2006-01-02" into a Date.
func day(t testing.TB, s string) Date {
	t.Helper()
	v, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return Date{Year: v.Year(), Month: v.Month(), Day: v.Day()}
}

// hm returns the minutes after midnight of "15:04".
func hm(t testing.TB, s string) int {
	t.Helper()
	v, err := time.Parse("15:04", s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v.Hour()*60 + v.Minute()
}

// weekdays returns a window day set.
func weekdays(days ...time.Weekday) [7]bool {
	var w [7]bool
	for _, d := range days {
		w[d] = true
	}
	return w
}
