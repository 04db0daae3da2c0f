//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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
