package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hotline-dev/hotline/schedules"
)

func cmdOverride(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: hotline override add|list|rm ...")
		return usageErr("override: say add, list or rm")
	}
	switch args[0] {
	case "add":
		return overrideAdd(ctx, e, args[1:])
	case "list", "ls":
		return overrideList(ctx, e, args[1:])
	case "rm", "remove":
		return overrideRm(ctx, e, args[1:])
	}
	fmt.Fprintln(e.stderr, "usage: hotline override add|list|rm ...")
	return usageErr("override: unknown subcommand %q", args[0])
}

// actor names who made a change, for the audit log.
func actor(e env) string {
	if u := e.getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func overrideAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "override add", "override add --rotation R --engineer E --from T --to T [--reason S]")
	var c common
	c.register(fs, e, true)
	rotation := fs.String("rotation", "", "the rotation to cover (required)")
	engineer := fs.String("engineer", "", "who covers it (required)")
	from := fs.String("from", "", "start: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in hotline.timezone (required)")
	to := fs.String("to", "", "end: RFC 3339, or \"YYYY-MM-DD HH:MM\" or a date in hotline.timezone (required)")
	reason := fs.String("reason", "", "why, for the audit log")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if *rotation == "" || *engineer == "" || *from == "" || *to == "" {
		fs.Usage()
		return usageErr("override add: --rotation, --engineer, --from and --to are required")
	}
	o := schedules.Override{Rotation: *rotation, Engineer: *engineer, Reason: *reason, CreatedBy: actor(e)}
	if o.From, err = parseLocalTime(fs, c, "from", *from); err != nil {
		return err
	}
	if o.To, err = parseLocalTime(fs, c, "to", *to); err != nil {
		return err
	}
	a, err := openApp(ctx, c, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	added, err := a.overrides.AddOverride(ctx, o, a.cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "override %d: %s covers %s from %s to %s\n", added.ID, added.Engineer, added.Rotation,
		stamp(added.From, a.cfg.Hotline.Location), stamp(added.To, a.cfg.Hotline.Location))
	warnOverlaps(ctx, e, a.overrides, added, a.cfg.Hotline.Location)
	return nil
}

// warnOverlaps tells, on stderr, which overrides of the same rotation cover
// some of added's time, and which of each pair is rung there (the newer;
// README "Overrides"). It is advice: a failure to read them is only said.
func warnOverlaps(ctx context.Context, e env, st *schedules.Store, added schedules.Override, loc *time.Location) {
	list, err := st.ListOverrides(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: could not check for overlapping overrides: %v\n", err)
		return
	}
	for _, o := range schedules.Overlapping(list, added) {
		win := added
		if schedules.Wins(o, added) {
			win = o
		}
		fmt.Fprintf(e.stderr, "warning: override %d overlaps override %d (%s covers %s from %s to %s); where both apply, override %d, the newer, is rung\n",
			added.ID, o.ID, o.Engineer, o.Rotation, stamp(o.From, loc), stamp(o.To, loc), win.ID)
	}
}

func overrideList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "override list", "override list [--db F]")
	var c common
	c.register(fs, e, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := schedules.NewStore(db, time.Now).ListOverrides(ctx)
	loc, _ := zoneOf(c) // without a readable config, UTC
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROTATION\tENGINEER\tFROM\tTO\tBY\tREASON")
	for _, o := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Rotation, o.Engineer,
			stamp(o.From, loc), stamp(o.To, loc), o.CreatedBy, o.Reason)
	}
	return tw.Flush()
}

func overrideRm(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "override rm", "override rm ID [--db F]")
	var c common
	c.register(fs, e, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos, "override")
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	loc, _ := zoneOf(c) // without a readable config, the audit entry's times are in UTC
	err = schedules.NewStore(db, time.Now).InZone(loc).RemoveOverride(ctx, id, actor(e))
	if errors.Is(err, schedules.ErrNotFound) {
		return fmt.Errorf("override rm: no override %d (see 'hotline override list')", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "override %d removed\n", id)
	return nil
}
