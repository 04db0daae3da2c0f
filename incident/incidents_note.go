package incident

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/problem"
)

// MaxNote is the longest manager's note on an incident, in characters.
const MaxNote = 4000

// ActionNote is the audit action of a changed manager's note.
const ActionNote = "incident.note"

// SetNote replaces the manager's note on incident id and records who did
// it in audit. An empty note clears it. It returns ErrNotFound when there is
// no such incident, and a problem.Invalid error for a note it refuses.
func (s *Incidents) SetNote(ctx context.Context, audit announce.Auditor, id int64, note, actor string) error {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if !utf8.ValidString(note) {
		return fmt.Errorf("incident: set note: %w", problem.Invalidf("the note is not valid UTF-8"))
	}
	if n := utf8.RuneCountInString(note); n > MaxNote {
		return fmt.Errorf("incident: set note: %w", problem.Invalidf("the note has %d characters, at most %d", n, MaxNote))
	}
	if actor == "" {
		return fmt.Errorf("incident: set note: %w", problem.Invalidf("the audit log needs an actor"))
	}
	res, err := s.db.ExecContext(ctx, `UPDATE incidents SET note = ? WHERE id = ?`, note, id)
	if err != nil {
		return fmt.Errorf("incident: set note on %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("incident: set note on %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	detail := fmt.Sprintf("incident %d: note set (%d characters)", id, utf8.RuneCountInString(note))
	if note == "" {
		detail = fmt.Sprintf("incident %d: note cleared", id)
	}
	return audit.Audit(ctx, actor, ActionNote, detail)
}
