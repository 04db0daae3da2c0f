package announce

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestAnnouncementsAreAudited: a refused announcement writes nothing and
// says why; a posted one is active until its end and audited; expiring it
// is audited; expiring one that is over is NotFound.
func TestAnnouncementsAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
		s := NewAnnouncements(db, func() time.Time { return now })
		for _, c := range []struct {
			message string
			until   time.Time
			says    string
		}{
			{"   ", now.Add(time.Hour), "the message is empty"},
			{strings.Repeat("x", MaxAnnouncement+1), now.Add(time.Hour), "over 600 characters"},
			{"the VPN is down", now, "not in the future"},
		} {
			_, err := s.AddAnnouncement(ctx, c.message, c.until, "web:ann")
			if msg, ok := problem.Of(err, problem.Invalid); !ok || !strings.Contains(msg, c.says) {
				t.Errorf("AddAnnouncement(%.20q) = %v; want a refusal saying %q", c.message, err, c.says)
			}
		}
		a, err := s.AddAnnouncement(ctx, "  We are aware of the   outage. ", now.Add(time.Hour), "web:ann")
		if err != nil || a.Message != "We are aware of the outage." {
			t.Fatalf("AddAnnouncement = %+v, %v", a, err)
		}
		if active, _ := s.ActiveAnnouncements(ctx, now.Add(30*time.Minute)); len(active) != 1 {
			t.Errorf("%d active within the hour, want 1", len(active))
		}
		if active, _ := s.ActiveAnnouncements(ctx, now.Add(2*time.Hour)); len(active) != 0 {
			t.Errorf("%d active after its end, want 0", len(active))
		}
		if err := s.ExpireAnnouncement(ctx, a.ID, "cli:root"); err != nil {
			t.Fatal(err)
		}
		if _, ok := problem.Of(s.ExpireAnnouncement(ctx, a.ID, "cli:root"), problem.NotFound); !ok {
			t.Error("expiring an announcement that is over is not NotFound")
		}
		entries, err := audit.NewLog(db).List(ctx, 0)
		if err != nil || len(entries) != 2 || entries[0].Action != ActionAnnouncementExpire || entries[1].Action != ActionAnnouncementAdd || entries[1].Actor != "web:ann" {
			t.Errorf("audit %+v %v; want the post by web:ann, then the expiry", entries, err)
		}
	})
}

// TestMigrateKeepsOlderAnnouncements: a database whose announcements
// table an older hotline made (in the incident migrations) keeps its rows.
func TestMigrateKeepsOlderAnnouncements(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite(t))
	for _, q := range []string{
		`CREATE TABLE announcements (id INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL, starts_at INTEGER NOT NULL,
			ends_at INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL)`,
		`CREATE INDEX announcements_ends ON announcements (ends_at)`,
		`INSERT INTO announcements (message, starts_at, ends_at, created_by, created_at) VALUES ('kept', 0, 4102444800000, 'web:ann', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate over an older table: %v", err)
	}
	list, err := NewAnnouncements(db, time.Now).ListAnnouncements(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Message != "kept" {
		t.Errorf("ListAnnouncements = %+v, %v; want the older row", list, err)
	}
}
