package schedules

import "time"

// loc returns the rotation's zone; a nil Location means UTC.
func (r *Rotation) loc() *time.Location {
	if r.Location == nil {
		return time.UTC
	}
	return r.Location
}

// period returns the civil length of a shift in seconds.
func (r *Rotation) period() int64 {
	switch r.Kind {
	case Weekly:
		return 7 * secondsPerDay
	case Every:
		return int64(r.Every / time.Second)
	default:
		return secondsPerDay
	}
}

// firstHandoff returns the civil time of the first handoff.
func (r *Rotation) firstHandoff() int64 {
	return civilDay(r.Start) + int64(r.HandoffMinute)*60
}

// handoff returns the instant (Unix seconds) at which shift k starts.
func (r *Rotation) handoff(k int64) int64 {
	return resolve(r.loc(), r.firstHandoff()+k*r.period())
}

// shiftIndex returns the number of the shift covering Unix second u, or -1
// before the first handoff. The wall clock gives a first guess; the guess is
// off by at most the offset change of a nearby DST transition divided by the
// shift length (a few steps for shifts of a minute or more).
func (r *Rotation) shiftIndex(u int64) int64 {
	p := r.period()
	if p <= 0 || len(r.Members) == 0 {
		return -1
	}
	c0 := r.firstHandoff()
	_, off := time.Unix(u, 0).In(r.loc()).Zone()
	k := floorDiv(u+int64(off)-c0, p)
	if k < 0 {
		k = -1
	}
	for r.handoff(k+1) <= u {
		k++
	}
	for k >= 0 && r.handoff(k) > u {
		k--
	}
	return k
}

// shift builds shift k.
func (r *Rotation) shift(k int64) Shift {
	loc := r.loc()
	return Shift{
		Engineer: r.Members[k%int64(len(r.Members))],
		Index:    int(k),
		Start:    time.Unix(r.handoff(k), 0).In(loc),
		End:      time.Unix(r.handoff(k+1), 0).In(loc),
	}
}

// ShiftAt returns the shift covering instant t, whose Start <= t < End. It
// ignores the active window; ok is false before the first handoff. Handoffs
// follow the wall clock of r.Location (README "Configuration"). It runs in constant
// time whatever the shift number.
func (r *Rotation) ShiftAt(t time.Time) (Shift, bool) {
	// Handoffs fall on whole seconds, so the second containing t decides.
	k := r.shiftIndex(t.Unix())
	if k < 0 {
		return Shift{}, false
	}
	return r.shift(k), true
}
