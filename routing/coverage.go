package routing

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// CoverageWatch looks ahead for intervals where a team has nobody on call,
// logs them and exports the uncovered time as a metric, so a hole in the
// schedule is noticed before a customer calls into it.
type CoverageWatch struct {
	router *Router
	log    zerolog.Logger
	gauge  *prometheus.GaugeVec
	ahead  time.Duration
	every  time.Duration
}

// NewCoverageWatch watches the next 24 hours of router's teams every 10
// minutes, its gauge hotline_uncovered_seconds_next_24h{team} registered
// on reg.
func NewCoverageWatch(router *Router, log zerolog.Logger, reg prometheus.Registerer) *CoverageWatch {
	c := &CoverageWatch{
		router: router, log: log, ahead: 24 * time.Hour, every: 10 * time.Minute,
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_uncovered_seconds_next_24h",
			Help: "Seconds in the next 24 hours during which the team's chain resolves to nobody.",
		}, []string{"team"}),
	}
	reg.MustRegister(c.gauge)
	return c
}

// Run checks at once and then every 10 minutes until ctx ends.
func (c *CoverageWatch) Run(ctx context.Context) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		c.check(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check computes each team's gaps in [now, now+ahead).
func (c *CoverageWatch) check(ctx context.Context, now time.Time) {
	cfg := c.router.Config()
	idx, err := c.router.Overrides(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("coverage check: read overrides")
		return
	}
	for _, t := range cfg.Teams {
		gaps, err := Gaps(cfg, idx, t.ID, now, now.Add(c.ahead))
		if err != nil {
			continue
		}
		var uncovered time.Duration
		for _, g := range gaps {
			uncovered += g.To.Sub(g.From)
			c.log.Warn().Str("team", t.ID).Time("from", g.From).Time("to", g.To).Msg("nobody on call")
		}
		c.gauge.WithLabelValues(t.ID).Set(uncovered.Seconds())
	}
}
