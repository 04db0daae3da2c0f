// Package calendar publishes on-call shifts as iCalendar feeds, one per
// engineer and one per team, at secret-token URLs that calendar apps
// subscribe to.
//
// A feed covers the next 60 days. Shifts are computed the way the call path
// resolves chains (routing.ResolveChain over rotations, active windows and
// overrides), once per interval between the instants at which any of them
// can change, so a feed says at every instant what `hotline oncall` says.
// Positions are places in the resolved chain: when a step resolves to
// nobody, the steps after it move up, as the call would ring them.
package calendar

import (
	"fmt"
	"slices"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// Shift is one interval in which an engineer holds one place in a team's
// resolved escalation chain. Adjacent intervals with the same engineer in
// the same place are one shift. Times are in UTC.
type Shift struct {
	Team     string // team id
	TeamName string
	Position int // place in the resolved chain, from 1 (rung first)
	Engineer string
	Name     string // the engineer's name
	Start    time.Time
	End      time.Time
	// Clipped means the shift began before the window asked for: Start
	// is the window's start, not the shift's.
	Clipped bool
}

// TeamShifts returns team's chain over [from, to): one shift per place
// and holder, ordered by start, then place.
func TeamShifts(cfg *config.Config, idx *schedules.OverrideIndex, team string, from, to time.Time) ([]Shift, error) {
	t, ok := cfg.Team(team)
	if !ok {
		return nil, fmt.Errorf("calendar: %w %q", routing.ErrUnknownTeam, team)
	}
	segs, err := routing.Segments(cfg, idx, team, from, to)
	if err != nil {
		return nil, err
	}

	type place struct {
		pos int
		eng string
	}
	var out []Shift
	last := map[place]int{} // the latest shift of each place and holder
	for _, sg := range segs {
		start, end := sg.From, sg.To
		for p, step := range sg.Chain {
			k := place{p + 1, step.Engineer}
			if j, ok := last[k]; ok && out[j].End.Equal(start) {
				out[j].End = end.UTC()
				continue
			}
			last[k] = len(out)
			out = append(out, Shift{
				Team: t.ID, TeamName: t.Name, Position: p + 1,
				Engineer: step.Engineer, Name: step.Name,
				Start: start.UTC(), End: end.UTC(), Clipped: start.Equal(from),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return a.Position - b.Position
	})
	return out, nil
}

// EngineerShifts returns, across all teams, the shifts in which engineer
// is in a team's chain over [from, to), ordered by start.
func EngineerShifts(cfg *config.Config, idx *schedules.OverrideIndex, engineer string, from, to time.Time) ([]Shift, error) {
	var out []Shift
	for _, t := range cfg.Teams {
		shifts, err := TeamShifts(cfg, idx, t.ID, from, to)
		if err != nil {
			return nil, err
		}
		for _, s := range shifts {
			if s.Engineer == engineer {
				out = append(out, s)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int { return a.Start.Compare(b.Start) })
	return out, nil
}
