package incident

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/store"
)

// MaxNote is the longest manager's note on an incident, in characters.
const MaxNote = 4000

// ActionNote is the audit action of a changed manager's note.
const ActionNote = "incident.note"

// SetNote replaces the manager's note on incident id and records who did
// it, at at, in the audit log, in the same transaction. An empty note
// clears it. It returns ErrNotFound when there is no such incident, and a
// problem.Invalid error for a note it refuses.
func (s *Incidents) SetNote(ctx context.Context, id int64, note, actor string, at time.Time) error {
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
	detail := fmt.Sprintf("incident %d: note set (%d characters)", id, utf8.RuneCountInString(note))
	if note == "" {
		detail = fmt.Sprintf("incident %d: note cleared", id)
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE incidents SET note = ? WHERE id = ?`, note, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: %d", ErrNotFound, id)
		}
		return audit.Record(ctx, tx, at, actor, ActionNote, detail)
	})
	if err != nil {
		return fmt.Errorf("incident: set note on %d: %w", id, err)
	}
	return nil
}
