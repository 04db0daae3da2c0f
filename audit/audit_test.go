package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestRecordFollowsItsTransaction: an entry written in a transaction that
// rolls back is gone with it; committed ones list newest first, limited.
func TestRecordFollowsItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
		refused := errors.New("the change failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := Record(ctx, tx, at, "web:ann", "override.add", "lost"); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("InTx = %v", err)
		}
		for i, detail := range []string{"first", "second"} {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return Record(ctx, tx, at.Add(time.Duration(i)*time.Minute), "cli:root", "user.add", detail)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		log := NewLog(db)
		all, err := log.List(ctx, 0)
		if err != nil || len(all) != 2 || all[0].Detail != "second" || all[1].Detail != "first" || !all[1].At.Equal(at) || all[0].Actor != "cli:root" {
			t.Fatalf("List = %+v, %v; want second then first, the rolled-back entry gone", all, err)
		}
		if one, _ := log.List(ctx, 1); len(one) != 1 || one[0].ID != all[0].ID {
			t.Errorf("List(1) = %+v; want the newest only", one)
		}
	})
}

// TestMigrateKeepsAnOlderLog: a database whose audit_log an older hotline
// made (in the schedules migrations) keeps its entries when this package's
// migration runs.
func TestMigrateKeepsAnOlderLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		older := `CREATE TABLE audit_log (id BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')`
		if _, err := db.ExecContext(ctx, older); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, detail) VALUES (1, 0, 'web:ann', 'override.add', 'kept')`); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate over an older audit_log: %v", err)
		}
		if all, err := NewLog(db).List(ctx, 0); err != nil || len(all) != 1 || all[0].Detail != "kept" {
			t.Errorf("List = %+v, %v; want the older entry kept", all, err)
		}
	})
}
