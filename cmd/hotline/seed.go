package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// cmdSeed fills the incident log with realistic finished calls, for demos
// and for measuring the web pages at scale.
func cmdSeed(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "seed", "seed --incidents N [--days D] [--seed S] [--db F --config F]")
	var c common
	c.register(fs, e, true)
	n := fs.Int("incidents", 0, "how many incidents to write (required)")
	days := fs.Int("days", 365, "spread the calls over this many days before now")
	seed := fs.Uint64("seed", 1, "random seed: the same seed writes the same calls")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if *n <= 0 || *n > 100_000_000 {
		return badFlag(fs, "--incidents %d: give a number from 1 to 100000000", *n)
	}
	if *days <= 0 || *days > 3650 {
		return badFlag(fs, "--days %d: give a number from 1 to 3650", *days)
	}
	a, err := openApp(ctx, c, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	chain, err := seedChain(ctx, a)
	if err != nil {
		return err
	}
	start := time.Now()
	last := start
	wrote, err := incident.NewIncidents(a.db).Seed(ctx, a.cfg, incident.SeedOptions{
		N: *n, End: start, Days: *days, Seed: *seed, Chain: chain,
		Progress: func(done int) {
			if time.Since(last) >= 5*time.Second {
				last = time.Now()
				fmt.Fprintf(e.stderr, "seed: %d of %d incidents\n", done, *n)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("seed: wrote %d incidents, then: %w", wrote, err)
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "seed: wrote %d incidents over %d days in %s (%.0f incidents/s)\n",
		wrote, *days, el.Round(time.Millisecond), float64(wrote)/el.Seconds())
	return nil
}

// seedChain resolves a team's chain at an instant as the call path does
// (routing.ResolveChain over the config and the database's overrides, read
// once), so each seeded call rings whoever was on call at its time.
func seedChain(ctx context.Context, a *app) (func(team string, at time.Time) ([]string, error), error) {
	list, err := a.overrides.ListOverrides(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: read the overrides: %w", err)
	}
	idx := schedules.NewOverrideIndex(list)
	return func(team string, at time.Time) ([]string, error) {
		steps, err := routing.ResolveChain(a.cfg, idx, team, at)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(steps))
		for i, st := range steps {
			ids[i] = st.Engineer
		}
		return ids, nil
	}, nil
}
