// Package alert takes alerts from machines: integrations (a team and a
// secret each), POST /api/v1/alerts in hotline's own JSON, and Prometheus
// Alertmanager's webhook (Grafana's webhook contact point sends the same
// shape). An alert is an incident of kind alert, paged like a voicemail
// until someone acknowledges it.
package alert

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the integrations table.
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "alert", migrations)
}

// Audit actions of integrations.
const (
	ActionIntegrationAdd    = "integration.add"
	ActionIntegrationRemove = "integration.rm"
)

// ErrUnknownSecret means no integration has the secret given.
var ErrUnknownSecret = errors.New("alert: unknown integration secret")

// Integration is a machine allowed to raise alerts for a team.
type Integration struct {
	ID        int64
	Name      string
	Team      string
	CreatedAt time.Time
	CreatedBy string
}

// Integrations stores integrations; each change is audited in its
// transaction.
type Integrations struct {
	db  *store.DB
	now func() time.Time
}

// NewIntegrations returns the integration store over a migrated db.
func NewIntegrations(db *store.DB, now func() time.Time) *Integrations {
	return &Integrations{db: db, now: now}
}

// secretBytes is a secret's entropy: 32 random bytes.
const secretBytes = 32

// Add makes an integration for team named name and returns it with its
// secret, to be shown once: only its hash is kept.
func (s *Integrations) Add(ctx context.Context, team, name, actor string) (Integration, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case team == "":
		return Integration{}, "", problem.Invalidf("the team is required")
	case name == "" || len(name) > 100:
		return Integration{}, "", problem.Invalidf("the name is required, at most 100 bytes")
	case actor == "":
		return Integration{}, "", problem.Invalidf("the audit log needs an actor")
	}
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return Integration{}, "", fmt.Errorf("alert: add integration: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	in := Integration{Name: name, Team: team, CreatedAt: s.now().Truncate(time.Millisecond).UTC(), CreatedBy: actor}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		const insert = `INSERT INTO integrations (name, team, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id`
		if err := tx.QueryRowContext(ctx, insert, name, team, hash(secret), in.CreatedAt.UnixMilli(), actor).Scan(&in.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, in.CreatedAt, actor, ActionIntegrationAdd, fmt.Sprintf("integration %d %q for team %s", in.ID, name, team))
	})
	if err != nil {
		return Integration{}, "", fmt.Errorf("alert: add integration: %w", err)
	}
	return in, secret, nil
}

// List returns the integrations, oldest first.
func (s *Integrations) List(ctx context.Context) ([]Integration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, team, created_at, created_by FROM integrations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("alert: list integrations: %w", err)
	}
	defer rows.Close()
	var out []Integration
	for rows.Next() {
		var in Integration
		var at int64
		if err := rows.Scan(&in.ID, &in.Name, &in.Team, &at, &in.CreatedBy); err != nil {
			return nil, fmt.Errorf("alert: list integrations: %w", err)
		}
		in.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, in)
	}
	return out, rows.Err()
}

// Remove deletes integration id; its secret stops working at once. One
// that does not exist is a problem.NotFound error.
func (s *Integrations) Remove(ctx context.Context, id int64, actor string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return problem.NotFoundf("no integration %d", id)
		}
		return audit.Record(ctx, tx, s.now(), actor, ActionIntegrationRemove, fmt.Sprintf("integration %d", id))
	})
	if err != nil {
		return fmt.Errorf("alert: remove integration %d: %w", id, err)
	}
	return nil
}

// Authenticate returns the integration whose secret this is, or
// ErrUnknownSecret. The secret is looked up by its hash, so its text is
// never compared byte by byte.
func (s *Integrations) Authenticate(ctx context.Context, secret string) (Integration, error) {
	if secret == "" || len(secret) > 200 {
		return Integration{}, ErrUnknownSecret
	}
	var in Integration
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, team, created_at, created_by FROM integrations WHERE secret_hash = ?`, hash(secret)).
		Scan(&in.ID, &in.Name, &in.Team, &at, &in.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, ErrUnknownSecret
	}
	if err != nil {
		return Integration{}, fmt.Errorf("alert: authenticate: %w", err)
	}
	in.CreatedAt = time.UnixMilli(at).UTC()
	return in, nil
}

// hash is how a secret is stored and looked up.
func hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
