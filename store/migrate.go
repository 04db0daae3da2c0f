package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"

	"github.com/pressly/goose/v3"
)

// Migrate applies the embedded migrations of one package: migrations holds
// migrations/<dialect>/*.sql ("sqlite", "postgres"), and the database's
// own dialect is applied. Each package keeps its own version table, so packages own their
// schemas independently. On PostgreSQL the migrations run under an
// advisory lock, so instances starting together apply each one once. On
// SQLite db keeps the set, and applies it again to a file it reopens
// (Reopen): a copy put back in place of a removed file may be older.
func (db *DB) Migrate(ctx context.Context, owner string, migrations fs.FS) error {
	if err := db.migrate(ctx, owner, migrations); err != nil {
		return err
	}
	if db.dialect == SQLite {
		db.mu.Lock()
		defer db.mu.Unlock()
		if !slices.ContainsFunc(db.migrations, func(m migrationSet) bool { return m.owner == owner }) {
			db.migrations = append(db.migrations, migrationSet{owner, migrations})
		}
	}
	return nil
}

// migrationSet is one package's migrations, as given to Migrate.
type migrationSet struct {
	owner string
	fs    fs.FS
}

func (db *DB) migrate(ctx context.Context, owner string, migrations fs.FS) error {
	dir, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return fmt.Errorf("store: migrations of %s: %w", owner, err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithTableName("goose_" + owner), goose.WithDisableGlobalRegistry(true)}
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(migrationLock{}))
	}
	p, err := goose.NewProvider(dialect, db.SQL(), dir, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations of %s: %w", owner, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", owner, err)
	}
	return nil
}

// migrationLock serialises migrations on PostgreSQL with a session-level
// advisory lock. It waits in the server rather than polling, and is keyed
// by the schema, so tests (or deployments) in other schemas of the same
// database do not wait for each other.
type migrationLock struct{}

const migrationLockKey = `hashtextextended('hotline migrations ' || COALESCE(current_schema(), ''), 0)`

func (migrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+migrationLockKey+`)`)
	return err
}

func (migrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+migrationLockKey+`)`)
	return err
}
