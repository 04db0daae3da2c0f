package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hotline-dev/hotline/store"
)

// AddEventTx adds e to the incident id in tx, a transaction of another
// store over the same database (the SMS outbox recording that a text about
// the call failed), so the event and that store's change commit together.
// An event with e's key already there is kept and added reports false.
// There is no status update: a text's fate does not change the call's.
func (s *Incidents) AddEventTx(ctx context.Context, tx *store.Tx, id int64, e Event) (added bool, err error) {
	r := txRunner{ctx: ctx, tx: tx, dialect: s.db.Dialect()}
	var one int
	if err := r.queryRow(`SELECT 1 FROM incidents WHERE id = ?`, id).Scan(&one); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, ErrNotFound
		}
		return false, fmt.Errorf("incident: add event to incident %d: %w", id, err)
	}
	n, err := insertEvents(r, id, []Event{e})
	if err != nil {
		return false, fmt.Errorf("incident: add event to incident %d: %w", id, err)
	}
	return n > 0, nil
}
