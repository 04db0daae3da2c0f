package schedules

import (
	"context"
	"database/sql"
	"embed"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the tables schedules owns, overrides and
// override_generation, after the audit log its changes write to.
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "schedules", migrations)
}

// Store keeps run-time overrides, each change audited in its transaction
// (audit.Record). Times are stored as Unix
// milliseconds in UTC, so override bounds are kept to the millisecond.
type Store struct {
	db  *store.DB
	now func() time.Time
	loc *time.Location // the zone of the times in audit details; UTC unless InZone
}

// NewStore returns a Store over a migrated db; now stamps audit entries and
// overrides' CreatedAt.
func NewStore(db *store.DB, now func() time.Time) *Store {
	return &Store{db: db, now: now, loc: time.UTC}
}

// Directory is what AddOverride checks names against, usually the config.
type Directory interface {
	HasEngineer(id string) bool
	HasRotation(id string) bool
}

// execer is a *store.DB or *store.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// toMillis and fromMillis are the store's one time encoding.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// InZone makes the audit details' times read in loc (hotline.timezone),
// with its offset, and returns s.
func (s *Store) InZone(loc *time.Location) *Store {
	if loc != nil {
		s.loc = loc
	}
	return s
}
