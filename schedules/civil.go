package schedules

import (
	"time"
)

// Civil time is a wall-clock reading without a zone, held as the seconds
// since 1970-01-01T00:00:00 of that reading taken as if it were UTC. Shift
// arithmetic counts in civil seconds so handoffs keep their local time of day
// across DST changes, then converts to instants with resolve.

const secondsPerDay = 24 * 60 * 60

// civilOf returns the wall-clock reading of instant t in loc, in civil seconds.
func civilOf(t time.Time, loc *time.Location) int64 {
	_, off := t.In(loc).Zone()
	return t.Unix() + int64(off)
}

// civilDay returns the civil seconds of midnight starting date d.
func civilDay(d Date) int64 {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix()
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// offsetAt returns the UTC offset in force in loc at Unix second u.
func offsetAt(loc *time.Location, u int64) int64 {
	_, off := time.Unix(u, 0).In(loc).Zone()
	return int64(off)
}

// candidateOffsets lists the distinct offsets that may apply to civil time c
// in loc: those in force a day before and a day after, and those in force at
// the instants these give. No zone changes offset twice within a day, so the
// offset of any real reading of c is among them.
func candidateOffsets(loc *time.Location, c int64) int64Set {
	var offs int64Set
	offs.add(offsetAt(loc, c-secondsPerDay))
	offs.add(offsetAt(loc, c+secondsPerDay))
	first := offs
	for _, o := range first.values() {
		offs.add(offsetAt(loc, c-o))
	}
	return offs
}

// readings returns every instant whose wall clock in loc reads exactly c,
// earliest first: one normally, two in a repeated hour, none in a skipped one.
func readings(loc *time.Location, c int64) int64Set {
	var out int64Set
	offs := candidateOffsets(loc, c)
	for _, o := range offs.values() {
		if u := c - o; offsetAt(loc, u) == o {
			out.add(u)
		}
	}
	return out
}

// int64Set is a small sorted set kept on the stack: shift arithmetic runs on
// every call and must not allocate. Four values are more than any zone needs
// (two offsets around a transition, each tried twice).
type int64Set struct {
	n int
	v [4]int64
}

// add inserts x in order unless present or the set is full.
func (s *int64Set) add(x int64) {
	i := 0
	for i < s.n && s.v[i] < x {
		i++
	}
	if (i < s.n && s.v[i] == x) || s.n == len(s.v) {
		return
	}
	copy(s.v[i+1:s.n+1], s.v[i:s.n])
	s.v[i] = x
	s.n++
}

func (s *int64Set) values() []int64 { return s.v[:s.n] }

// gapEnd returns the transition instant that skips over civil time c in loc:
// the first valid instant after a reading the clock never shows. ok is false
// if c is not in a skipped interval.
func gapEnd(loc *time.Location, c int64) (u int64, ok bool) {
	offs := candidateOffsets(loc, c)
	for _, o := range offs.values() {
		start, _ := time.Unix(c-o, 0).In(loc).ZoneBounds()
		if start.IsZero() {
			continue
		}
		s := start.Unix()
		// The clock jumps at s from s+before to s+after; c is skipped if it
		// lies in [s+before, s+after).
		before, after := offsetAt(loc, s-1), offsetAt(loc, s)
		if s+before <= c && c < s+after && (!ok || s < u) {
			u, ok = s, true
		}
	}
	return u, ok
}

// resolve converts civil time c in loc to an instant (Unix seconds): the
// first occurrence in a repeated hour, the transition instant in a skipped
// one. time.Date leaves both cases unspecified, so it is not used here.
func resolve(loc *time.Location, c int64) int64 {
	if r := readings(loc, c); r.n > 0 {
		return r.v[0]
	}
	if u, ok := gapEnd(loc, c); ok {
		return u
	}
	// Unreachable for real zones; keep a defined answer all the same.
	return c - offsetAt(loc, c)
}

// instantsAt returns every instant at which loc's wall clock reaches civil
// time c: each reading, or the transition instant when c is skipped.
func instantsAt(loc *time.Location, c int64) []int64 {
	if r := readings(loc, c); r.n > 0 {
		return append([]int64(nil), r.values()...)
	}
	return []int64{resolve(loc, c)}
}
