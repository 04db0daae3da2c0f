package routing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNote is the longest manager's note on an incident, in characters.
const MaxNote = 4000

// ErrInvalidNote is returned for a note that cannot be saved.
var ErrInvalidNote = errors.New("routing: invalid note")

// ActionNote is the audit action of a changed manager's note.
const ActionNote = "incident.note"

// SetNote replaces the manager's note on incident id and records who did
// it in audit. An empty note clears it. It returns ErrNotFound when there is
// no such incident.
func (s *Incidents) SetNote(ctx context.Context, audit Auditor, id int64, note, actor string) error {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if !utf8.ValidString(note) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidNote)
	}
	if n := utf8.RuneCountInString(note); n > MaxNote {
		return fmt.Errorf("%w: %d characters, at most %d", ErrInvalidNote, n, MaxNote)
	}
	if actor == "" {
		return fmt.Errorf("%w: the audit log needs an actor", ErrInvalidNote)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE incidents SET note = ? WHERE id = ?`, note, id)
	if err != nil {
		return fmt.Errorf("routing: set note on %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("routing: set note on %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	detail := fmt.Sprintf("incident %d: note set (%d characters)", id, utf8.RuneCountInString(note))
	if note == "" {
		detail = fmt.Sprintf("incident %d: note cleared", id)
	}
	return audit.Audit(ctx, actor, ActionNote, detail)
}
