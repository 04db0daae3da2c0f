// Package store opens hotline's database — a SQLite file by default, or
// PostgreSQL for several instances — and applies the migrations each package
// embeds for the tables it owns. Callers write one set of SQL with `?`
// placeholders for both; the few statements that differ ask Dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open database. Its methods are those of *sql.DB that hotline
// uses; the pool behind them can be reopened when the file was replaced
// (restored from a backup after it went missing).
type DB struct {
	pool atomic.Pointer[sql.DB]
	// Path is the SQLite file; empty for PostgreSQL.
	Path string

	dialect Dialect
	url     string // the PostgreSQL URL, password included: never log it

	mu         sync.Mutex // serialises reopening; guards identity and migrations
	identity   fileID     // the file the pool has open
	migrations []migrationSet

	stmts stmtCache
}

// Errors of the store.
var (
	// ErrUnsupported is returned for a database URL hotline cannot open.
	ErrUnsupported = errors.New("store: unsupported database")
	// ErrUnavailable means the database file is gone, replaced or read-only:
	// writes would be lost or refused. A write through DB (ExecContext,
	// QueryContext or QueryRowContext of a changing statement, or the
	// Commit of a transaction from Begin) returns it rather than write into
	// a file that no longer has the database's path.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Open opens the database named by dsn: a postgres:// (or postgresql://)
// URL opens PostgreSQL, anything else is a SQLite file path. SQLite is
// opened with WAL, a busy timeout, foreign keys and synchronous=FULL, so a
// committed event survives a crash or power loss.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	if strings.Contains(dsn, "://") {
		return nil, fmt.Errorf("%w: %s (want a SQLite file path or a postgres:// URL)", ErrUnsupported, redact(dsn))
	}
	path := dsn
	// The file is made here, once; the pool opens it with mode=rw, so a
	// connection opened later, when the file has been removed, fails
	// instead of making an empty database at Path that reads would then
	// trust (Writable refuses writes there, and a restored file is reopened).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	} else if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{Path: path, dialect: SQLite}
	pool, err := openPool(ctx, path)
	if err != nil {
		return nil, err
	}
	db.pool.Store(pool)
	db.identity, _ = identify(path)
	return db, nil
}

// sqliteConns bounds the SQLite pool: one writer at a time, readers in
// parallel (WAL); more connections than this only add contention.
const sqliteConns = 8

func openPool(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(1000)",
		"foreign_keys(ON)",
		"synchronous(FULL)",
		// Checkpoints are run by the call-event writer in the background
		// (incident.Writer), not by whichever commit crosses the threshold.
		"wal_autocheckpoint(0)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("mode", "rw")
	pool, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Keep connections open: each new one re-runs the pragmas and loses its
	// prepared statements, which under load cost more than the queries.
	pool.SetMaxOpenConns(sqliteConns)
	pool.SetMaxIdleConns(sqliteConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return pool, nil
}

// SQL returns the current connection pool.
func (db *DB) SQL() *sql.DB { return db.pool.Load() }

// PingContext checks the database answers.
func (db *DB) PingContext(ctx context.Context) error { return db.SQL().PingContext(ctx) }

// Close closes the pool.
func (db *DB) Close() error {
	db.stmts.close()
	return db.SQL().Close()
}

// fileID identifies a file across renames: a removed and restored file has
// a new inode.
type fileID struct {
	dev, ino uint64
}

func identify(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fileID{}, fmt.Errorf("%w: %s is read-only", ErrUnavailable, path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, nil
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// Writable reports whether writes would reach the file at Path: it still
// exists, is the file the pool has open, and is not read-only. SQLite keeps
// writing to a removed file's open descriptor, so without this check a
// deleted database would swallow events silently. On PostgreSQL it costs
// nothing and returns nil: a server that is down fails the write itself.
func (db *DB) Writable() error {
	if db.dialect == Postgres {
		return nil
	}
	id, err := identify(db.Path)
	if err != nil {
		return unavailable(err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if id != db.identity {
		return fmt.Errorf("%w: %s was replaced", ErrUnavailable, db.Path)
	}
	return nil
}

// Ready is Writable for a health check: a file put back at Path (restored
// from a backup) is reopened first, as before a write (writable), so the
// restore is seen without waiting for the next write. A missing file stays
// an error.
func (db *DB) Ready(ctx context.Context) error {
	_, _, err := db.writable(ctx)
	return err
}

// Reopen opens a new pool on the file now at Path (restored after it went
// missing), applies to it every migration applied through db, and closes
// the old pool. On PostgreSQL the pool reconnects by itself, so Reopen only
// checks that the server answers.
func (db *DB) Reopen(ctx context.Context) error {
	if db.dialect == Postgres {
		return db.PingContext(ctx)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	id, err := identify(db.Path)
	if err != nil {
		return unavailable(err)
	}
	return db.reopenLocked(ctx, id)
}

// reopenLocked swaps the pool for one on the file id now at Path, which it
// brings up to date with db's migrations. db.mu is held.
func (db *DB) reopenLocked(ctx context.Context, id fileID) error {
	pool, err := openPool(ctx, db.Path)
	if err != nil {
		return err
	}
	old := db.pool.Swap(pool)
	db.identity = id
	// A file restored from an older backup may predate migrations this
	// process applied at start.
	for _, m := range db.migrations {
		if err := db.migrate(ctx, m.owner, m.fs); err != nil {
			old.Close()
			return err
		}
	}
	return old.Close()
}

// writable is the check before a write through the pool: Path must still
// name the file the pool has open. When another file is there (the
// database put back from a copy), the pool is reopened on it first, so the
// write lands in the file at Path. It returns the pool to write on and the
// identity of its file, and ErrUnavailable when there is no writable file
// at Path. On PostgreSQL it costs nothing.
func (db *DB) writable(ctx context.Context) (*sql.DB, fileID, error) {
	if db.dialect == Postgres {
		return db.SQL(), fileID{}, nil
	}
	id, err := identify(db.Path)
	db.mu.Lock()
	defer db.mu.Unlock()
	if err != nil {
		return nil, fileID{}, unavailable(err)
	}
	if id != db.identity {
		if err := db.reopenLocked(ctx, id); err != nil {
			return nil, fileID{}, err
		}
	}
	return db.pool.Load(), id, nil
}

// stillWritable checks, before a transaction from Begin commits, that Path
// still names the file id it was written in.
func (db *DB) stillWritable(id fileID) error {
	now, err := identify(db.Path)
	if err != nil {
		return unavailable(err)
	}
	if now != id {
		return fmt.Errorf("%w: %s was replaced while a transaction wrote to it", ErrUnavailable, db.Path)
	}
	return nil
}

// unavailable wraps the reason a file cannot take writes in ErrUnavailable.
func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// redact drops the password from a database URL before it is shown.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
