package store

import (
	"strconv"
	"strings"
)

// Dialect names the SQL a database speaks. Its value is also the directory
// of that dialect's migrations inside each package's migrations.
type Dialect string

// The databases hotline runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Dialect returns the SQL dialect of the database, for the few statements
// that cannot be written once for both (query hints, row locks, pragmas).
func (db *DB) Dialect() Dialect { return db.dialect }

// IsPostgres reports whether dsn is a PostgreSQL URL rather than a SQLite
// file path.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// String names the database for logs and messages: the SQLite path, or the
// PostgreSQL URL without its password.
func (db *DB) String() string {
	if db.dialect == Postgres {
		return redact(db.url)
	}
	return db.Path
}

// rebind rewrites the `?` placeholders of q as PostgreSQL's $1, $2, …,
// leaving question marks inside string literals, quoted identifiers and
// comments alone. Every query hotline writes uses `?`, so one text serves
// SQLite and PostgreSQL.
func rebind(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := closing(q, i+1, c)
			b.WriteString(q[i:end])
			i = end - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				end = len(q) - i - 4
			}
			b.WriteString(q[i : i+end+4])
			i += end + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// closing returns the index just past the quote that closes a literal
// opened before from; a doubled quote is an escaped one.
func closing(q string, from int, quote byte) int {
	for i := from; i < len(q); i++ {
		if q[i] == quote {
			if i+1 < len(q) && q[i+1] == quote {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(q)
}
