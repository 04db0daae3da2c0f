package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// ErrUnknownTeam is returned when a team id is not in the config.
var ErrUnknownTeam = errors.New("routing: unknown team")

// Step is one resolved step of a team's escalation chain: one engineer to
// ring, for how long, and why this engineer.
type Step struct {
	Engineer string        `json:"engineer"`
	Name     string        `json:"-"`
	Phone    string        `json:"phone"`
	Timeout  time.Duration `json:"-"`
	Source   string        `json:"source"` // "rotation:ID", "override:ID" or "engineer"
}

// OverrideSource is what the Router needs from the override store.
type OverrideSource interface {
	ListOverrides(ctx context.Context) ([]schedules.Override, error)
	Generation(ctx context.Context) (int64, error)
}

// Router resolves escalation chains from the live config and the run-time
// overrides. It keeps the override index cached and rebuilds it only when the
// store's generation changes; the config is swapped atomically on reload.
type Router struct {
	cfg       atomic.Pointer[config.Config]
	overrides OverrideSource

	mu    sync.Mutex
	gen   int64
	index *schedules.OverrideIndex
}

// NewRouter returns a Router over cfg. overrides may be nil (no overrides).
func NewRouter(cfg *config.Config, overrides OverrideSource) *Router {
	r := &Router{overrides: overrides, gen: -1}
	r.cfg.Store(cfg)
	return r
}

// Config returns the config in force.
func (r *Router) Config() *config.Config { return r.cfg.Load() }

// SetConfig swaps in a newly loaded config; calls already routed keep the
// chain they carry in their URLs.
func (r *Router) SetConfig(cfg *config.Config) { r.cfg.Store(cfg) }

// Overrides returns the current override index, rebuilding it when the
// store changed since the last call.
func (r *Router) Overrides(ctx context.Context) (*schedules.OverrideIndex, error) {
	if r.overrides == nil {
		return schedules.NewOverrideIndex(nil), nil
	}
	gen, err := r.overrides.Generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: override generation: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.index != nil && gen == r.gen {
		return r.index, nil
	}
	list, err := r.overrides.ListOverrides(ctx)
	if err != nil {
		return nil, fmt.Errorf("routing: list overrides: %w", err)
	}
	r.index, r.gen = schedules.NewOverrideIndex(list), gen
	return r.index, nil
}

// Chain resolves team's escalation chain at instant at.
func (r *Router) Chain(ctx context.Context, team string, at time.Time) ([]Step, error) {
	idx, err := r.Overrides(ctx)
	if err != nil {
		return nil, err
	}
	return ResolveChain(r.Config(), idx, team, at)
}

// ResolveChain is the pure resolution of a team's chain at instant at. A step
// that resolves to nobody is left out; an empty chain is an empty slice.
func ResolveChain(cfg *config.Config, idx *schedules.OverrideIndex, team string, at time.Time) ([]Step, error) {
	t, ok := cfg.Team(team)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTeam, team)
	}
	chain := make([]Step, 0, len(t.Escalation))
	for _, es := range t.Escalation {
		id, source := resolveStep(cfg, idx, es, at)
		if id == "" {
			continue
		}
		e, _ := cfg.Engineer(id)
		chain = append(chain, Step{Engineer: id, Name: e.Name, Phone: e.Phone, Timeout: es.Timeout, Source: source})
	}
	return chain, nil
}

func resolveStep(cfg *config.Config, idx *schedules.OverrideIndex, es config.EscalationStep, at time.Time) (engineer, source string) {
	engineer, source, _ = stepAt(cfg, idx, es, at)
	return engineer, source
}

// stepAt is resolveStep that also names the rotation the engineer comes
// from ("" for a fixed engineer).
func stepAt(cfg *config.Config, idx *schedules.OverrideIndex, es config.EscalationStep, at time.Time) (engineer, source, rotation string) {
	if es.Engineer != "" {
		return es.Engineer, "engineer", ""
	}
	for _, id := range es.Rotations {
		rot, ok := cfg.Rotation(id)
		if !ok || !rot.ActiveAt(at) {
			continue
		}
		// The first active rotation wins, even when it names nobody.
		eng, src, ok := schedules.OnCall(rot, idx, at)
		if !ok {
			return "", "", ""
		}
		return eng, src, id
	}
	return "", "", ""
}

// Segment is a stretch of time over which a team's chain stays the same.
type Segment struct {
	From  time.Time
	To    time.Time
	Chain []Step // empty: a coverage gap
}

// Segments cuts [from, to) into the stretches over which team's chain stays
// the same, resolving it once per interval between the instants at which
// any of the team's rotations or overrides can change its answer. Adjacent
// stretches with the same chain (same engineers, same sources) are merged.
func Segments(cfg *config.Config, idx *schedules.OverrideIndex, team string, from, to time.Time) ([]Segment, error) {
	t, ok := cfg.Team(team)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTeam, team)
	}
	var rotations []string
	for _, es := range t.Escalation {
		rotations = append(rotations, es.Rotations...)
	}
	edges := edgesOf(cfg, idx, rotations, from, to)
	var segs []Segment
	for i, start := range edges {
		end := to
		if i+1 < len(edges) {
			end = edges[i+1]
		}
		chain, err := ResolveChain(cfg, idx, team, start)
		if err != nil {
			return nil, err
		}
		if n := len(segs); n > 0 && sameChain(segs[n-1].Chain, chain) {
			segs[n-1].To = end
			continue
		}
		segs = append(segs, Segment{From: start, To: end, Chain: chain})
	}
	return segs, nil
}

func sameChain(a, b []Step) bool {
	return slices.EqualFunc(a, b, func(x, y Step) bool { return x.Engineer == y.Engineer && x.Source == y.Source })
}

// Gap is an interval in which a team's chain resolves to nobody.
type Gap struct {
	Team string
	From time.Time
	To   time.Time
}

// Gaps lists the intervals in [from, to) where team's chain is empty.
func Gaps(cfg *config.Config, idx *schedules.OverrideIndex, team string, from, to time.Time) ([]Gap, error) {
	segs, err := Segments(cfg, idx, team, from, to)
	if err != nil {
		return nil, err
	}
	var gaps []Gap
	for _, sg := range segs {
		if len(sg.Chain) == 0 {
			gaps = append(gaps, Gap{Team: team, From: sg.From, To: sg.To})
		}
	}
	return gaps, nil
}

// edgesOf is from and every instant in [from, to) at which one of the
// rotations, or an override of one, changes hands, sorted and each once.
func edgesOf(cfg *config.Config, idx *schedules.OverrideIndex, rotations []string, from, to time.Time) []time.Time {
	edges := []time.Time{from}
	for _, id := range rotations {
		if rot, ok := cfg.Rotation(id); ok {
			edges = append(edges, rot.Boundaries(from, to)...)
			edges = append(edges, idx.Boundaries(id, from, to)...)
		}
	}
	slices.SortFunc(edges, time.Time.Compare)
	return slices.CompactFunc(edges, time.Time.Equal)
}
