package schedules

import (
	"errors"
	"fmt"
	"time"
)

// Validate checks that the rotation can be evaluated: an id, at least one
// member, a known shift kind, a handoff time of day, a real start date (on
// the handoff weekday for weekly shifts), a shift of whole minutes for
// duration shifts, and a non-empty active window. Messages are plain; the
// config parser adds the file and line.
func (r *Rotation) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if r.ID == "" {
		bad("rotation id is empty")
	}
	if len(r.Members) == 0 {
		bad("rotation has no members")
	}
	for i, m := range r.Members {
		if m == "" {
			bad("member %d is empty", i+1)
		}
	}
	switch r.Kind {
	case Daily:
	case Weekly:
		if r.HandoffDay < time.Sunday || r.HandoffDay > time.Saturday {
			bad("handoff weekday %d is not a weekday", int(r.HandoffDay))
		}
	case Every:
		if r.Every < time.Minute || r.Every%time.Minute != 0 {
			bad("shift %s is not a whole number of minutes, at least 1m", r.Every)
		}
	default:
		bad("unknown shift kind %d", int(r.Kind))
	}
	if r.HandoffMinute < 0 || r.HandoffMinute >= 24*60 {
		bad("handoff minute %d is not a time of day (0 to 1439)", r.HandoffMinute)
	}
	start := time.Date(r.Start.Year, r.Start.Month, r.Start.Day, 0, 0, 0, 0, time.UTC)
	switch {
	case start.Year() != r.Start.Year || start.Month() != r.Start.Month || start.Day() != r.Start.Day:
		bad("start %04d-%02d-%02d is not a date", r.Start.Year, int(r.Start.Month), r.Start.Day)
	case r.Kind == Weekly && start.Weekday() != r.HandoffDay:
		bad("start %s is a %s, but the weekly handoff is on %s", start.Format(time.DateOnly), start.Weekday(), r.HandoffDay)
	}
	if w := r.Active; w != nil {
		if w.From < 0 || w.From >= 24*60 || w.To < 0 || w.To >= 24*60 {
			bad("active window %d to %d is not minutes of a day (0 to 1439)", w.From, w.To)
		}
		if w.From == w.To {
			bad("active window is empty (from equals to)")
		}
		if w.Days == [7]bool{} {
			bad("active window has no days")
		}
	}
	return errors.Join(errs...)
}
