package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// namesInFile reads the things in the SQLite file at path with a
// connection of its own, as the next process to open it would.
func namesInFile(t *testing.T, path string) []string {
	t.Helper()
	file, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rows, err := file.Query(`SELECT name FROM things ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// TestWritesRefusedWhileFileRemoved (SQLite only: PostgreSQL has no file):
// with the database file deleted, every way of writing through the pool
// fails with ErrUnavailable instead of writing the deleted file's open
// descriptor, while reads go on serving what the pool had open. When a
// file is put at the path again — here an empty one, as if restored from
// nothing — the next write reopens the pool on it, applies the migrations
// again, and lands in that file.
func TestWritesRefusedWhileFileRemoved(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLite(t)
	db := storetest.Open(t, path)
	if err := db.Migrate(ctx, "things", migrations); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 1)`, "before"); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}

	_, err := db.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 2)`, "exec while gone")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ExecContext INSERT with the file gone: %v, want ErrUnavailable", err)
	}
	var id int64
	err = db.QueryRowContext(ctx, `INSERT INTO things (name, at) VALUES (?, 2) RETURNING id`, "returning while gone").Scan(&id)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("QueryRowContext INSERT … RETURNING with the file gone: %v, want ErrUnavailable", err)
	}
	if rows, err := db.QueryContext(ctx, `  update things SET at = 3 RETURNING id`); !errors.Is(err, store.ErrUnavailable) {
		if err == nil {
			rows.Close()
		}
		t.Errorf("QueryContext UPDATE … RETURNING with the file gone: %v, want ErrUnavailable", err)
	}
	if tx, err := db.Begin(ctx); !errors.Is(err, store.ErrUnavailable) {
		if err == nil {
			tx.Rollback()
		}
		t.Errorf("Begin with the file gone: %v, want ErrUnavailable", err)
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT name FROM things`).Scan(&name); err != nil || name != "before" {
		t.Errorf("a read with the file gone: %q, %v; want the data the pool had open", name, err)
	}

	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 4)`, "after"); err != nil {
		t.Fatalf("a write once a file is back at the path: %v", err)
	}
	if got := namesInFile(t, path); !slices.Equal(got, []string{"after"}) {
		t.Errorf("the file at the path holds %q, want [after]", got)
	}
	if err := db.Writable(); err != nil {
		t.Errorf("Writable after the reopen: %v", err)
	}
}

// TestCommitRefusedWhenFileReplaced (SQLite only): a transaction begun
// on the file at the path, which is replaced by a copy before it commits,
// fails to commit with ErrUnavailable: its writes went to the old file.
// The next transaction writes the copy now at the path.
func TestCommitRefusedWhenFileReplaced(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLite(t)
	db := storetest.Open(t, path)
	if err := db.Migrate(ctx, "things", migrations); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 1)`, "before"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 2)`, "in the old file"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`VACUUM INTO ?`, path+".copy"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := os.Rename(path+".copy", path); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Commit after the file was replaced: %v, want ErrUnavailable", err)
	}

	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin on the copy: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO things (name, at) VALUES (?, 3)`, "in the copy"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit on the copy: %v", err)
	}
	if got := namesInFile(t, path); !slices.Equal(got, []string{"before", "in the copy"}) {
		t.Errorf("the file at the path holds %q, want [before, in the copy]", got)
	}
}
