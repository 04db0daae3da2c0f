package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// errGaps is returned by check --strict when coverage has gaps.
var errGaps = errors.New("coverage gaps found (--strict)")

func cmdCheck(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "check", "check --config F [--days N] [--strict] [--db F]")
	var c common
	c.register(fs, e, false)
	days := fs.Int("days", 14, "how many days ahead to look for coverage gaps")
	strict := fs.Bool("strict", false, "exit 1 when there are coverage gaps")
	dbPath := fs.String("db", "", "also count run-time overrides from this database")
	at := fs.String("at", "", "start of the checked period: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in hotline.timezone (default now)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if *days < 1 || *days > 366 {
		return badFlag(fs, "--days must be from 1 to 366")
	}
	start := time.Now()
	if *at != "" {
		if start, err = parseLocalTime(fs, c, "at", *at); err != nil {
			return err
		}
	}
	cfg, err := config.LoadConfig(c.config)
	if err != nil {
		return err
	}
	idx := schedules.NewOverrideIndex(nil)
	if *dbPath != "" {
		db, err := openDB(ctx, *dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		list, err := schedules.NewStore(db, time.Now).ListOverrides(ctx)
		if err != nil {
			return err
		}
		idx = schedules.NewOverrideIndex(list)
	}
	end := start.Add(time.Duration(*days) * 24 * time.Hour)
	total := 0
	for _, t := range cfg.Teams {
		gaps, err := routing.Gaps(cfg, idx, t.ID, start, end)
		if err != nil {
			return err
		}
		loc := routing.TeamLocation(cfg, &t)
		for _, g := range gaps {
			fmt.Fprintf(e.stdout, "gap %s %s %s\n", t.ID, g.From.In(loc).Format(time.RFC3339), g.To.In(loc).Format(time.RFC3339))
		}
		total += len(gaps)
	}
	fmt.Fprintf(e.stderr, "%s: OK (revision %.12s): %d teams, %d engineers, %d rotations; %d coverage gaps in the next %d days\n",
		c.config, cfg.Revision, len(cfg.Teams), len(cfg.Engineers), len(cfg.Rotations), total, *days)
	if *strict && total > 0 {
		return errGaps
	}
	return nil
}
