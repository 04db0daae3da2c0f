package schedules

import "time"

// ActiveAt reports whether instant t falls in the rotation's active window,
// read on the wall clock of r.Location: From inclusive, To exclusive, Days
// naming the weekday a window starts on. A window whose From is not before
// its To runs past midnight into the next day. A nil Active window is always
// active.
func (r *Rotation) ActiveAt(t time.Time) bool {
	if r.Active == nil {
		return true
	}
	return r.Active.contains(civilOf(t, r.loc()))
}

// contains reports whether civil time c is inside the window.
func (w *Window) contains(c int64) bool {
	day := floorDiv(c, secondsPerDay)
	minute := int((c - day*secondsPerDay) / 60)
	if w.From < w.To {
		return w.Days[weekdayOf(day)] && w.From <= minute && minute < w.To
	}
	// Past midnight: the evening part belongs to today's window, the early
	// morning part to yesterday's.
	return (w.Days[weekdayOf(day)] && minute >= w.From) ||
		(w.Days[weekdayOf(day-1)] && minute < w.To)
}

// weekdayOf returns the weekday of a civil day counted from 1970-01-01, a
// Thursday.
func weekdayOf(day int64) time.Weekday {
	return time.Weekday((day%7 + 7 + int64(time.Thursday)) % 7)
}

// edges returns the civil times in days [first, last] at which the window
// opens or closes.
func (w *Window) edges(first, last int64) []int64 {
	var out []int64
	for day := first; day <= last; day++ {
		if !w.Days[weekdayOf(day)] {
			continue
		}
		end := day
		if w.From >= w.To {
			end++
		}
		out = append(out, day*secondsPerDay+int64(w.From)*60, end*secondsPerDay+int64(w.To)*60)
	}
	return out
}
