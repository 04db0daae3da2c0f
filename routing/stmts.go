package routing

import (
	"context"
	"database/sql"
	"sync"

	"github.com/hotline-dev/hotline/store"
)

// stmtCache keeps the call path's statements prepared: SQLite spends more
// time parsing a short statement than running it. It follows the database's
// pool, which is replaced when a restored file is reopened.
type stmtCache struct {
	mu   sync.Mutex
	pool *sql.DB
	m    map[string]*sql.Stmt
}

// get returns the prepared statement for q, or false the first time q is
// seen: it is then prepared in the background, because preparing needs a
// connection of its own and the caller holds one inside a transaction.
func (c *stmtCache) get(db *store.DB, q string) (*sql.Stmt, bool) {
	pool := db.SQL()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != pool {
		c.pool, c.m = pool, map[string]*sql.Stmt{}
	}
	if st, ok := c.m[q]; ok {
		return st, st != nil
	}
	c.m[q] = nil // being prepared
	go func() {
		st, err := pool.PrepareContext(context.Background(), q)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.pool == pool && err == nil {
			c.m[q] = st
		} else {
			delete(c.m, q)
		}
	}()
	return nil, false
}

// txRunner runs prepared statements inside one transaction.
type txRunner struct {
	ctx   context.Context
	tx    *sql.Tx
	db    *store.DB
	cache *stmtCache
}

func (r txRunner) exec(q string, args ...any) (sql.Result, error) {
	st, ok := r.cache.get(r.db, q)
	if !ok {
		return r.tx.ExecContext(r.ctx, q, args...)
	}
	return r.tx.StmtContext(r.ctx, st).ExecContext(r.ctx, args...)
}

func (r txRunner) queryRow(q string, args ...any) *sql.Row {
	st, ok := r.cache.get(r.db, q)
	if !ok {
		return r.tx.QueryRowContext(r.ctx, q, args...)
	}
	return r.tx.StmtContext(r.ctx, st).QueryRowContext(r.ctx, args...)
}
