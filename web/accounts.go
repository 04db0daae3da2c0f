package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

// The audit actions of account changes, on the users page or with
// hotline user.
const (
	ActionUserAdd     = "user.add"
	ActionUserUpdate  = "user.update"
	ActionUserRemove  = "user.remove"
	ActionUserDisable = "user.disable"
	ActionUserEnable  = "user.enable"
)

// errNoSuchAccount marks the problem.NotFound of a name no account has.
var errNoSuchAccount = errors.New("web: no such account")

// account is an account's row as a change finds it.
type account struct {
	ID       int64
	Name     string
	Role     string
	Disabled bool
}

// enabledAdmin reports whether a is an admin who may sign in.
func (a account) enabledAdmin() bool { return a.Role == RoleAdmin && !a.Disabled }

// lockAccount reads the account called name inside tx. On PostgreSQL it
// first locks every enabled admin's row, so two changes that would each
// leave one admin cannot both pass keepAnAdmin; SQLite's write
// transactions (BEGIN IMMEDIATE) already run one at a time.
func lockAccount(ctx context.Context, tx *store.Tx, dialect store.Dialect, name string) (account, error) {
	if dialect == store.Postgres {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE`)
		if err != nil {
			return account{}, fmt.Errorf("lock admins: %w", err)
		}
		if err := rows.Close(); err != nil {
			return account{}, fmt.Errorf("lock admins: %w", err)
		}
	}
	var a account
	err := tx.QueryRowContext(ctx, `SELECT id, name, role, disabled_at IS NOT NULL FROM users WHERE name = ?`, name).
		Scan(&a.ID, &a.Name, &a.Role, &a.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, fmt.Errorf("%w: %w", errNoSuchAccount, problem.NotFoundf("no account is named %q", name))
	}
	if err != nil {
		return account{}, fmt.Errorf("read account: %w", err)
	}
	return a, nil
}

// keepAnAdmin refuses, after a change to the account that was before,
// to leave no enabled admin when before was one: only an admin manages
// accounts on /users, so without one every further change would need
// shell access to the server. A database that never had an admin (the
// demo's, or one whose accounts came from the command line) is not held
// to it.
func keepAnAdmin(ctx context.Context, tx *store.Tx, before account) error {
	if !before.enabledAdmin() {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL`).Scan(&n); err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return problem.Invalidf("%s is the last enabled admin, and only an admin can manage accounts: make another admin first", before.Name)
	}
	return nil
}

// RemoveUser deletes the account called name and, with it, every session
// it had: its next request, page or API, is signed out. The audit log keeps
// what it did under its name. Removing the last enabled admin is refused
// (keepAnAdmin). Audited under actor.
func (u *Users) RemoveUser(ctx context.Context, name, actor string) error {
	return u.change(ctx, name, actor, ActionUserRemove, func(tx *store.Tx, a account) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, a.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, a.ID)
		return err
	})
}

// DisableUser stops the account called name from signing in, on the form
// or the API, and ends every session it had; its password and its place in
// the audit log are kept for EnableUser. Disabling the last enabled admin
// is refused (keepAnAdmin). Disabling a disabled account changes nothing
// but is audited. Audited under actor.
func (u *Users) DisableUser(ctx context.Context, name, actor string) error {
	return u.change(ctx, name, actor, ActionUserDisable, func(tx *store.Tx, a account) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, a.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`, u.now().UnixMilli(), a.ID)
		return err
	})
}

// EnableUser lets a disabled account sign in again with its old password.
// Audited under actor.
func (u *Users) EnableUser(ctx context.Context, name, actor string) error {
	return u.change(ctx, name, actor, ActionUserEnable, func(tx *store.Tx, a account) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE id = ?`, a.ID)
		return err
	})
}

// change runs apply on the account called name in one transaction with its
// audit entry, refused when it would leave no enabled admin.
func (u *Users) change(ctx context.Context, name, actor, action string, apply func(*store.Tx, account) error) error {
	now := u.now()
	err := u.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := lockAccount(ctx, tx, u.db.Dialect(), name)
		if err != nil {
			return err
		}
		if err := apply(tx, a); err != nil {
			return err
		}
		if err := keepAnAdmin(ctx, tx, a); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, action, a.Name)
	})
	if err != nil {
		return fmt.Errorf("web: %s %s: %w", action, name, err)
	}
	return nil
}
