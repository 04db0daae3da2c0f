package notify

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// endHorizon is how far past a window ShiftStarts looks for the end of a
// turn that starts in it.
const endHorizon = 35 * 24 * time.Hour

// ShiftStart is the moment an engineer starts answering for a rotation.
type ShiftStart struct {
	Rotation string
	Engineer string
	Start    time.Time
	// End is when someone else, or nobody, takes over; zero when that is
	// more than five weeks after Start.
	End time.Time
}

// ShiftStarts lists, in time order for each rotation some team's chain
// uses, the instants in [from, to) at which an engineer starts answering
// for the rotation: handoffs, an active window opening, an override
// starting or ending. Overrides and windows are applied as the call path
// applies them (schedules.OnCall); a handoff to the engineer who already
// holds the rotation starts nothing.
func ShiftStarts(cfg *config.Config, idx *schedules.OverrideIndex, from, to time.Time) []ShiftStart {
	used := teamsOf(cfg)
	var out []ShiftStart
	for _, rot := range cfg.Rotations {
		if len(used[rot.ID]) > 0 {
			out = append(out, rotationStarts(rot, idx, from, to)...)
		}
	}
	return out
}

// rotationStarts is ShiftStarts for one rotation.
func rotationStarts(rot *schedules.Rotation, idx *schedules.OverrideIndex, from, to time.Time) []ShiftStart {
	until := to.Add(endHorizon)
	edges := append([]time.Time{from}, rot.Boundaries(from, until)...)
	edges = append(edges, idx.Boundaries(rot.ID, from, until)...)
	slices.SortFunc(edges, time.Time.Compare)
	edges = slices.CompactFunc(edges, time.Time.Equal)

	who := func(t time.Time) string {
		e, _, _ := schedules.OnCall(rot, idx, t)
		return e
	}
	var out []ShiftStart
	open := false // the last entry of out has no End yet
	prev := who(from.Add(-time.Nanosecond))
	for _, t := range edges {
		if !open && !t.Before(to) {
			break
		}
		cur := who(t)
		if cur == prev {
			continue
		}
		if open {
			out[len(out)-1].End = t
			open = false
		}
		if !t.Before(to) {
			break
		}
		if cur != "" {
			out = append(out, ShiftStart{Rotation: rot.ID, Engineer: cur, Start: t})
			open = true
		}
		prev = cur
	}
	return out
}

// teamsOf maps each rotation id to where teams use it: "Operations
// (primary)", in config order.
func teamsOf(cfg *config.Config) map[string][]string {
	out := make(map[string][]string)
	for _, t := range cfg.Teams {
		for i, step := range t.Escalation {
			for _, id := range step.Rotations {
				where := t.Name + " (" + routing.Position(i+1) + ")"
				if !slices.Contains(out[id], where) {
					out[id] = append(out[id], where)
				}
			}
		}
	}
	return out
}

// ShiftReminder is the hand-off reminder for s: "hotline: you are on call
// for Operations (primary) from Mon 2 Mar 09:00 EST to Mon 9 Mar 09:00 EST."
// Times are on the wall clock of loc, the rotation's zone.
func ShiftReminder(cfg *config.Config, s ShiftStart, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	const layout = "Mon 2 Jan 15:04 MST"
	teams := strings.Join(teamsOf(cfg)[s.Rotation], ", ")
	if teams == "" {
		teams = s.Rotation
	}
	body := "hotline: you are on call for " + teams + " from " + s.Start.In(loc).Format(layout)
	if s.End.IsZero() {
		return body + " until further notice."
	}
	return body + " to " + s.End.In(loc).Format(layout) + "."
}

// shiftKey is a reminder's dedup key: one per rotation, start and engineer.
func shiftKey(s ShiftStart) string {
	return "shift:" + s.Rotation + ":" + strconv.FormatInt(s.Start.Unix(), 10) + ":" + s.Engineer
}
