package routing

import (
	"context"
	"strconv"
	"time"
)

// OnCall is the answer to "who is on call at this moment", in the JSON shape
// shared by `hotline oncall --json` and GET /api/v1/oncall.
type OnCall struct {
	At    time.Time    `json:"at"`
	Teams []TeamOnCall `json:"teams"`
}

// TeamOnCall is one team's resolved chain.
type TeamOnCall struct {
	Team  string      `json:"team"`
	Name  string      `json:"name"`
	Chain []ChainStep `json:"chain"`
}

// ChainStep is one step of a resolved chain as printed.
type ChainStep struct {
	Engineer string `json:"engineer"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	TimeoutS int    `json:"timeout_s"`
	Source   string `json:"source"`
}

// WhoIsOnCall resolves the chain of each team (all teams when team is "")
// at instant at.
func (r *Router) WhoIsOnCall(ctx context.Context, team string, at time.Time) (OnCall, error) {
	cfg := r.Config()
	out := OnCall{At: at.UTC(), Teams: []TeamOnCall{}}
	for _, t := range cfg.Teams {
		if team != "" && t.ID != team {
			continue
		}
		chain, err := r.Chain(ctx, t.ID, at)
		if err != nil {
			return OnCall{}, err
		}
		tc := TeamOnCall{Team: t.ID, Name: t.Name, Chain: []ChainStep{}}
		for _, s := range chain {
			tc.Chain = append(tc.Chain, ChainStep{
				Engineer: s.Engineer, Name: s.Name, Phone: s.Phone,
				TimeoutS: int(s.Timeout / time.Second), Source: s.Source,
			})
		}
		out.Teams = append(out.Teams, tc)
	}
	if team != "" && len(out.Teams) == 0 {
		return OnCall{}, ErrUnknownTeam
	}
	return out, nil
}

// Position names a place in an escalation chain, counted from 1:
// "primary", "secondary", then "step 3", "step 4"…
func Position(n int) string {
	switch n {
	case 1:
		return "primary"
	case 2:
		return "secondary"
	}
	return "step " + strconv.Itoa(n)
}
