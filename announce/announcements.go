package announce

import (
	"context"
	"embed"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates the announcements table, or finds it made by the
// incident migrations of an older hotline.
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "announce", migrations)
}

// MaxAnnouncement is the longest message, in characters: about a minute of
// speech, which is already a lot for a caller to sit through.
const MaxAnnouncement = 600

// Announcement is a message spoken to every caller after the greeting while
// it is active, e.g. "We are aware of the outage in us-east".
type Announcement struct {
	ID        int64     `json:"id"`
	Message   string    `json:"message"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Audit actions of announcements.
const (
	ActionAnnouncementAdd    = "announcement.add"
	ActionAnnouncementExpire = "announcement.expire"
)

// Announcements stores announcements; each change is in the audit log,
// written in its transaction.
type Announcements struct {
	db  *store.DB
	now func() time.Time
	loc *time.Location // the zone of the times in audit details and refusals; UTC unless InZone
}

// NewAnnouncements returns the announcement store.
func NewAnnouncements(db *store.DB, now func() time.Time) *Announcements {
	return &Announcements{db: db, now: now, loc: time.UTC}
}

// AddAnnouncement posts a message active from now until a.EndsAt. A
// message that is empty or too long, or an end not in the future, is a
// problem.Invalid error and posts nothing.
func (s *Announcements) AddAnnouncement(ctx context.Context, message string, until time.Time, actor string) (Announcement, error) {
	message = strings.Join(strings.Fields(message), " ")
	now := s.now()
	switch {
	case message == "":
		return Announcement{}, fmt.Errorf("announce: add announcement: %w", problem.Invalidf("the message is empty"))
	case utf8.RuneCountInString(message) > MaxAnnouncement:
		return Announcement{}, fmt.Errorf("announce: add announcement: %w", problem.Invalidf("the message is over %d characters", MaxAnnouncement))
	case !until.After(now):
		return Announcement{}, fmt.Errorf("announce: add announcement: %w", problem.Invalidf("the end time %s is not in the future", until.In(s.loc).Format(time.RFC3339)))
	}
	a := Announcement{Message: message, StartsAt: now, EndsAt: until, CreatedBy: actor, CreatedAt: now}
	const insert = `INSERT INTO announcements (message, starts_at, ends_at, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, insert, a.Message, a.StartsAt.UnixMilli(), a.EndsAt.UnixMilli(), a.CreatedBy, a.CreatedAt.UnixMilli()).Scan(&a.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, ActionAnnouncementAdd, fmt.Sprintf("#%d until %s: %s", a.ID, until.In(s.loc).Format(time.RFC3339), message))
	})
	if err != nil {
		return Announcement{}, fmt.Errorf("announce: add announcement: %w", err)
	}
	return a, nil
}

// ExpireAnnouncement ends an announcement now; one that does not exist or
// is over already is a problem.NotFound error.
func (s *Announcements) ExpireAnnouncement(ctx context.Context, id int64, actor string) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE announcements SET ends_at = ? WHERE id = ? AND ends_at > ?`, now.UnixMilli(), id, now.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return problem.NotFoundf("no active announcement %d", id)
		}
		return audit.Record(ctx, tx, now, actor, ActionAnnouncementExpire, fmt.Sprintf("#%d", id))
	})
	if err != nil {
		return fmt.Errorf("announce: expire announcement %d: %w", id, err)
	}
	return nil
}

// ActiveAnnouncements returns the announcements active at t, oldest first.
// It is read on every call: a few rows at most, found by index.
func (s *Announcements) ActiveAnnouncements(ctx context.Context, t time.Time) ([]Announcement, error) {
	return s.list(s.db.Short(ctx), `WHERE starts_at <= ? AND ends_at > ? ORDER BY id`, t.UnixMilli(), t.UnixMilli())
}

// ListAnnouncements returns the newest announcements, active or not.
func (s *Announcements) ListAnnouncements(ctx context.Context, limit int) ([]Announcement, error) {
	return s.list(ctx, `ORDER BY id DESC LIMIT ?`, limit)
}

func (s *Announcements) list(ctx context.Context, where string, args ...any) ([]Announcement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, message, starts_at, ends_at, created_by, created_at FROM announcements `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("announce: list announcements: %w", err)
	}
	defer rows.Close()
	out := []Announcement{}
	for rows.Next() {
		var a Announcement
		var starts, ends, created int64
		if err := rows.Scan(&a.ID, &a.Message, &starts, &ends, &a.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("announce: list announcements: %w", err)
		}
		a.StartsAt, a.EndsAt, a.CreatedAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC(), time.UnixMilli(created).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// InZone makes the times of audit details and refusals read in loc
// (hotline.timezone), with its offset, and returns a.
func (a *Announcements) InZone(loc *time.Location) *Announcements {
	if loc != nil {
		a.loc = loc
	}
	return a
}
