package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/web"
)

const userUsage = `usage: hotline user add NAME --role manager|admin --password-stdin [--update]
       hotline user rm NAME
       hotline user disable NAME
       hotline user enable NAME`

// cmdUser adds, changes, removes, disables and enables web accounts, each
// change audited as cli:$USER.
func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, userUsage)
		return usageErr("user: say add, rm, disable or enable")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, e, args[1:])
	case "rm", "disable", "enable":
		return userChange(ctx, e, args[0], args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, userUsage)
		return nil
	default:
		fmt.Fprintln(e.stderr, userUsage)
		return usageErr("user: unknown subcommand %q: say add, rm, disable or enable", args[0])
	}
}

func userAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "user add", "user add NAME --role manager|admin --password-stdin [--update] [--db F]")
	var c common
	c.register(fs, e, true)
	role := fs.String("role", web.RoleManager, "manager (read, overrides, announcements) or admin (also users)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (required); on a terminal it is asked for twice, without echo")
	update := fs.Bool("update", false, "change the password and role of an existing account (and end its sessions) instead of refusing it")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageErr("user add: give exactly one user NAME")
	}
	if !*fromStdin {
		fs.Usage()
		return usageErr("user add: --password-stdin is required (passwords never go on the command line)")
	}
	if *role != web.RoleManager && *role != web.RoleAdmin {
		return usageErr("user add: --role must be manager or admin")
	}
	password, err := readPassword(ctx, e)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	users := web.NewUsers(db, time.Now)
	name := pos[0]
	if *update {
		err = users.UpdateUser(ctx, name, *role, password, actor(e))
	} else {
		err = users.AddUser(ctx, name, *role, password, actor(e))
	}
	if errors.Is(err, web.ErrUserExists) {
		return fmt.Errorf("user add: an account named %q exists; to change its password and role, run it again with --update", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s (%s) saved\n", name, *role)
	return nil
}

// userChange is user rm, disable and enable: each takes effect on the
// account's next request (its sessions end with it).
func userChange(ctx context.Context, e env, verb string, args []string) error {
	fs := newFlags(e, "user "+verb, "user "+verb+" NAME [--db F]")
	var c common
	c.register(fs, e, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, err := onePositional(fs, pos, "user NAME")
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	users := web.NewUsers(db, time.Now)
	change, done := users.RemoveUser, "removed"
	switch verb {
	case "disable":
		change, done = users.DisableUser, "disabled: its sessions have ended and it cannot sign in"
	case "enable":
		change, done = users.EnableUser, "enabled"
	}
	if err := change(ctx, name, actor(e)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s %s\n", name, done)
	return nil
}

// readPassword reads the password from standard input: on a terminal it
// asks on standard error with the echo off, twice, and refuses when the
// two differ (Ctrl-C gives up, the echo back on); otherwise it reads one
// line (a pipe, a file).
func readPassword(ctx context.Context, e env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && isTerminal(f) {
		first, err := readHidden(ctx, f, e.stderr, "Password: ")
		if err != nil {
			return "", fmt.Errorf("user add: read the password: %w", err)
		}
		again, err := readHidden(ctx, f, e.stderr, "Password again: ")
		if err != nil {
			return "", fmt.Errorf("user add: read the password: %w", err)
		}
		if first != again {
			return "", errors.New("user add: the two passwords differ; nothing was saved, try again")
		}
		return first, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("user add: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// readLine reads up to a newline from r one byte at a time (so nothing
// after it is taken from a terminal), without the line ending.
func readLine(r io.Reader) (string, error) {
	var b []byte
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimRight(string(b), "\r"), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			if len(b) > 0 && errors.Is(err, io.EOF) {
				return string(b), nil
			}
			return "", err
		}
	}
}
