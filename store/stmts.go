package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// maxPrepared bounds the statements kept prepared. What comes through DB's
// and Tx's methods is a fixed set: constant statements and multi-row
// INSERTs of a bounded number of rows (a webhook's events, 32 texts at
// most). The rule: a statement built at run time from input, such as the
// call log's filter combinations or an IN list of any length, runs through
// SQL() instead, unprepared, so it never takes a place the call path's
// statements need. The bound stops a breach of that rule from growing the
// cache for ever.
const maxPrepared = 256

// stmtCache keeps statements prepared: SQLite spends more time parsing a
// short statement than running it. It follows the pool, which is replaced
// when a restored file is reopened.
type stmtCache struct {
	mu        sync.Mutex
	pool      *sql.DB
	m         map[string]*sql.Stmt
	closed    bool
	preparing sync.WaitGroup
}

// Prepared returns q prepared on the current pool, or nil the first time q
// is seen: it is then prepared in the background, because preparing needs
// a connection of its own and the caller may hold one inside a
// transaction. A caller given nil runs q unprepared.
func (db *DB) Prepared(q string) *sql.Stmt {
	pool := db.SQL()
	c := &db.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != pool {
		c.pool, c.m = pool, map[string]*sql.Stmt{}
	}
	if st, ok := c.m[q]; ok || c.closed || len(c.m) >= maxPrepared {
		return st
	}
	c.m[q] = nil // being prepared
	c.preparing.Go(func() {
		st, err := pool.PrepareContext(context.Background(), q)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.pool == pool && err == nil {
			c.m[q] = st
		} else {
			delete(c.m, q)
		}
	})
	return nil
}

// PreparedCount is how many statements are kept prepared or being
// prepared: a fixed number once the call path has run, whatever pages are
// read.
func (db *DB) PreparedCount() int {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	return len(db.stmts.m)
}

// close stops new statements from being prepared and waits for those
// being prepared: none may open a connection once the pool is closed.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preparing.Wait()
}

// checkWrite checks, before a statement that writes (see writes), that the
// file at Path can take it (writable); other statements pass.
func (db *DB) checkWrite(ctx context.Context, q string) error {
	if !writes(q) {
		return nil
	}
	_, _, err := db.writable(ctx)
	return err
}

// ExecContext runs a statement. One that changes the database is first
// checked to reach the file at Path (see Begin).
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := db.checkWrite(ctx, q); err != nil {
		return nil, err
	}
	if st := db.Prepared(q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.SQL().ExecContext(ctx, q, args...)
}

// QueryContext runs a query; one that changes the database (UPDATE …
// RETURNING) is checked first, as ExecContext's are.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := db.checkWrite(ctx, q); err != nil {
		return nil, err
	}
	if st := db.Prepared(q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.SQL().QueryContext(ctx, q, args...)
}

// Row is the result of DB.QueryRowContext: a *sql.Row, or the error that
// kept a changing statement from running (ErrUnavailable).
type Row struct {
	*sql.Row
	err error
}

// Scan copies the row's columns into dest, as sql.Row's Scan does.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

// Err returns the error that kept the query from running, if any.
func (r *Row) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Err()
}

// QueryRowContext runs a query returning at most one row; one that changes
// the database (INSERT … RETURNING) is checked first, as ExecContext's are.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *Row {
	if err := db.checkWrite(ctx, q); err != nil {
		return &Row{err: err}
	}
	if st := db.Prepared(q); st != nil {
		return &Row{Row: st.QueryRowContext(ctx, args...)}
	}
	return &Row{Row: db.SQL().QueryRowContext(ctx, q, args...)}
}

// writes reports whether q changes the database, by its first word. Only
// such statements pay for the check of the file (one stat), so the reads
// of the call path do not.
func writes(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	n := 0
	for n < len(q) && ('a' <= q[n]|0x20 && q[n]|0x20 <= 'z') {
		n++
	}
	for _, verb := range [...]string{"INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "CREATE", "DROP", "ALTER"} {
		if strings.EqualFold(q[:n], verb) {
			return true
		}
	}
	return false
}

// Tx is a transaction whose statements are prepared once, as DB's are.
type Tx struct {
	*sql.Tx
	db *DB
	// checked: Commit first checks that Path still names file (DB.Begin's
	// transactions on SQLite; Conn's writer does its own checks).
	checked bool
	file    fileID
}

// Begin starts a transaction (IMMEDIATE for SQLite: it takes the write
// lock at once, so it cannot fail later on a lock upgrade) whose statements
// come from DB's prepared ones. On SQLite it fails with ErrUnavailable when
// there is no writable file at Path, reopens the pool when a file was put
// back there (restored after it went missing), and its Commit fails with
// ErrUnavailable, writing nothing, when Path no longer names the file it
// wrote: SQLite would write a removed file's open descriptor, and the
// change would be gone once the file is restored.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	pool, file, err := db.writable(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, db: db, checked: db.dialect == SQLite, file: file}, nil
}

// InTx runs fn in one transaction (Begin), committed if fn returns nil and
// rolled back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Commit commits the transaction; see Begin for the check before it.
func (tx *Tx) Commit() error {
	if tx.checked {
		if err := tx.db.stillWritable(tx.file); err != nil {
			_ = tx.Tx.Rollback()
			return err
		}
	}
	return tx.Tx.Commit()
}

// Conn is a connection of its own for one goroutine's transactions, such
// as the call-event writer's. SQLite keeps its page cache per connection
// and drops it when another connection has committed since: a writer that
// takes whichever pooled connection is free reads the pages it writes
// again at almost every commit, one system call each, while one that
// always writes on the same connection finds them cached. A Conn is not
// safe for concurrent use.
type Conn struct {
	db   *DB
	pool *sql.DB // the pool conn belongs to
	conn *sql.Conn
}

// Conn returns a Conn; it takes its connection at its first transaction.
func (db *DB) Conn() *Conn { return &Conn{db: db} }

// Begin starts a transaction on c's connection, as DB.Begin does on the
// pool's. It takes a new connection when the pool was reopened (a restored
// file) or the last Begin failed, so a broken connection is not kept.
func (c *Conn) Begin(ctx context.Context) (*Tx, error) {
	if pool := c.db.SQL(); c.pool != pool {
		c.Close()
		c.pool = pool
	}
	if c.conn == nil {
		conn, err := c.pool.Conn(ctx)
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	tx, err := c.conn.BeginTx(ctx, nil)
	if errors.Is(err, sql.ErrConnDone) { // a statement found it broken
		c.Close()
		return c.Begin(ctx)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Tx{Tx: tx, db: c.db}, nil
}

// Close returns c's connection to its pool; the next Begin takes one again.
func (c *Conn) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := tx.db.Prepared(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, q, args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := tx.db.Prepared(q); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a query returning at most one row in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := tx.db.Prepared(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, q, args...)
}

// Short returns the context for statements that are short by
// construction: reads and writes of a few rows by key, such as the call
// path's. On SQLite it is ctx without its cancellation: such a statement
// does not run long, its wait for the write lock is bounded by the busy
// timeout (readers of a WAL database never wait), and the driver would
// watch a cancellable context with a goroutine per statement, which costs
// more than the statement. On PostgreSQL it is ctx: a server that stops
// answering must not hold the caller.
func (db *DB) Short(ctx context.Context) context.Context {
	if db.dialect == SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Placeholders returns the placeholders of rows rows of cols values each,
// "(?, ?), (?, ?)", for a multi-row VALUES list or (one row) an IN list.
func Placeholders(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return one + strings.Repeat(", "+one, rows-1)
}
