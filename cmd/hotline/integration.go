package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hotline-dev/hotline/alert"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/problem"
)

// cmdIntegration is hotline integration add|list|rm: the machines that may
// raise alerts (POST /api/v1/alerts), each audited as cli:$USER.
func cmdIntegration(ctx context.Context, e env, args []string) error {
	const synopsis = "integration add --team T --name N | integration list | integration rm ID"
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "usage: hotline %s\n", synopsis)
		return usageErr("integration: no subcommand given (add, list, rm)")
	}
	fs := newFlags(e, "integration "+args[0], synopsis)
	var c common
	c.register(fs, e, true)
	team := fs.String("team", "", "the team its alerts page (add)")
	name := fs.String("name", "", "what it is, e.g. prometheus (add)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "add", "list", "ls":
		if err := noPositional(fs, pos); err != nil {
			return err
		}
	case "rm":
		if len(pos) != 1 {
			fs.Usage()
			return usageErr("integration rm: give exactly one integration ID")
		}
	default:
		fs.Usage()
		return usageErr("integration: unknown subcommand %q (add, list, rm)", args[0])
	}
	if args[0] == "add" {
		if *team == "" || *name == "" {
			return badFlag(fs, "--team and --name are required")
		}
		cfg, err := config.LoadConfig(c.config)
		if err != nil {
			return err
		}
		if _, ok := cfg.Team(*team); !ok {
			return badFlag(fs, "--team %q is no team of %s", *team, c.config)
		}
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	store := alert.NewIntegrations(db, time.Now)
	switch args[0] {
	case "add":
		in, secret, err := store.Add(ctx, *team, *name, actor(e))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "integration %d %q pages team %s; its secret, shown this once:\n%s\n", in.ID, in.Name, in.Team, secret)
		fmt.Fprintln(e.stdout, "send it as Authorization: Bearer SECRET (or ?token=SECRET) to POST /api/v1/alerts or /api/v1/alerts/alertmanager")
		return nil
	case "rm":
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return badFlag(fs, "%q is not an integration ID", pos[0])
		}
		err = store.Remove(ctx, id, actor(e))
		if msg, gone := problem.Of(err, problem.NotFound); gone {
			return fmt.Errorf("integration rm: %s (see 'hotline integration list')", msg)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "integration %d removed: its secret no longer works\n", id)
		return nil
	}
	list, err := store.List(ctx)
	if err != nil {
		return err
	}
	loc, _ := zoneOf(c) // without a readable config, UTC
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTEAM\tCREATED\tBY")
	for _, in := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", in.ID, in.Name, in.Team, stamp(in.CreatedAt, loc), in.CreatedBy)
	}
	return tw.Flush()
}
