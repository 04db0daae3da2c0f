package main

import (
	"context"
	"flag"
	"time"

	"github.com/hotline-dev/hotline/alert"
	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/calendar"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/page"
	"github.com/hotline-dev/hotline/revisions"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
)

// Defaults of the common flags.
const (
	defaultConfig = "hotline.yaml"
	defaultDB     = "hotline.db"
	defaultAddr   = ":8080"
)

// defaultSpool is where a server on PostgreSQL keeps the writes the
// database could not take; on SQLite the spool sits next to the file.
const defaultSpool = "hotline.spool"

// common holds the flags most commands share.
type common struct {
	config string
	db     string
	spool  string // only for commands that call registerSpool
}

func (c *common) register(fs *flag.FlagSet, e env, withDB bool) {
	fs.StringVar(&c.config, "config", envOr(e, "HOTLINE_CONFIG", defaultConfig), "config file (env HOTLINE_CONFIG)")
	if withDB {
		fs.StringVar(&c.db, "db", envOr(e, "HOTLINE_DB", defaultDB), "SQLite database file, or a postgres://user@host:5432/db?sslmode=… URL (env HOTLINE_DB)")
	}
}

// registerSpool adds --spool, for the commands that write calls.
func (c *common) registerSpool(fs *flag.FlagSet, e env) {
	fs.StringVar(&c.spool, "spool", e.getenv("HOTLINE_SPOOL"),
		"file keeping call events while the database is unavailable; put it on another filesystem than the database, so one full disk does not stop both (env HOTLINE_SPOOL; default: the SQLite file plus .spool, or ./"+defaultSpool+" on PostgreSQL)")
}

// spoolPath is where the call-event writer spools: --spool, else next to
// the SQLite file, else ./hotline.spool. An instance that finds it locked
// by another spools to a file of its own beside it (incident.NewWriter).
func (c common) spoolPath() string {
	switch {
	case c.spool != "":
		return c.spool
	case store.IsPostgres(c.db):
		return defaultSpool
	}
	return c.db + ".spool"
}

// openDB opens the database (a SQLite path or a postgres:// URL) and
// applies every package's migrations.
func openDB(ctx context.Context, dsn string) (*store.DB, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, schedules.Migrate, incident.Migrate, announce.Migrate, revisions.Migrate, alert.Migrate, page.Migrate, web.Migrate, notify.Migrate, calendar.Migrate} {
		if err := m(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// app is the loaded config and open database most commands work on.
type app struct {
	cfg       *config.Config
	db        *store.DB
	overrides *schedules.Store
	router    *routing.Router
}

func openApp(ctx context.Context, c common, now func() time.Time) (*app, error) {
	cfg, err := config.LoadConfig(c.config)
	if err != nil {
		return nil, err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return nil, err
	}
	ov := schedules.NewStore(db, now).InZone(cfg.Hotline.Location)
	return &app{cfg: cfg, db: db, overrides: ov, router: routing.NewRouter(cfg, ov)}, nil
}

func (a *app) Close() error { return a.db.Close() }

// zoneOf is hotline.timezone of the config c names: the zone the CLI reads
// and prints times in. It is UTC, with the reason, when that config cannot
// be read.
func zoneOf(c common) (*time.Location, error) {
	cfg, err := config.LoadConfig(c.config)
	if err != nil {
		return time.UTC, err
	}
	return cfg.Hotline.Location, nil
}

// parseLocalTime reads a time flag as parseTimeIn does, in the zone of the
// config c names; an RFC 3339 time needs no config.
func parseLocalTime(fs *flag.FlagSet, c common, flagName, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	loc, err := zoneOf(c)
	if err != nil {
		return time.Time{}, badFlag(fs, "--%s %q: a time without an offset is read in hotline.timezone, and --config could not be read (%v); give RFC 3339 such as 2026-11-29T03:00:00Z, or fix --config", flagName, v, err)
	}
	return parseTimeIn(fs, flagName, v, loc)
}

// stamp prints t in loc as RFC 3339, with loc's offset.
func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

// parseTimeIn reads a time given as RFC 3339, or on the wall clock of loc
// (the config's hotline.timezone) as "2026-11-29 09:00", "2026-11-29T09:00"
// or a date, "2026-11-29", meaning its midnight. A wall-clock time that
// happens twice, when clocks fall back, may be either (RFC 3339 is exact).
func parseTimeIn(fs *flag.FlagSet, flagName, v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badFlag(fs, "--%s %q: want an RFC 3339 time such as 2026-11-29T03:00:00Z, or a time or date in %s such as \"2026-11-29 09:00\" or 2026-11-29", flagName, v, loc)
}
