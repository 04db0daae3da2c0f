//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
	"os"
)

// isTerminal is false off Linux: the password is read as a line, as from a
// pipe, and a terminal echoes it.
func isTerminal(*os.File) bool { return false }

// readHidden is not reached off Linux (isTerminal is false).
func readHidden(context.Context, *os.File, io.Writer, string) (string, error) {
	return "", errors.New("reading a password without echo needs Linux")
}
