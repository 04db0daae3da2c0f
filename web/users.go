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
	// errDisabled is ErrBadLogin for a disabled account: the one who signs
	// in is told what a wrong password is told, and the log says why.
	errDisabled = fmt.Errorf("%w (account disabled)", ErrBadLogin)
	// ErrUserExists means AddUser was given the name of an existing
	// account; UpdateUser changes one.
	ErrUserExists = errors.New("web: the account exists")
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

// saveMode says whether saveUser may create an account, change one, or both.
type saveMode int

const (
	createOnly saveMode = iota
	updateOnly
	createOrUpdate
)

// AddUser creates an account; a name an account already has is refused
// with ErrUserExists (a problem.Invalid). The change is in the audit log
// under actor, written in its transaction.
func (u *Users) AddUser(ctx context.Context, name, role, password, actor string) error {
	return u.saveUser(ctx, name, role, password, "", actor, createOnly)
}

// UpdateUser replaces the password and role of an existing account and
// ends every session it had: whoever had signed in with the old password
// must sign in again. A disabled account stays disabled. No such account
// is a problem.NotFound; taking the role away from the last enabled admin
// is a problem.Invalid (see keepAnAdmin). Audited under actor.
func (u *Users) UpdateUser(ctx context.Context, name, role, password, actor string) error {
	return u.saveUser(ctx, name, role, password, "", actor, updateOnly)
}

// saveUser creates or changes an account as mode allows, ending every
// session of a changed one but that of keepToken (the admin's own, when
// changing their own password).
func (u *Users) saveUser(ctx context.Context, name, role, password, keepToken, actor string, mode saveMode) error {
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
	const insert = `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`
	const update = `UPDATE users SET role = ?, password_hash = ? WHERE id = ?`
	const endSessions = `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`
	now := u.now()
	err = u.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := lockAccount(ctx, tx, u.db.Dialect(), name)
		switch {
		case errors.Is(err, errNoSuchAccount) && mode != updateOnly:
			res, err := tx.ExecContext(ctx, insert, name, role, string(hash), now.UnixMilli())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 { // made meanwhile by another instance
				return userExists(name)
			}
			return audit.Record(ctx, tx, now, actor, ActionUserAdd, name+" as "+role)
		case err != nil:
			return err
		case mode == createOnly:
			return userExists(name)
		}
		if _, err := tx.ExecContext(ctx, update, role, string(hash), before.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, endSessions, before.ID, hashToken(keepToken)); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := keepAnAdmin(ctx, tx, before); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, ActionUserUpdate, name+" as "+role)
	})
	if err != nil {
		return fmt.Errorf("web: save user %s: %w", name, err)
	}
	return nil
}

func userExists(name string) error {
	return fmt.Errorf("%w: %w", ErrUserExists, problem.Invalidf("an account named %q exists", name))
}

// Authenticate checks a name and password. A disabled account is refused
// as a wrong password is, after the same work, so a stranger cannot tell
// a disabled account from a wrong password.
func (u *Users) Authenticate(ctx context.Context, name, password string) (User, error) {
	var usr User
	var hash string
	var disabled sql.NullInt64
	err := u.db.QueryRowContext(ctx, `SELECT id, name, role, password_hash, disabled_at FROM users WHERE name = ?`, name).
		Scan(&usr.ID, &usr.Name, &usr.Role, &hash, &disabled)
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
	if disabled.Valid {
		return User{}, errDisabled
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
	Created  time.Time
	Disabled bool
}

// ListUsers returns every account by name.
func (u *Users) ListUsers(ctx context.Context) ([]Account, error) {
	rows, err := u.db.QueryContext(ctx, `SELECT id, name, role, created_at, disabled_at IS NOT NULL FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("web: list users: %w", err)
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		var a Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Role, &created, &a.Disabled); err != nil {
			return nil, fmt.Errorf("web: list users: %w", err)
		}
		a.Created = time.UnixMilli(created).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
