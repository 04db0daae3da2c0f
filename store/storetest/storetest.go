// Package storetest runs database tests on every database hotline
// supports: a fresh SQLite file always, and a fresh PostgreSQL schema when
// HOTLINE_TEST_POSTGRES names a database, e.g.
//
//	HOTLINE_TEST_POSTGRES='postgres://root@127.0.0.1:5432/test?sslmode=disable' go test ./...
//
// Without the variable the PostgreSQL runs are skipped with a message; in
// CI (CI=true) they fail instead, so a CI that lost its database notices.
// With -short they are skipped whatever the variable says: CI's race pass
// runs that way, after a full pass has run them.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema set-up

	"github.com/hotline-dev/hotline/store"
)

// Env is the variable naming the PostgreSQL database tests may use. Each
// test gets a schema of its own in it, dropped when the test ends.
const Env = "HOTLINE_TEST_POSTGRES"

// Each runs fn as two subtests: "sqlite" with the path of a new SQLite file
// under t.TempDir(), and "postgres" with the URL of a new, empty schema in
// the HOTLINE_TEST_POSTGRES database. Either DSN is what `--db` and
// store.Open take.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns the path of a new SQLite database file under t.TempDir().
func SQLite(t testing.TB) string {
	return filepath.Join(t.TempDir(), "hotline.db")
}

// Postgres returns the URL of a new, empty schema in the
// HOTLINE_TEST_POSTGRES database, dropped with everything in it when the
// test ends. It skips the test with -short or when the variable is unset,
// and fails it when it is unset in CI or the server does not answer.
func Postgres(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("PostgreSQL run skipped with -short")
	}
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI runs every database test on PostgreSQL too (.ci/run sets it when a server answers on 127.0.0.1:5432)", Env)
		}
		t.Skipf("PostgreSQL run skipped: set %s=postgres://user@host:5432/db?sslmode=disable to run it", Env)
	}
	u, err := url.Parse(base)
	if err != nil || !store.IsPostgres(base) {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	defer admin.Close()
	var raw [6]byte
	rand.Read(raw[:])
	schema := "hotline_test_" + hex.EncodeToString(raw[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("PostgreSQL at %s: create schema: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens the database at dsn (from Each, SQLite or Postgres) and
// closes it when the test ends. It applies no migrations: each package
// migrates its own tables.
func Open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
