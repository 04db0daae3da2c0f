// Package problem is the error hotline returns when it refuses what a user
// asked for: input that is invalid, or a thing that does not exist. Its
// Message is written for the person who sent the request, so pages, the
// API and the CLI show it as it is, found with errors.As (Of) wherever it
// was wrapped, never by trimming a prefix off err.Error().
package problem

import (
	"errors"
	"fmt"
)

// Code says what kind of refusal an Error is.
type Code string

// The kinds of refusal.
const (
	// Invalid: the input breaks a rule; the Message says which.
	Invalid Code = "invalid"
	// NotFound: what the request names does not exist (any more).
	NotFound Code = "not_found"
)

// Error is a refusal with a message fit to show its user.
type Error struct {
	Code    Code
	Message string // what is wrong, without a package prefix
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Invalidf returns an Invalid error with a formatted message.
func Invalidf(format string, args ...any) error {
	return &Error{Code: Invalid, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error with a formatted message.
func NotFoundf(format string, args ...any) error {
	return &Error{Code: NotFound, Message: fmt.Sprintf(format, args...)}
}

// Of returns the message of the Error of kind code that err wraps, and
// whether there is one.
func Of(err error, code Code) (string, bool) {
	var e *Error
	if errors.As(err, &e) && e.Code == code {
		return e.Message, true
	}
	return "", false
}
