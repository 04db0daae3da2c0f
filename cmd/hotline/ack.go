package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/problem"
)

// cmdLifecycle is hotline ack ID and hotline resolve ID: an open incident
// taken, or any incident closed, as cli:$USER (audited by the store).
func cmdLifecycle(ctx context.Context, e env, verb string, args []string) error {
	fs := newFlags(e, verb, verb+" ID [--db F]")
	var c common
	c.register(fs, e, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos, "incident")
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	incidents := incident.NewIncidents(db)
	change, done := incidents.Acknowledge, "acknowledged"
	if verb == "resolve" {
		change, done = incidents.Resolve, "resolved"
	}
	err = change(ctx, id, actor(e), "cli", time.Now())
	if msg, refused := problem.Of(err, problem.Invalid); refused {
		return fmt.Errorf("%s: %s", verb, msg)
	}
	if errors.Is(err, incident.ErrNotFound) {
		return fmt.Errorf("%s: no incident %d", verb, id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "incident %d %s\n", id, done)
	return nil
}
