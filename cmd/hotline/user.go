package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/web"
)

func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(e.stderr, "usage: hotline user add NAME --role manager|admin --password-stdin")
		return usageErr("user: say add")
	}
	fs := newFlags(e, "user add", "user add NAME --role manager|admin --password-stdin [--db F]")
	var c common
	c.register(fs, e, true)
	role := fs.String("role", web.RoleManager, "manager (read, overrides, announcements) or admin (also users)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	pos, err := parseFlags(fs, args[1:])
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
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("user add: no password on standard input")
	}
	password := strings.TrimRight(line, "\r\n")
	db, err := openDB(ctx, c.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := web.NewUsers(db, time.Now).AddUser(ctx, pos[0], *role, password, actor(e)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s (%s) saved\n", pos[0], *role)
	return nil
}
