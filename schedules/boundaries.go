package schedules

import (
	"slices"
	"time"
)

// Boundaries returns, sorted and without repeats, every instant in the open
// interval (from, to) at which the rotation's answer changes: the window
// opens or closes, or a handoff happens while it is open. Between two
// consecutive boundaries ActiveAt and ShiftAt give one answer throughout, so
// coverage gaps and timelines need one evaluation per interval.
func (r *Rotation) Boundaries(from, to time.Time) []time.Time {
	if !from.Before(to) {
		return nil
	}
	loc := r.loc()
	var cands []int64
	if k := r.shiftIndex(from.Unix()); r.period() > 0 && len(r.Members) > 0 {
		for k++; ; k++ {
			u := r.handoff(k)
			if !time.Unix(u, 0).Before(to) {
				break
			}
			cands = append(cands, u)
		}
	}
	if r.Active != nil {
		first := floorDiv(civilOf(from, loc), secondsPerDay) - 1
		last := floorDiv(civilOf(to, loc), secondsPerDay) + 1
		for _, c := range r.Active.edges(first, last) {
			cands = append(cands, instantsAt(loc, c)...)
		}
		// The wall clock jumps at a zone transition, which can move it in
		// or out of the window (and back into it after a fall back).
		cands = append(cands, transitions(loc, from, to)...)
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)

	var out []time.Time
	for _, u := range cands {
		t := time.Unix(u, 0).In(loc)
		if !t.After(from) || !t.Before(to) {
			continue
		}
		if r.answer(t.Add(-time.Nanosecond)) != r.answer(t) {
			out = append(out, t)
		}
	}
	return out
}

// answer condenses what the rotation says at t: -2 outside the window, -1
// before the first handoff, else the shift number.
func (r *Rotation) answer(t time.Time) int64 {
	if !r.ActiveAt(t) {
		return -2
	}
	return r.shiftIndex(t.Unix())
}

// transitions returns the instants in (from, to) at which loc changes offset.
func transitions(loc *time.Location, from, to time.Time) []int64 {
	var out []int64
	for t := from; ; {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) || !end.After(t) {
			return out
		}
		out = append(out, end.Unix())
		t = end
	}
}
