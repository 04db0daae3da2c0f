package web

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// shiftLayout is how the schedules page writes an instant of a shift; the
// zone's abbreviation follows (shiftSpan).
const shiftLayout = "Mon 2 Jan 15:04"

// legendItem is one entry of a timeline's legend: a colour (a CSS class
// of the bars) and what it stands for.
type legendItem struct{ Class, Label string }

// shiftLine is one line of the list of upcoming shifts, e.g. "Thu 3 Dec
// 09:00 – Mon 7 Dec 09:00 EST: Alice Adams, ops-primary".
type shiftLine struct {
	Text     string
	Override bool
}

// overlapNote says that two overrides of one rotation cover the same time,
// and which of them is rung there.
type overlapNote struct{ Text string }

// shiftSpan writes [from, to) on loc's wall clock with the zone's
// abbreviation: once at the end when both ends share it, else after each.
// An end on the day of the start is written as its time alone.
func shiftSpan(from, to time.Time, loc *time.Location) string {
	f, t := from.In(loc), to.In(loc)
	fz, _ := f.Zone()
	tz, _ := t.Zone()
	end := t.Format(shiftLayout)
	if f.YearDay() == t.YearDay() && f.Year() == t.Year() {
		end = t.Format("15:04")
	}
	if fz == tz {
		return f.Format(shiftLayout) + " – " + end + " " + tz
	}
	return f.Format(shiftLayout) + " " + fz + " – " + end + " " + tz
}

// shiftLines lists team's shifts over [from, to), step by step of its chain
// merged in time order, each in its rotation's zone (a fixed step in the
// line's zone, loc). Only engineer's shifts are kept when engineer is not
// empty. byID finds an override's reason.
func shiftLines(cfg *config.Config, idx *schedules.OverrideIndex, byID map[int64]schedules.Override, team, engineer string, loc *time.Location, from, to time.Time) ([]shiftLine, error) {
	shifts, err := routing.StepShifts(cfg, idx, team, from, to)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(shifts, func(a, b routing.StepShift) int {
		if c := a.From.Compare(b.From); c != 0 {
			return c
		}
		return a.Step - b.Step
	})
	var out []shiftLine
	for _, sh := range shifts {
		if engineer != "" && sh.Engineer != engineer {
			continue
		}
		zone, what := loc, "always rung"
		if rot, ok := cfg.Rotation(sh.Rotation); ok {
			zone, what = rot.Location, sh.Rotation
			if zone == nil {
				zone = time.UTC
			}
		}
		text := shiftSpan(sh.From, sh.To, zone) + ": " + sh.Name + ", " + what
		if sh.Step > 1 {
			text += " (" + routing.Position(sh.Step) + ")"
		}
		line := shiftLine{}
		if id, ok := strings.CutPrefix(sh.Source, "override:"); ok {
			line.Override = true
			n, _ := strconv.ParseInt(id, 10, 64)
			if reason := byID[n].Reason; reason != "" {
				text += " (override: " + reason + ")"
			} else {
				text += " (override)"
			}
		}
		line.Text = text
		out = append(out, line)
	}
	return out, nil
}

// overlaps finds the pairs of overrides in list that cover one rotation at
// the same time after now, and says which of each pair is rung there
// (schedules.Wins: the newer), on the rotation's wall clock (loc when it
// has no zone). It also returns the ids of the overrides in such a pair.
func overlaps(cfg *config.Config, list []schedules.Override, now time.Time, loc *time.Location) ([]overlapNote, map[int64]bool) {
	var notes []overlapNote
	marked := map[int64]bool{}
	for i, a := range list {
		if !a.To.After(now) {
			continue
		}
		for _, b := range schedules.Overlapping(list[i+1:], a) {
			from, to := later(a.From, b.From), earlier(a.To, b.To)
			if !to.After(now) {
				continue
			}
			win, lose := a, b
			if schedules.Wins(b, a) {
				win, lose = b, a
			}
			marked[a.ID], marked[b.ID] = true, true
			zone := loc // the rotation's, as in the list of shifts
			if rot, ok := cfg.Rotation(a.Rotation); ok && rot.Location != nil {
				zone = rot.Location
			}
			notes = append(notes, overlapNote{Text: "Overrides " + strconv.FormatInt(lose.ID, 10) + " (" + engineerName(cfg, lose.Engineer) +
				") and " + strconv.FormatInt(win.ID, 10) + " (" + engineerName(cfg, win.Engineer) + ") both cover " + a.Rotation + " " +
				shiftSpan(later(from, now), to, zone) + ": override " + strconv.FormatInt(win.ID, 10) + ", the newer, is the one rung there."})
		}
	}
	return notes, marked
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
