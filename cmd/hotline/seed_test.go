package main

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestSeedRingsWhoWasOnCall seeds calls over ten days with an override in
// the middle: erin covers ops-primary (alice's rotation) for three days.
// Every seeded ops call routed inside the override rings erin first and
// says the chain erin, bob, dana; every one outside rings alice first. So
// seeded incidents name the engineers on call at their time, overrides
// included, as real calls do.
func TestSeedRingsWhoWasOnCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := prepareHotline(t, dsn, mustRead(t, "testdata/e2e.yaml"))
		now := time.Now().UTC().Truncate(time.Second)
		from, to := now.Add(-6*24*time.Hour), now.Add(-3*24*time.Hour)
		h.mustRun(nil, "override", "add", "--db", h.db, "--config", h.config, "--rotation", "ops-primary", "--engineer", "erin",
			"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339))
		h.mustRun(nil, "seed", "--incidents", "300", "--days", "10", "--db", h.db, "--config", h.config)

		db, err := openDB(context.Background(), h.db)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		store := incident.NewIncidents(db)
		list, err := store.FindIncidents(context.Background(), incident.Filter{Team: "ops", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		inside, outside := 0, 0
		for _, row := range list {
			in, err := store.Incident(context.Background(), row.ID)
			if err != nil {
				t.Fatal(err)
			}
			var routed time.Time
			var route, first string
			for _, e := range in.Events {
				if e.Type == incident.EventRoute {
					routed, route = e.At, e.Detail
				}
				if e.Type == incident.EventRing && first == "" {
					first = e.Engineer
				}
			}
			wantRoute, wantFirst := "team ops: alice, bob, dana", "alice"
			if !routed.Before(from) && routed.Before(to) {
				wantRoute, wantFirst = "team ops: erin, bob, dana", "erin"
				inside++
			} else {
				outside++
			}
			if route != wantRoute || first != wantFirst {
				t.Errorf("incident %d routed at %s: %q, first rang %q; want %q and %q", in.ID, routed.Format(time.RFC3339), route, first, wantFirst, wantRoute)
			}
		}
		if inside == 0 || outside == 0 {
			t.Errorf("%d ops calls inside the override, %d outside: want some of each", inside, outside)
		}
	})
}
