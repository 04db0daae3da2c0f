package routing

import (
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// StepShift is a stretch of time in which one step of a team's escalation
// rings the same engineer for the same reason: a rotation's shift, an
// override, or a step that always names one engineer.
type StepShift struct {
	Step     int    // the step's place in the team's escalation, from 1
	Rotation string // the rotation the engineer comes from; "" for a fixed step
	Engineer string
	Name     string
	Source   string // as Step.Source: "rotation:ID", "override:ID" or "engineer"
	From, To time.Time
}

// StepShifts lists, for each step of team's escalation, the stretches of
// [from, to) in which it names somebody, as the call path resolves it: the
// first active rotation of a step wins, an override replaces whoever its
// rotation names inside the rotation's window. Adjacent stretches with the
// same engineer, rotation and source are one. The result is ordered by
// step, then time; a step's stretches in which it names nobody are left
// out (Gaps says when the whole chain is empty).
func StepShifts(cfg *config.Config, idx *schedules.OverrideIndex, team string, from, to time.Time) ([]StepShift, error) {
	t, ok := cfg.Team(team)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTeam, team)
	}
	var out []StepShift
	for i, es := range t.Escalation {
		edges := edgesOf(cfg, idx, es.Rotations, from, to)
		first := len(out)
		for j, start := range edges {
			end := to
			if j+1 < len(edges) {
				end = edges[j+1]
			}
			id, source, rotation := stepAt(cfg, idx, es, start)
			if id == "" {
				continue
			}
			if n := len(out); n > first && out[n-1].To.Equal(start) && out[n-1].Engineer == id &&
				out[n-1].Source == source && out[n-1].Rotation == rotation {
				out[n-1].To = end
				continue
			}
			e, _ := cfg.Engineer(id)
			out = append(out, StepShift{Step: i + 1, Rotation: rotation, Engineer: id, Name: e.Name, Source: source, From: start, To: end})
		}
	}
	return out, nil
}
