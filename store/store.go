// Package store opens hotline's database (SQLite by default) and applies the
// migrations each package embeds for the tables it owns.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open database with the dialect hotline's SQL needs to know about.
type DB struct {
	*sql.DB
	// Path is the SQLite file (empty for other databases).
	Path string
}

// ErrUnsupported is returned for a database URL hotline cannot open.
var ErrUnsupported = errors.New("store: unsupported database")

// Open opens the SQLite file at path with WAL, a busy timeout, foreign keys
// and synchronous=FULL, so a committed event survives a crash or power loss.
func Open(ctx context.Context, path string) (*DB, error) {
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("%w: %s (only a SQLite file path is supported)", ErrUnsupported, redact(path))
	}
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(5000)",
		"foreign_keys(ON)",
		"synchronous(FULL)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &DB{DB: db, Path: path}, nil
}

// Migrate applies the embedded migrations of one package. Each package keeps
// its own version table, so packages own their schemas independently.
func (db *DB) Migrate(ctx context.Context, owner string, migrations fs.FS) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db.DB, migrations,
		goose.WithTableName("goose_"+owner), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: migrations of %s: %w", owner, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", owner, err)
	}
	return nil
}

// redact drops the password from a database URL before it is shown.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
