package schedules

import (
	"fmt"
	"testing"
	"time"
)

// The expected instants below are written by hand with their offsets, from
// the real transitions: New York 2026-11-01 (02:00 EDT -> 01:00 EST) and
// 2027-03-14 (02:00 EST -> 03:00 EDT); London 2027-03-28 (01:00 GMT -> 02:00
// BST) and 2027-10-31 (02:00 BST -> 01:00 GMT); Sydney 2026-10-04 (02:00
// AEST -> 03:00 AEDT) and 2027-04-04 (03:00 AEDT -> 02:00 AEST); Kolkata
// has no DST.

// dstRot describes a rotation for the DST tables.
type dstRot struct {
	zone    string
	kind    ShiftKind
	every   time.Duration
	handoff string // "15:04"
	start   string // a Sunday for weekly rotations, handoff on Sunday
	members []string
}

func (d dstRot) build(t testing.TB) *Rotation {
	return &Rotation{
		ID: "r", Members: d.members, Kind: d.kind, Every: d.every,
		HandoffDay: time.Sunday, HandoffMinute: hm(t, d.handoff),
		Start: day(t, d.start), Location: zone(t, d.zone),
	}
}

var ab = []string{"a", "b"}

// TestShiftAtAroundHandoffs checks the engineer a minute before and a minute
// after handoffs on DST days, and the shift bounds at the handoff itself.
func TestShiftAtAroundHandoffs(t *testing.T) {
	tests := []struct {
		name    string
		rot     dstRot
		handoff string // the expected handoff instant
		before  string // who holds the pager until then
		after   string // who holds it from then on
		end     string // the expected end of the new shift
	}{
		// New York, fall back.
		{"ny weekly fall", dstRot{"America/New_York", Weekly, 0, "09:00", "2026-10-18", []string{"a", "b", "c"}},
			"2026-11-01T09:00:00-05:00", "b", "c", "2026-11-08T09:00:00-05:00"},
		{"ny daily fall", dstRot{"America/New_York", Daily, 0, "09:00", "2026-10-30", []string{"a", "b", "c"}},
			"2026-11-01T09:00:00-05:00", "b", "c", "2026-11-02T09:00:00-05:00"},
		{"ny 12h fall night", dstRot{"America/New_York", Every, 12 * time.Hour, "09:00", "2026-10-31", ab},
			"2026-10-31T21:00:00-04:00", "a", "b", "2026-11-01T09:00:00-05:00"},
		{"ny 12h fall morning", dstRot{"America/New_York", Every, 12 * time.Hour, "09:00", "2026-10-31", ab},
			"2026-11-01T09:00:00-05:00", "b", "a", "2026-11-01T21:00:00-05:00"},
		{"ny 36h fall", dstRot{"America/New_York", Every, 36 * time.Hour, "09:00", "2026-10-30", []string{"a", "b", "c"}},
			"2026-11-02T09:00:00-05:00", "b", "c", "2026-11-03T21:00:00-05:00"},
		{"ny 90m fall", dstRot{"America/New_York", Every, 90 * time.Minute, "00:00", "2026-11-01", ab},
			"2026-11-01T03:00:00-05:00", "b", "a", "2026-11-01T04:30:00-05:00"},
		// New York, spring forward.
		{"ny weekly spring", dstRot{"America/New_York", Weekly, 0, "09:00", "2027-03-07", ab},
			"2027-03-14T09:00:00-04:00", "a", "b", "2027-03-21T09:00:00-04:00"},
		{"ny daily spring", dstRot{"America/New_York", Daily, 0, "09:00", "2027-03-13", ab},
			"2027-03-14T09:00:00-04:00", "a", "b", "2027-03-15T09:00:00-04:00"},
		{"ny 12h spring", dstRot{"America/New_York", Every, 12 * time.Hour, "09:00", "2027-03-13", []string{"a", "b", "c"}},
			"2027-03-14T09:00:00-04:00", "b", "c", "2027-03-14T21:00:00-04:00"},
		// London.
		{"london weekly spring", dstRot{"Europe/London", Weekly, 0, "09:00", "2027-03-21", ab},
			"2027-03-28T09:00:00+01:00", "a", "b", "2027-04-04T09:00:00+01:00"},
		{"london daily spring", dstRot{"Europe/London", Daily, 0, "09:00", "2027-03-27", ab},
			"2027-03-28T09:00:00+01:00", "a", "b", "2027-03-29T09:00:00+01:00"},
		{"london 12h spring", dstRot{"Europe/London", Every, 12 * time.Hour, "09:00", "2027-03-27", ab},
			"2027-03-28T09:00:00+01:00", "b", "a", "2027-03-28T21:00:00+01:00"},
		{"london weekly fall", dstRot{"Europe/London", Weekly, 0, "09:00", "2027-10-24", ab},
			"2027-10-31T09:00:00Z", "a", "b", "2027-11-07T09:00:00Z"},
		{"london daily fall", dstRot{"Europe/London", Daily, 0, "09:00", "2027-10-30", ab},
			"2027-10-31T09:00:00Z", "a", "b", "2027-11-01T09:00:00Z"},
		{"london 12h fall", dstRot{"Europe/London", Every, 12 * time.Hour, "09:00", "2027-10-30", ab},
			"2027-10-30T21:00:00+01:00", "a", "b", "2027-10-31T09:00:00Z"},
		// Sydney.
		{"sydney weekly fall", dstRot{"Australia/Sydney", Weekly, 0, "09:00", "2027-03-28", ab},
			"2027-04-04T09:00:00+10:00", "a", "b", "2027-04-11T09:00:00+10:00"},
		{"sydney daily fall", dstRot{"Australia/Sydney", Daily, 0, "09:00", "2027-04-03", ab},
			"2027-04-04T09:00:00+10:00", "a", "b", "2027-04-05T09:00:00+10:00"},
		{"sydney 12h fall", dstRot{"Australia/Sydney", Every, 12 * time.Hour, "09:00", "2027-04-03", ab},
			"2027-04-04T09:00:00+10:00", "b", "a", "2027-04-04T21:00:00+10:00"},
		{"sydney 12h fall night", dstRot{"Australia/Sydney", Every, 12 * time.Hour, "09:00", "2027-04-03", ab},
			"2027-04-03T21:00:00+11:00", "a", "b", "2027-04-04T09:00:00+10:00"},
		// Kolkata: a plain fixed offset.
		{"kolkata weekly", dstRot{"Asia/Kolkata", Weekly, 0, "09:00", "2027-03-07", ab},
			"2027-03-14T09:00:00+05:30", "a", "b", "2027-03-21T09:00:00+05:30"},
		{"kolkata daily", dstRot{"Asia/Kolkata", Daily, 0, "09:00", "2027-03-13", ab},
			"2027-03-14T09:00:00+05:30", "a", "b", "2027-03-15T09:00:00+05:30"},
		{"kolkata 12h", dstRot{"Asia/Kolkata", Every, 12 * time.Hour, "09:00", "2027-03-13", ab},
			"2027-03-13T21:00:00+05:30", "a", "b", "2027-03-14T09:00:00+05:30"},

		// A handoff in a skipped hour happens at the transition instant.
		{"ny daily skipped", dstRot{"America/New_York", Daily, 0, "02:30", "2027-03-12", []string{"a", "b", "c"}},
			"2027-03-14T03:00:00-04:00", "b", "c", "2027-03-15T02:30:00-04:00"},
		{"ny weekly skipped", dstRot{"America/New_York", Weekly, 0, "02:30", "2027-03-07", ab},
			"2027-03-14T03:00:00-04:00", "a", "b", "2027-03-21T02:30:00-04:00"},
		{"ny 12h skipped", dstRot{"America/New_York", Every, 12 * time.Hour, "02:30", "2027-03-13", ab},
			"2027-03-14T03:00:00-04:00", "b", "a", "2027-03-14T14:30:00-04:00"},
		{"london daily skipped", dstRot{"Europe/London", Daily, 0, "01:30", "2027-03-27", ab},
			"2027-03-28T02:00:00+01:00", "a", "b", "2027-03-29T01:30:00+01:00"},
		{"sydney daily skipped", dstRot{"Australia/Sydney", Daily, 0, "02:30", "2026-10-03", ab},
			"2026-10-04T03:00:00+11:00", "a", "b", "2026-10-05T02:30:00+11:00"},

		// A handoff in a repeated hour happens at its first occurrence.
		{"ny daily repeated", dstRot{"America/New_York", Daily, 0, "01:30", "2026-10-31", ab},
			"2026-11-01T01:30:00-04:00", "a", "b", "2026-11-02T01:30:00-05:00"},
		{"ny weekly repeated", dstRot{"America/New_York", Weekly, 0, "01:30", "2026-10-25", ab},
			"2026-11-01T01:30:00-04:00", "a", "b", "2026-11-08T01:30:00-05:00"},
		{"ny 12h repeated", dstRot{"America/New_York", Every, 12 * time.Hour, "01:30", "2026-10-31", []string{"a", "b", "c"}},
			"2026-11-01T01:30:00-04:00", "b", "c", "2026-11-01T13:30:00-05:00"},
		{"london daily repeated", dstRot{"Europe/London", Daily, 0, "01:30", "2027-10-30", ab},
			"2027-10-31T01:30:00+01:00", "a", "b", "2027-11-01T01:30:00Z"},
		{"sydney daily repeated", dstRot{"Australia/Sydney", Daily, 0, "02:30", "2027-04-03", ab},
			"2027-04-04T02:30:00+11:00", "a", "b", "2027-04-05T02:30:00+10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rot.build(t)
			h, end := ts(t, tt.handoff), ts(t, tt.end)
			for _, c := range []struct {
				at   time.Time
				want string
			}{
				{h.Add(-time.Minute), tt.before},
				{h.Add(-time.Nanosecond), tt.before},
				{h, tt.after},
				{h.Add(time.Minute), tt.after},
				{end.Add(-time.Minute), tt.after},
			} {
				s, ok := r.ShiftAt(c.at)
				if !ok || s.Engineer != c.want {
					t.Errorf("ShiftAt(%s) = %q, %v; want %q", c.at.In(r.Location).Format(time.RFC3339Nano), s.Engineer, ok, c.want)
				}
			}
			s, _ := r.ShiftAt(h)
			if !s.Start.Equal(h) || !s.End.Equal(end) {
				t.Errorf("shift at handoff = [%s, %s); want [%s, %s)", s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339), tt.handoff, tt.end)
			}
			if next, _ := r.ShiftAt(end); next.Engineer == tt.after && len(r.Members) > 1 {
				t.Errorf("ShiftAt(end %s) still %q", tt.end, tt.after)
			}
		})
	}
}

// TestShiftAtRepeatedHourSecondPass checks that the second pass through a
// repeated hour does not hand off again.
func TestShiftAtRepeatedHourSecondPass(t *testing.T) {
	r := dstRot{"America/New_York", Daily, 0, "01:30", "2026-10-31", ab}.build(t)
	for _, at := range []string{
		"2026-11-01T01:29:00-05:00", // second pass, before 01:30 again
		"2026-11-01T01:30:00-05:00", // 01:30 read a second time
		"2026-11-01T01:31:00-05:00",
	} {
		s, ok := r.ShiftAt(ts(t, at))
		if !ok || s.Engineer != "b" || s.Index != 1 {
			t.Errorf("ShiftAt(%s) = %q #%d; want b #1", at, s.Engineer, s.Index)
		}
	}
}

// TestShiftAtEmptyShifts: 30-minute shifts whose civil starts fall in a
// skipped hour all start at the transition; the empty ones are never
// returned and the next shift starts where the previous one ends.
func TestShiftAtEmptyShifts(t *testing.T) {
	r := dstRot{"America/New_York", Every, 30 * time.Minute, "00:00", "2027-03-14",
		[]string{"m0", "m1", "m2", "m3", "m4", "m5", "m6"}}.build(t)
	jump := ts(t, "2027-03-14T03:00:00-04:00")
	before, _ := r.ShiftAt(jump.Add(-time.Nanosecond))
	at, _ := r.ShiftAt(jump)
	if before.Engineer != "m3" || !before.End.Equal(jump) {
		t.Errorf("before the jump: %+v; want m3 ending at %s", before, jump)
	}
	if at.Engineer != "m6" || at.Index != 6 || !at.Start.Equal(jump) {
		t.Errorf("at the jump: %+v; want m6 (#6) from %s", at, jump)
	}
}

func TestShiftAtBeforeStart(t *testing.T) {
	r := dstRot{"America/New_York", Weekly, 0, "09:00", "2026-11-01", ab}.build(t)
	first := ts(t, "2026-11-01T09:00:00-05:00")
	for _, at := range []time.Time{first.Add(-time.Nanosecond), first.AddDate(-30, 0, 0)} {
		if s, ok := r.ShiftAt(at); ok {
			t.Errorf("ShiftAt(%s) = %+v; want nobody before start", at, s)
		}
	}
	if s, ok := r.ShiftAt(first); !ok || s.Engineer != "a" || s.Index != 0 {
		t.Errorf("ShiftAt(first handoff) = %+v, %v; want a #0", s, ok)
	}
}

// TestShiftAtFarFuture checks the arithmetic is direct: shift 52*100 of a
// weekly rotation, a century on, still hands off at 09:00 local.
func TestShiftAtFarFuture(t *testing.T) {
	r := dstRot{"America/New_York", Weekly, 0, "09:00", "2026-11-01", []string{"a", "b", "c"}}.build(t)
	at := time.Date(2126, 7, 1, 12, 0, 0, 0, r.Location)
	s, ok := r.ShiftAt(at)
	if !ok {
		t.Fatal("no shift")
	}
	local := s.Start.In(r.Location)
	if local.Weekday() != time.Sunday || local.Hour() != 9 || local.Minute() != 0 {
		t.Errorf("shift starts %s; want a Sunday at 09:00", local)
	}
	// DST moves the span by an hour, never by a day.
	weeks := int(s.Start.Sub(ts(t, "2026-11-01T09:00:00-05:00")).Round(24*time.Hour).Hours()) / (7 * 24)
	if s.Index != weeks || s.Engineer != r.Members[weeks%3] {
		t.Errorf("shift #%d %q; want #%d %q", s.Index, s.Engineer, weeks, r.Members[weeks%3])
	}
}

// BenchmarkShiftAt shows the cost does not grow with the shift number: in
// Kolkata a lookup a century after start costs what one in the first year
// does. In New York lookups past 2037 cost more because Go then computes the
// offset from the zone's rule string instead of its transition table.
func BenchmarkShiftAt(b *testing.B) {
	for _, z := range []string{"Asia/Kolkata", "America/New_York"} {
		r := dstRot{z, Every, 90 * time.Minute, "09:00", "2026-11-02", []string{"a", "b", "c"}}.build(b)
		for _, years := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/%dy", z, years), func(b *testing.B) {
				at := time.Date(2026+years, time.March, 14, 12, 0, 0, 0, r.Location)
				for i := range b.N {
					if _, ok := r.ShiftAt(at.Add(time.Duration(i%1000) * time.Minute)); !ok {
						b.Fatal("no shift")
					}
				}
			})
		}
	}
}
