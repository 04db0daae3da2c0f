package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/store"
)

// Replies that opt a number out of texts, and back in: the keywords Twilio
// itself honours on a long code or toll-free number (docs/twilio.md §8.9).
var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	startWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// Reply records what an inbound text from number says of texts: a STOP
// word opts the number out, a START word back in. It reports the change,
// "stop", "start", or "" for any other text, which changes nothing.
func (o *Outbox) Reply(ctx context.Context, from, body string) (string, error) {
	word := strings.ToUpper(strings.TrimSpace(body))
	switch {
	case !config.IsE164(from):
		return "", nil // no engineer's number: a short code, or not a number
	case stopWords[word]:
		now := o.now()
		return "stop", o.optOut(ctx, from, "replied "+word+" on "+now.UTC().Format(time.DateOnly))
	case startWords[word]:
		if _, err := o.db.ExecContext(ctx, `DELETE FROM sms_opt_outs WHERE number = ?`, from); err != nil {
			return "", fmt.Errorf("notify: opt %s in: %w", mask(from), err)
		}
		return "start", nil
	}
	return "", nil
}

// optOut marks number opted out, for reason, unless it is already.
func (o *Outbox) optOut(ctx context.Context, number, reason string) error {
	tx, err := o.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("notify: opt %s out: %w", mask(number), err)
	}
	defer tx.Rollback()
	if err := optOutTx(ctx, tx, number, reason, o.now()); err != nil {
		return err
	}
	return tx.Commit()
}

// optOutTx is optOut in tx. The first reason is kept: it says since when.
func optOutTx(ctx context.Context, tx *store.Tx, number, reason string, now time.Time) error {
	const q = `INSERT INTO sms_opt_outs (number, opted_out_at, reason) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, number, now.UnixMilli(), reason); err != nil {
		return fmt.Errorf("notify: opt %s out: %w", mask(number), err)
	}
	return nil
}

// OptedOut returns the numbers that opted out of texts, each with why in
// words, e.g. "replied STOP on 2026-12-02".
func (o *Outbox) OptedOut(ctx context.Context) (map[string]string, error) {
	return o.readOptOuts(ctx, `SELECT number, reason FROM sms_opt_outs`)
}

// optedOutAmong returns which numbers of a claimed batch opted out, with
// why.
func (o *Outbox) optedOutAmong(ctx context.Context, batch []claimed) (map[string]string, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	args := make([]any, len(batch))
	for i, c := range batch {
		args[i] = c.to
	}
	return o.readOptOuts(ctx, `SELECT number, reason FROM sms_opt_outs WHERE number IN `+store.Placeholders(1, len(batch)), args...)
}

// readOptOuts runs q, which selects numbers and reasons, unprepared: an IN
// list of any length is a statement shape of its own (store.DB.Prepared).
func (o *Outbox) readOptOuts(ctx context.Context, q string, args ...any) (map[string]string, error) {
	rows, err := o.db.SQL().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("notify: read opt-outs: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, why string
		if err := rows.Scan(&n, &why); err != nil {
			return nil, fmt.Errorf("notify: read opt-outs: %w", err)
		}
		out[n] = why
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: read opt-outs: %w", err)
	}
	return out, nil
}
