// Package web serves managers: the call log and incident pages, the live
// view and its event stream, schedules, announcements, the JSON API,
// sign-in and sessions.
package web

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the web tables (users, sessions).
func Migrate(ctx context.Context, db *store.DB) error {
	return audit.MigrateFirst(ctx, db, "web", migrations)
}

// Roles.
const (
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

// Errors of the user store.
var (
	ErrBadLogin = errors.New("web: wrong user name or password")
	// errNoAccount is ErrBadLogin for a name no account has, so the log
	// can leave out what was typed (it may be a password).
	errNoAccount = fmt.Errorf("%w (no such account)", ErrBadLogin)
)

// User is a web account.
type User struct {
	ID   int64
	Name string
	Role string
}

// Users stores web accounts with bcrypt password hashes.
type Users struct {
	db  *store.DB
	now func() time.Time
}

// NewUsers returns the account store.
func NewUsers(db *store.DB, now func() time.Time) *Users { return &Users{db: db, now: now} }

var userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// AddUser creates an account, or replaces the password and role of an
// existing one and ends every session it had: whoever had signed in with
// the old password must sign in again. The change is in the audit log under
// actor, written in its transaction.
func (u *Users) AddUser(ctx context.Context, name, role, password, actor string) error {
	return u.saveUser(ctx, name, role, password, "", actor)
}

// saveUser is AddUser keeping one session alive, the one of keepToken
// (the admin's own, when changing their own password).
func (u *Users) saveUser(ctx context.Context, name, role, password, keepToken, actor string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("web: user: %w", problem.Invalidf("name %q: use 1-64 letters, digits, '.', '_', '@' or '-'", name))
	}
	if role != RoleManager && role != RoleAdmin {
		return fmt.Errorf("web: user: %w", problem.Invalidf("role %q: must be manager or admin", role))
	}
	if len(password) < 8 {
		return fmt.Errorf("web: user: %w", problem.Invalidf("password must be at least 8 characters"))
	}
	if len(password) > 72 {
		return fmt.Errorf("web: user: %w", problem.Invalidf("password must be at most 72 bytes"))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("web: hash password: %w", err)
	}
	const upsert = `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash`
	const endSessions = `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?) AND token_hash <> ?`
	now := u.now()
	err = u.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, upsert, name, role, string(hash), now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, endSessions, name, hashToken(keepToken)); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return audit.Record(ctx, tx, now, actor, ActionUserAdd, name+" as "+role)
	})
	if err != nil {
		return fmt.Errorf("web: add user %s: %w", name, err)
	}
	return nil
}

// Authenticate checks a name and password.
func (u *Users) Authenticate(ctx context.Context, name, password string) (User, error) {
	var usr User
	var hash string
	err := u.db.QueryRowContext(ctx, `SELECT id, name, role, password_hash FROM users WHERE name = ?`, name).
		Scan(&usr.ID, &usr.Name, &usr.Role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so names cannot be probed.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, errNoAccount
	}
	if err != nil {
		return User{}, fmt.Errorf("web: authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, ErrBadLogin
	}
	return usr, nil
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)
	return h
})

// Account is a user as the users page lists it.
type Account struct {
	User
	Created time.Time
}

// ListUsers returns every account by name.
func (u *Users) ListUsers(ctx context.Context) ([]Account, error) {
	rows, err := u.db.QueryContext(ctx, `SELECT id, name, role, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("web: list users: %w", err)
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		var a Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Role, &created); err != nil {
			return nil, fmt.Errorf("web: list users: %w", err)
		}
		a.Created = time.UnixMilli(created).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
