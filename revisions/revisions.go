// Package revisions is the history of the configs hotline has served: each
// revision (the SHA-256 of the file) once, with the file's bytes, and when
// each instance served it, from its start or the SIGHUP that brought it in
// until it moved on. A reload refused for an invalid file goes to the
// audit log. The /config page and GET /api/v1/config/revisions read it.
package revisions

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates the revision tables (and the audit log, which refused
// reloads are written to).
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "revisions", migrations)
}

// ActionRefused is the audit action of a reload refused for an invalid
// (or unreadable) file.
const ActionRefused = "config.refused"

// Beat is how often a serving instance records that its revision is still
// live; LiveWithin is how recent its last beat must be for the revision to
// count as live now (a crashed instance stops beating).
const (
	Beat       = time.Minute
	LiveWithin = 3 * Beat
)

// Revision is one config hotline served: when it was first and last live
// on any instance, and on which.
type Revision struct {
	Revision  string // hex SHA-256 of the file
	FirstLive time.Time
	LastLive  time.Time
	Live      bool // an instance serves it now
	Instances []Instance
}

// Instance is when one instance served a revision.
type Instance struct {
	Name      string
	FirstLive time.Time
	LastLive  time.Time
	Live      bool
}

// Store keeps the revisions.
type Store struct {
	db  *store.DB
	now func() time.Time
}

// New returns the revision store of db.
func New(db *store.DB, now func() time.Time) *Store { return &Store{db: db, now: now} }

// InstanceName names this process in the history: the host's name and the
// port it listens on (addr, as net.Listen gave it), e.g. "web-1:8080", so
// a restart of the same instance continues its own record.
func InstanceName(addr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return host + ":" + port
	}
	return host + ":" + addr
}

// Live records that instance serves the config whose file is text (its
// revision revision) from now: the revision and its text once, the
// instance's span of it started, or extended to now. Any other revision
// the instance was serving is live no more: one it beat for recently was
// live until now. serve calls it at start, on each accepted reload and
// every Beat, so a database that was unavailable at start still gets the
// record.
func (s *Store) Live(ctx context.Context, instance, revision string, text []byte) error {
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO config_revisions (revision, text, first_seen) VALUES (?, ?, ?)
			ON CONFLICT (revision) DO NOTHING`, revision, text, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE config_live SET live = 0,
			last_live = CASE WHEN last_live >= ? THEN ? ELSE last_live END
			WHERE instance = ? AND live = 1 AND revision <> ?`,
			now-LiveWithin.Milliseconds(), now, instance, revision); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO config_live (revision, instance, first_live, last_live, live) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (revision, instance) DO UPDATE SET last_live = excluded.last_live, live = 1`, revision, instance, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("revisions: live %.12s on %s: %w", revision, instance, err)
	}
	return nil
}

// Stopped records that instance stops serving revision now (a clean
// shutdown).
func (s *Store) Stopped(ctx context.Context, instance, revision string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE config_live SET live = 0, last_live = ? WHERE revision = ? AND instance = ? AND live = 1`,
		s.now().UnixMilli(), revision, instance)
	if err != nil {
		return fmt.Errorf("revisions: stopped %.12s on %s: %w", revision, instance, err)
	}
	return nil
}

// Refused writes the audit entry of a reload refused on instance: the
// file at path, of revision revision ("" when it could not be read), and
// why, every config error on one line.
func (s *Store) Refused(ctx context.Context, instance, path, revision string, why error) error {
	detail := path + " (unreadable)"
	if revision != "" {
		detail = fmt.Sprintf("revision %.12s (%s)", revision, path)
	}
	detail += " refused, the running config kept: " + strings.ReplaceAll(why.Error(), "\n", "; ")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, s.now(), "hotline:"+instance, ActionRefused, detail)
	})
	if err != nil {
		return fmt.Errorf("revisions: refused %.12s: %w", revision, err)
	}
	return nil
}

// List returns every revision, the newest first (by when it was first
// live), each with its instances, the most recently live first.
func (s *Store) List(ctx context.Context) ([]Revision, error) {
	const q = `SELECT revision, instance, first_live, last_live, live FROM config_live ORDER BY revision, last_live DESC, instance`
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("revisions: list: %w", err)
	}
	defer rows.Close()
	since := s.now().Add(-LiveWithin)
	var out []Revision
	for rows.Next() {
		var rev string
		var first, last int64
		var live int
		var in Instance
		if err := rows.Scan(&rev, &in.Name, &first, &last, &live); err != nil {
			return nil, fmt.Errorf("revisions: list: %w", err)
		}
		in.FirstLive, in.LastLive = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		in.Live = live == 1 && !in.LastLive.Before(since)
		if len(out) == 0 || out[len(out)-1].Revision != rev {
			out = append(out, Revision{Revision: rev, FirstLive: in.FirstLive, LastLive: in.LastLive})
		}
		r := &out[len(out)-1]
		if in.FirstLive.Before(r.FirstLive) {
			r.FirstLive = in.FirstLive
		}
		if in.LastLive.After(r.LastLive) {
			r.LastLive = in.LastLive
		}
		r.Live = r.Live || in.Live
		r.Instances = append(r.Instances, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revisions: list: %w", err)
	}
	slices.SortFunc(out, func(a, b Revision) int {
		return cmp.Or(b.FirstLive.Compare(a.FirstLive), strings.Compare(a.Revision, b.Revision))
	})
	return out, nil
}

// Text returns the file of a revision, byte for byte; a revision never
// recorded is a problem.NotFound.
func (s *Store) Text(ctx context.Context, revision string) ([]byte, error) {
	var text []byte
	err := s.db.QueryRowContext(ctx, `SELECT text FROM config_revisions WHERE revision = ?`, revision).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, problem.NotFoundf("no config revision %.12s is recorded", revision)
	}
	if err != nil {
		return nil, fmt.Errorf("revisions: text of %.12s: %w", revision, err)
	}
	return text, nil
}
