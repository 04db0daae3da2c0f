package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/problem"
)

// cmdAnnounce is announce add (as override add: a subcommand, flags, RFC
// 3339 times), list and rm. "add" may be left out, as it could before.
func cmdAnnounce(ctx context.Context, e env, args []string) error {
	sub := "add"
	if len(args) > 0 && (args[0] == "add" || args[0] == "list" || args[0] == "ls" || args[0] == "rm") {
		sub, args = args[0], args[1:]
	}
	fs := newFlags(e, "announce "+sub, "announce add --message S --until T | announce list | announce rm ID  [--db F]")
	var c common
	c.register(fs, e, true)
	message := fs.String("message", "", "what callers hear after the greeting (add)")
	until := fs.String("until", "", "when it stops: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in hotline.timezone (add)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var id int64
	switch sub {
	case "rm":
		if len(pos) != 1 {
			return badFlag(fs, "give exactly one announcement ID")
		}
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil {
			return badFlag(fs, "%q is not an announcement ID", pos[0])
		}
	default:
		if err := noPositional(fs, pos); err != nil {
			return err
		}
	}
	var end time.Time
	if sub == "add" {
		if *message == "" || *until == "" {
			return badFlag(fs, "--message and --until are required")
		}
		if end, err = parseLocalTime(fs, c, "until", *until); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	loc, _ := zoneOf(c) // without a readable config, UTC
	store := announce.NewAnnouncements(db, time.Now).InZone(loc)
	switch sub {
	case "list", "ls":
		list, err := store.ListAnnouncements(ctx, 100)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUNTIL\tACTIVE\tBY\tMESSAGE")
		for _, a := range list {
			active := "no"
			if a.EndsAt.After(time.Now()) {
				active = "yes"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.ID, stamp(a.EndsAt, loc), active, a.CreatedBy, a.Message)
		}
		return tw.Flush()
	case "rm":
		err := store.ExpireAnnouncement(ctx, id, actor(e))
		if _, gone := problem.Of(err, problem.NotFound); gone {
			return fmt.Errorf("announce rm: no active announcement %d (see 'hotline announce list')", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "announcement %d ended\n", id)
		return nil
	}
	a, err := store.AddAnnouncement(ctx, *message, end, actor(e))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "announcement %d: spoken to every caller until %s\n", a.ID, stamp(a.EndsAt, loc))
	return nil
}
