package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
)

// errGapsOpened is returned by diff --strict when the change opens a gap.
var errGapsOpened = errors.New("the new config opens coverage gaps (--strict); cover them, or drop --strict to accept them")

func cmdDiff(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "diff", "diff OLD NEW [--days N] [--at T] [--strict] [--format text|markdown]")
	days := fs.Int("days", 14, "how many days ahead to compare who is on call and the coverage gaps")
	at := fs.String("at", "", "start of the compared period: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in the new config's hotline.timezone (default now)")
	strict := fs.Bool("strict", false, "exit 1 when the change opens a coverage gap")
	format := fs.String("format", "text", "text, or markdown for a pull-request comment")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usageErr("diff: give the old and the new config file")
	}
	if *days < 1 || *days > 366 {
		return badFlag(fs, "--days must be from 1 to 366")
	}
	var render func(routing.Diff) string
	switch *format {
	case "text":
		render = routing.Diff.Text
	case "markdown":
		render = routing.Diff.Markdown
	default:
		return badFlag(fs, "--format %q: want text or markdown", *format)
	}
	// Both files are checked, so one run reports every mistake in either.
	old, errOld := config.LoadConfig(pos[0])
	cur, errNew := config.LoadConfig(pos[1])
	if err := errors.Join(errOld, errNew); err != nil {
		return err
	}
	start := time.Now().Truncate(time.Minute)
	if *at != "" {
		if start, err = parseTimeIn(fs, "at", *at, cur.Hotline.Location); err != nil {
			return err
		}
	}
	d, err := routing.DiffConfigs(old, cur, start, start.AddDate(0, 0, *days))
	if err != nil {
		return err
	}
	io.WriteString(e.stdout, render(d))
	fmt.Fprintf(e.stderr, "%s (revision %.12s) → %s (revision %.12s): %d setting changes, %d handover stretches, %d gaps opened, %d closed in the next %d days\n",
		pos[0], old.Revision, pos[1], cur.Revision, len(d.Changes), len(d.Handovers), len(d.GapsOpened), len(d.GapsClosed), *days)
	if *strict && len(d.GapsOpened) > 0 {
		return errGapsOpened
	}
	return nil
}
