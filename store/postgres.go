package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresConns bounds the pool of one instance. The call-event writer
// needs one connection; the rest serve the web pages and the API.
const postgresConns = 16

// openPostgres opens a pool on the PostgreSQL database at url (a
// postgres:// URL; search_path and other run-time parameters may be given
// as query parameters).
func openPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL; never show its password.
		return nil, fmt.Errorf("store: open %s: invalid PostgreSQL URL", redact(url))
	}
	pool := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	pool.SetMaxOpenConns(postgresConns)
	pool.SetMaxIdleConns(postgresConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	// Connections are renewed now and then, so a failover behind a DNS name
	// or a proxy is followed without a restart.
	pool.SetConnMaxLifetime(30 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", redact(url), err)
	}
	db := &DB{dialect: Postgres, url: url}
	db.pool.Store(pool)
	return db, nil
}

// IsRetryable reports whether err is a PostgreSQL serialization failure or
// deadlock: the transaction was rolled back and may simply be run again.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// rebindConnector hands out pgx connections that take `?` placeholders.
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &rebindConn{conn.(*stdlib.Conn)}, nil
}

// rebindConn is a pgx connection whose statements are rewritten from `?`
// to `$n` placeholders (see rebind). It forwards every optional interface
// database/sql uses, so transactions and prepared statements work as with
// pgx itself.
type rebindConn struct{ c *stdlib.Conn }

var (
	_ driver.ConnPrepareContext = (*rebindConn)(nil)
	_ driver.ExecerContext      = (*rebindConn)(nil)
	_ driver.QueryerContext     = (*rebindConn)(nil)
	_ driver.ConnBeginTx        = (*rebindConn)(nil)
	_ driver.Pinger             = (*rebindConn)(nil)
	_ driver.SessionResetter    = (*rebindConn)(nil)
	_ driver.NamedValueChecker  = (*rebindConn)(nil)
)

func (r *rebindConn) Prepare(q string) (driver.Stmt, error) { return r.c.Prepare(rebind(q)) }
func (r *rebindConn) Close() error                          { return r.c.Close() }
func (r *rebindConn) Begin() (driver.Tx, error)             { return r.c.Begin() }

func (r *rebindConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return r.c.PrepareContext(ctx, rebind(q))
}

func (r *rebindConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return r.c.ExecContext(ctx, rebind(q), args)
}

func (r *rebindConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return r.c.QueryContext(ctx, rebind(q), args)
}

func (r *rebindConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return r.c.BeginTx(ctx, opts)
}

func (r *rebindConn) Ping(ctx context.Context) error             { return r.c.Ping(ctx) }
func (r *rebindConn) ResetSession(ctx context.Context) error     { return r.c.ResetSession(ctx) }
func (r *rebindConn) CheckNamedValue(v *driver.NamedValue) error { return r.c.CheckNamedValue(v) }
