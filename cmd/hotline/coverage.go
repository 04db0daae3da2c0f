package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/routing"
)

// coverageWatch looks ahead for intervals where a team has nobody on call,
// logs them and exports the uncovered time as a metric, so a hole in the
// schedule is noticed before a customer calls into it.
type coverageWatch struct {
	router *routing.Router
	log    zerolog.Logger
	gauge  *prometheus.GaugeVec
	ahead  time.Duration
	every  time.Duration
}

func newCoverageWatch(router *routing.Router, log zerolog.Logger) *coverageWatch {
	return &coverageWatch{
		router: router, log: log, ahead: 24 * time.Hour, every: 10 * time.Minute,
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hotline_uncovered_seconds_next_24h",
			Help: "Seconds in the next 24 hours during which the team's chain resolves to nobody.",
		}, []string{"team"}),
	}
}

func (c *coverageWatch) run(ctx context.Context) {
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
func (c *coverageWatch) check(ctx context.Context, now time.Time) {
	cfg := c.router.Config()
	idx, err := c.router.Overrides(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("coverage check: read overrides")
		return
	}
	for _, t := range cfg.Teams {
		gaps, err := routing.Gaps(cfg, idx, t.ID, now, now.Add(c.ahead))
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
