package schedules

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// propertyRotations returns every combination of zone, shift kind and window
// the property tests sweep. Handoffs and window edges sit in or near the
// hours DST skips or repeats.
func propertyRotations(t *testing.T) []*Rotation {
	zones := []string{"America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"}
	kinds := []struct {
		name    string
		kind    ShiftKind
		every   time.Duration
		handoff string
	}{
		{"daily", Daily, 0, "09:00"},
		{"daily", Daily, 0, "02:30"},
		{"weekly", Weekly, 0, "01:30"},
		{"12h", Every, 12 * time.Hour, "02:30"},
		{"36h", Every, 36 * time.Hour, "01:30"},
		{"90m", Every, 90 * time.Minute, "00:00"},
	}
	windows := []*Window{
		nil,
		{Days: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), From: hm(t, "08:00"), To: hm(t, "20:00")},
		{Days: weekdays(time.Friday, time.Saturday, time.Sunday), From: hm(t, "22:00"), To: hm(t, "06:00")},
		{Days: weekdays(time.Sunday), From: hm(t, "01:30"), To: hm(t, "02:30")},
		{Days: weekdays(time.Saturday, time.Sunday), From: hm(t, "02:45"), To: hm(t, "01:15")},
	}
	var out []*Rotation
	for _, z := range zones {
		for _, k := range kinds {
			for i, w := range windows {
				out = append(out, &Rotation{
					ID:      fmt.Sprintf("%s %s %s w%d", z, k.name, k.handoff, i),
					Members: []string{"a", "b", "c"}, Kind: k.kind, Every: k.every,
					HandoffDay: time.Monday, HandoffMinute: hm(t, k.handoff),
					Start: Date{2026, time.September, 7}, Location: zone(t, z), Active: w,
				})
			}
		}
	}
	return out
}

// sampleTimes returns n seeded random instants in [from, to), plus every 5
// minutes for 3 hours either side of each offset change of loc in between.
func sampleTimes(rng *rand.Rand, loc *time.Location, from, to time.Time, n int) []time.Time {
	span := to.Sub(from)
	out := make([]time.Time, 0, n)
	for range n {
		out = append(out, from.Add(time.Duration(rng.Int64N(int64(span)))))
	}
	for _, u := range transitions(loc, from, to) {
		tr := time.Unix(u, 0)
		for d := -3 * time.Hour; d <= 3*time.Hour; d += 5 * time.Minute {
			out = append(out, tr.Add(d))
		}
	}
	return out
}

// civilStart is the wall clock at which shift k should start, computed on a
// zone-free clock.
func civilStart(r *Rotation, k int) time.Time {
	first := time.Date(r.Start.Year, r.Start.Month, r.Start.Day, 0, r.HandoffMinute, 0, 0, time.UTC)
	switch r.Kind {
	case Daily:
		return first.AddDate(0, 0, k)
	case Weekly:
		return first.AddDate(0, 0, 7*k)
	default:
		return first.Add(time.Duration(k) * r.Every)
	}
}

// wall reads t's wall clock in loc as a zone-free time.
func wall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// TestShiftProperties: over a year of seeded random instants, every instant
// belongs to exactly one shift, shifts tile with no gap or overlap, each
// starts at its civil handoff time (or, when that reading is skipped, at the
// transition; when repeated, at its first occurrence), and OnCall agrees with
// ShiftAt inside the active window and says nobody outside it.
func TestShiftProperties(t *testing.T) {
	from := time.Date(2026, time.September, 8, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	for _, r := range propertyRotations(t) {
		t.Run(r.ID, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(r.ID))))
			for _, at := range sampleTimes(rng, r.Location, from, to, 1500) {
				s, ok := r.ShiftAt(at)
				if !ok {
					t.Fatalf("ShiftAt(%s): no shift after start", at)
				}
				if at.Before(s.Start) || !at.Before(s.End) {
					t.Fatalf("ShiftAt(%s) = [%s, %s): does not contain it", at, s.Start, s.End)
				}
				if s.Engineer != r.Members[s.Index%len(r.Members)] {
					t.Fatalf("shift #%d held by %q", s.Index, s.Engineer)
				}
				next, ok := r.ShiftAt(s.End)
				if !ok || !next.Start.Equal(s.End) || next.Index <= s.Index {
					t.Fatalf("after #%d [%s, %s) comes #%d from %s: not tiled", s.Index, s.Start, s.End, next.Index, next.Start)
				}
				if s.Index > 0 {
					prev, ok := r.ShiftAt(s.Start.Add(-time.Nanosecond))
					if !ok || !prev.End.Equal(s.Start) || prev.Index >= s.Index {
						t.Fatalf("before #%d from %s comes #%d ending %s: not tiled", s.Index, s.Start, prev.Index, prev.End)
					}
				}
				checkHandoffInstant(t, r, s)

				eng, src, ok := OnCall(r, nil, at)
				switch active := r.ActiveAt(at); {
				case active && (!ok || eng != s.Engineer || src != "rotation:"+r.ID):
					t.Fatalf("OnCall(%s) = %q %q %v; want %q from the rotation", at, eng, src, ok, s.Engineer)
				case !active && ok:
					t.Fatalf("OnCall(%s) = %q outside the window", at, eng)
				}
			}
		})
	}
}

// checkHandoffInstant checks that shift s starts when the wall clock first
// reads its civil handoff time, or at the transition that skips it.
func checkHandoffInstant(t *testing.T, r *Rotation, s Shift) {
	t.Helper()
	want := civilStart(r, s.Index)
	got := wall(s.Start, r.Location)
	if got.Equal(want) {
		for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
			if wall(s.Start.Add(-d), r.Location).Equal(want) {
				t.Fatalf("shift #%d starts at %s, not at the first reading of %s", s.Index, s.Start, want)
			}
		}
		return
	}
	zs, _ := s.Start.In(r.Location).ZoneBounds()
	before := wall(s.Start.Add(-time.Nanosecond), r.Location)
	if !zs.Equal(s.Start) || !before.Before(want) || !got.After(want) {
		t.Fatalf("shift #%d starts at %s (wall %s); want wall %s or the transition skipping it", s.Index, s.Start, got, want)
	}
}

// answerOf is what the rotation says at t through the public API.
func answerOf(r *Rotation, t time.Time) int {
	if !r.ActiveAt(t) {
		return -2
	}
	if s, ok := r.ShiftAt(t); ok {
		return s.Index
	}
	return -1
}

// TestBoundariesProperty: Boundaries lists exactly the instants where the
// rotation's answer changes: at each one it changes, and at random instants
// the answer equals the one at the last boundary before them.
func TestBoundariesProperty(t *testing.T) {
	from := time.Date(2026, time.September, 1, 0, 0, 0, 0, time.UTC) // before the first handoff
	to := from.AddDate(1, 0, 0)
	for _, r := range propertyRotations(t) {
		t.Run(r.ID, func(t *testing.T) {
			bs := r.Boundaries(from, to)
			if len(bs) == 0 {
				t.Fatal("no boundaries in a year")
			}
			for i, b := range bs {
				if !b.After(from) || !b.Before(to) || (i > 0 && !b.After(bs[i-1])) {
					t.Fatalf("boundary %d %s: out of range or order", i, b)
				}
				if answerOf(r, b.Add(-time.Nanosecond)) == answerOf(r, b) {
					t.Fatalf("boundary %s: the answer does not change", b)
				}
			}
			rng := rand.New(rand.NewPCG(2, uint64(len(r.ID))))
			for _, at := range sampleTimes(rng, r.Location, from, to, 1500) {
				i := sort.Search(len(bs), func(i int) bool { return bs[i].After(at) }) - 1
				last := from
				if i >= 0 {
					last = bs[i]
				}
				if got, want := answerOf(r, at), answerOf(r, last); got != want {
					t.Fatalf("answer at %s is %d, at the boundary before it (%s) %d: a change was missed", at, got, last, want)
				}
			}
		})
	}
}
