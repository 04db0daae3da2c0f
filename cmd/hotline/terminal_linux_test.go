//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hotline-dev/hotline/store/storetest"
	"github.com/hotline-dev/hotline/web"
)

// openPTY opens a pseudo-terminal: master is what a terminal emulator
// holds (it types and sees the echo), slave the terminal a program reads.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	if !echoOn(t, slave) {
		t.Fatal("a new terminal without echo")
	}
	return master, slave
}

// echoOn reports whether the terminal f echoes what is typed.
func echoOn(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// pipe returns a reader of what is written to the returned writer.
func pipe(t *testing.T) (*bufio.Reader, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return bufio.NewReader(r), w
}

// readUntil reads r up to and including s.
func readUntil(r *bufio.Reader, s string) error {
	var seen strings.Builder
	for !strings.HasSuffix(seen.String(), s) {
		b, err := r.ReadByte()
		if err != nil {
			return fmt.Errorf("%w after %q", err, seen.String())
		}
		seen.WriteByte(b)
	}
	return nil
}

// drain reads what the terminal showed, once its slave side is closed.
func drain(master *os.File) string {
	b, _ := io.ReadAll(master) // ends with EIO once the slave is closed
	return string(b)
}

// TestPasswordStdinOnTerminal runs user add with a terminal (a pty) as
// standard input: it asks twice on standard error, the typed password is
// not echoed back to the terminal, the terminal's echo is on again after,
// and the account signs in with it. Two different answers save nothing.
func TestPasswordStdinOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	db := storetest.SQLite(t)
	stderr, errW := pipe(t)
	const typed = "typed-on-a-terminal"
	answer := func(prompt, line string) {
		t.Helper()
		if err := readUntil(stderr, prompt); err != nil {
			t.Fatalf("waiting for %q: %v", prompt, err)
		}
		if _, err := master.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	add := func(name, first, again string) error {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			var out strings.Builder
			done <- run(context.Background(), []string{"user", "add", name, "--role", "admin", "--password-stdin", "--db", db},
				testEnv(map[string]string{"USER": "op"}), slave, &out, errW)
		}()
		answer("Password: ", first)
		answer("Password again: ", again)
		return <-done
	}
	if err := add("eve", typed, typed); err != nil {
		t.Fatalf("user add on a terminal: %v", err)
	}
	if err := add("mallory", typed, "something else"); err == nil || !strings.Contains(err.Error(), "the two passwords differ") {
		t.Errorf("two different passwords: %v, want a refusal", err)
	}
	if !echoOn(t, slave) {
		t.Errorf("the terminal's echo is still off after the command")
	}
	conn, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	users := web.NewUsers(conn, time.Now)
	if _, err := users.Authenticate(context.Background(), "eve", typed); err != nil {
		t.Errorf("eve with the typed password: %v", err)
	}
	if _, err := users.Authenticate(context.Background(), "mallory", typed); err == nil {
		t.Errorf("mallory was saved from two different passwords")
	}
	slave.Close()
	if shown := drain(master); strings.Contains(shown, typed) {
		t.Errorf("the terminal echoed the password: %q", shown)
	}
}

// TestPasswordPromptGivesUpOnCtrlC: Ctrl-C at the terminal's password
// prompt (main turns the signal into the context's end) returns at once,
// without a line typed, saves nothing, and leaves the echo on.
func TestPasswordPromptGivesUpOnCtrlC(t *testing.T) {
	_, slave := openPTY(t)
	db := storetest.SQLite(t)
	stderr, errW := pipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out strings.Builder
		done <- run(ctx, []string{"user", "add", "eve", "--role", "admin", "--password-stdin", "--db", db},
			testEnv(nil), slave, &out, errW)
	}()
	if err := readUntil(stderr, "Password: "); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("user add after Ctrl-C: %v, want it to give up", err)
	}
	if !echoOn(t, slave) {
		t.Errorf("the terminal's echo is off after Ctrl-C")
	}
	conn, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if list, err := web.NewUsers(conn, time.Now).ListUsers(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("accounts after Ctrl-C: %v %v, want none", list, err)
	}
}
