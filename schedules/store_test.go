package schedules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// isInvalid reports whether err is a refusal of the input.
func isInvalid(err error) bool {
	_, ok := problem.Of(err, problem.Invalid)
	return ok
}

// dir is a fixed Directory for tests.
type dir struct{ engineers, rotations []string }

func (d dir) HasEngineer(id string) bool { return contains(d.engineers, id) }
func (d dir) HasRotation(id string) bool { return contains(d.rotations, id) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

var names = dir{engineers: []string{"alice", "bob"}, rotations: []string{"ops-primary"}}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newStore opens and migrates the database at dsn (see storetest.Each).
func newStore(t *testing.T, dsn string) (*Store, *store.DB, *clock) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	// Migrating twice is a no-op.
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, time.November, 1, 12, 0, 0, 0, time.UTC)}
	return NewStore(db, c.now), db, c
}

// counts returns the number of override and audit rows.
func counts(t *testing.T, db *store.DB) (overrides, audit int) {
	t.Helper()
	ctx := context.Background()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM overrides`).Scan(&overrides); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log`).Scan(&audit); err != nil {
		t.Fatal(err)
	}
	return overrides, audit
}

func TestAddOverrideRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, db, _ := newStore(t, dsn)
		ctx := context.Background()
		from := time.Date(2026, time.November, 2, 9, 0, 0, 0, time.UTC)
		good := Override{Rotation: "ops-primary", Engineer: "bob", From: from, To: from.Add(time.Hour), CreatedBy: "dana"}
		if _, err := s.AddOverride(ctx, good, names); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			change func(o *Override)
			msg    string
		}{
			{"unknown engineer", func(o *Override) { o.Engineer = "zed" }, `unknown engineer "zed"`},
			{"unknown rotation", func(o *Override) { o.Rotation = "nope" }, `unknown rotation "nope"`},
			{"to equals from", func(o *Override) { o.To = o.From }, "to 2026-11-02T09:00:00Z is not after from 2026-11-02T09:00:00Z"},
			{"to before from", func(o *Override) { o.To = o.From.Add(-time.Minute) }, "is not after from"},
			{"under a millisecond", func(o *Override) { o.To = o.From.Add(time.Microsecond) }, "is not after from"},
			{"no actor", func(o *Override) { o.CreatedBy = "" }, "created_by is required"},
			{"no engineer", func(o *Override) { o.Engineer = "" }, "engineer is required"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := good
				tt.change(&o)
				beforeRows, beforeAudit := counts(t, db)
				gen, _ := s.Generation(ctx)
				_, err := s.AddOverride(ctx, o, names)
				if msg, ok := problem.Of(err, problem.Invalid); !ok || strings.HasPrefix(msg, "schedules") || !strings.Contains(msg, tt.msg) {
					t.Errorf("AddOverride = %v; want problem.Invalid saying %q", err, tt.msg)
				}
				afterRows, afterAudit := counts(t, db)
				if afterRows != beforeRows || afterAudit != beforeAudit {
					t.Errorf("a refusal wrote: overrides %d -> %d, audit %d -> %d", beforeRows, afterRows, beforeAudit, afterAudit)
				}
				if g, _ := s.Generation(ctx); g != gen {
					t.Errorf("a refusal moved the generation %d -> %d", gen, g)
				}
			})
		}
	})
}

func TestOverrideLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, db, c := newStore(t, dsn)
		ctx := context.Background()
		ny := zone(t, "America/New_York")
		gen0, err := s.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}

		later := Override{Rotation: "ops-primary", Engineer: "alice",
			From: time.Date(2026, time.November, 5, 9, 0, 0, 0, ny), To: time.Date(2026, time.November, 6, 9, 0, 0, 0, ny),
			CreatedBy: "dana"}
		first := Override{Rotation: "ops-primary", Engineer: "bob",
			From: time.Date(2026, time.November, 2, 9, 0, 0, 123456789, ny), To: time.Date(2026, time.November, 3, 9, 0, 0, 0, ny),
			Reason: "alice at a wedding", CreatedBy: "dana"}
		a, err := s.AddOverride(ctx, later, names)
		if err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Minute)
		b, err := s.AddOverride(ctx, first, names)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || b.ID <= a.ID || !b.CreatedAt.Equal(c.t) {
			t.Errorf("ids %d, %d, created %s; want increasing ids created at %s", a.ID, b.ID, b.CreatedAt, c.t)
		}
		if !b.From.Equal(first.From.Truncate(time.Millisecond)) {
			t.Errorf("From = %s; want it kept to the millisecond", b.From)
		}
		gen1, _ := s.Generation(ctx)
		if gen1 == gen0 {
			t.Error("adding did not move the generation")
		}

		list, err := s.ListOverrides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0] != b || list[1] != a {
			t.Errorf("ListOverrides =\n%+v\nwant by From\n%+v\n%+v", list, b, a)
		}

		c.t = c.t.Add(time.Minute)
		if err := s.RemoveOverride(ctx, a.ID, "erin"); err != nil {
			t.Fatal(err)
		}
		if gen2, _ := s.Generation(ctx); gen2 == gen1 {
			t.Error("removing did not move the generation")
		}
		if err := s.RemoveOverride(ctx, a.ID, "erin"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second removal = %v; want ErrNotFound", err)
		}
		if err := s.RemoveOverride(ctx, 999, "erin"); !errors.Is(err, ErrNotFound) {
			t.Errorf("removal of a missing id = %v; want ErrNotFound", err)
		}
		rows, audits := counts(t, db)
		if rows != 1 || audits != 3 {
			t.Errorf("%d overrides, %d audit rows; want 1 and 3 (failed removals write nothing)", rows, audits)
		}

		auditLog := audit.NewLog(db)
		log, err := auditLog.List(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 3 {
			t.Fatalf("ListAudit = %d entries; want 3", len(log))
		}
		rm := log[0]
		if rm.Action != ActionOverrideRemove || rm.Actor != "erin" || !rm.At.Equal(c.t) ||
			!strings.Contains(rm.Detail, "alice covers ops-primary from 2026-11-05T14:00:00Z") {
			t.Errorf("newest audit entry = %+v; want erin removing alice's override at %s", rm, c.t)
		}
		if add := log[1]; add.Action != ActionOverrideAdd || add.Actor != "dana" || !strings.Contains(add.Detail, "(reason: alice at a wedding)") {
			t.Errorf("second audit entry = %+v; want dana adding bob's override with its reason", add)
		}
		if one, _ := auditLog.List(ctx, 1); len(one) != 1 || one[0].ID != rm.ID {
			t.Errorf("ListAudit(1) = %+v; want the newest entry only", one)
		}
	})
}

// TestOverrideIDsNotReused: an id removed is never handed out again, so
// "override:<id>" in an old incident keeps naming the same override.
func TestOverrideIDsNotReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, _, _ := newStore(t, dsn)
		ctx := context.Background()
		o := Override{Rotation: "ops-primary", Engineer: "bob", From: time.Unix(0, 0), To: time.Unix(3600, 0), CreatedBy: "dana"}
		a, err := s.AddOverride(ctx, o, names)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveOverride(ctx, a.ID, "dana"); err != nil {
			t.Fatal(err)
		}
		b, err := s.AddOverride(ctx, o, names)
		if err != nil {
			t.Fatal(err)
		}
		if b.ID == a.ID {
			t.Errorf("id %d reused", a.ID)
		}
	})
}

func TestStoredOverridesIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, _, c := newStore(t, dsn)
		ctx := context.Background()
		day := time.Date(2026, time.November, 2, 0, 0, 0, 0, time.UTC)
		for _, o := range []Override{
			{Rotation: "ops-primary", Engineer: "alice", From: day, To: day.Add(24 * time.Hour), CreatedBy: "dana"},
			{Rotation: "ops-primary", Engineer: "bob", From: day.Add(6 * time.Hour), To: day.Add(8 * time.Hour), CreatedBy: "dana"},
		} {
			if _, err := s.AddOverride(ctx, o, names); err != nil {
				t.Fatal(err)
			}
			c.t = c.t.Add(time.Second)
		}
		list, err := s.ListOverrides(ctx)
		if err != nil {
			t.Fatal(err)
		}
		idx := NewOverrideIndex(list)
		for at, want := range map[time.Duration]string{5 * time.Hour: "alice", 7 * time.Hour: "bob", 9 * time.Hour: "alice"} {
			if o, _ := idx.At("ops-primary", day.Add(at)); o.Engineer != want {
				t.Errorf("At(+%s) = %q; want %q", at, o.Engineer, want)
			}
		}
	})
}

// TestOverrideChangesAreAtomic: when the audit row cannot be written, the
// override change is rolled back with it.
func TestOverrideChangesAreAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s, db, _ := newStore(t, dsn)
		ctx := context.Background()
		o := Override{Rotation: "ops-primary", Engineer: "bob", From: time.Unix(0, 0), To: time.Unix(3600, 0), CreatedBy: "dana"}
		kept, err := s.AddOverride(ctx, o, names)
		if err != nil {
			t.Fatal(err)
		}
		breakAudit := map[store.Dialect][]string{
			store.SQLite: {`CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit down'); END`},
			store.Postgres: {
				`CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$`,
				`CREATE TRIGGER audit_down BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_down()`,
			},
		}
		for _, q := range breakAudit[db.Dialect()] {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		gen, _ := s.Generation(ctx)
		if _, err := s.AddOverride(ctx, o, names); err == nil || !strings.Contains(err.Error(), "audit down") {
			t.Errorf("AddOverride with the audit log down = %v; want its error", err)
		}
		if err := s.RemoveOverride(ctx, kept.ID, "dana"); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("RemoveOverride with the audit log down = %v; want the audit error", err)
		}
		if err := s.RemoveOverride(ctx, kept.ID, ""); !isInvalid(err) {
			t.Errorf("RemoveOverride without an actor = %v; want problem.Invalid", err)
		}
		if rows, audits := counts(t, db); rows != 1 || audits != 1 {
			t.Errorf("%d overrides, %d audit rows; want the first add only (1, 1)", rows, audits)
		}
		if g, _ := s.Generation(ctx); g != gen {
			t.Errorf("generation moved %d -> %d on rolled back changes", gen, g)
		}
	})
}
