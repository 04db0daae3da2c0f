package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hotline-dev/hotline/routing"
)

func cmdOncall(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "oncall", "oncall --config F --db F [--team T] [--at T] [--json]")
	var c common
	c.register(fs, e, true)
	team := fs.String("team", "", "only this team")
	atFlag := fs.String("at", "", "the moment: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in hotline.timezone (default now)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	at := time.Now()
	if *atFlag != "" {
		if at, err = parseLocalTime(fs, c, "at", *atFlag); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, c, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	out, err := a.router.WhoIsOnCall(ctx, *team, at)
	if errors.Is(err, routing.ErrUnknownTeam) {
		return fmt.Errorf("oncall: no team %q in %s", *team, c.config)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(e.stdout, "on call at %s\n", out.At.In(a.cfg.Hotline.Location).Format(time.RFC3339))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, t := range out.Teams {
		fmt.Fprintf(tw, "\n%s (%s)\n", t.Name, t.Team)
		if len(t.Chain) == 0 {
			fmt.Fprintf(tw, "  (nobody on call)\n")
		}
		for i, s := range t.Chain {
			fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s\t%ds\t%s\n", i+1, s.Engineer, s.Name, s.Phone, s.TimeoutS, s.Source)
		}
	}
	return tw.Flush()
}
