package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hotline-dev/hotline/incident"
)

// claimed is a message a worker holds the lease of.
type claimed struct {
	id       int64
	to, body string
	key      string
	attempt  int   // this attempt's number, counted from 1
	incident int64 // 0: the text is about no incident
}

// What became of a claimed message.
type result int

const (
	sent     result = iota // Twilio answered 2xx
	retry                  // a transient failure: try again at retryAt
	failed                 // a permanent failure, or out of attempts
	released               // never sent (the worker stopped): back in the queue
)

// outcome is what became of one claimed message, to be recorded.
type outcome struct {
	id       int64
	key      string
	incident int64 // the text's incident, told when the text fails
	result   result
	at       time.Time
	sid      string // Twilio's message SID when sent
	retryAt  time.Time
	errText  string
	// why is the text_failed event's detail when a failure is the
	// number's, not hotline's: the engineer opted out.
	why string
}

// Run delivers due messages until ctx ends: every Options.Poll, and at once
// after an Enqueue. It returns ErrNoSender when the outbox has no sender,
// and nil when ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	if o.sender == nil {
		return ErrNoSender
	}
	tick := time.NewTicker(o.opts.Poll)
	defer tick.Stop()
	for {
		if _, err := o.RunOnce(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn().Err(err).Msg("sms outbox")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-o.wake:
		}
	}
}

// RunOnce claims the messages due now, sends each once and records the
// outcome: sent, retried later with backoff, or failed. It returns how many
// were sent. Concurrent calls, in one process or several, never send the
// same message twice: each claims different rows.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	if o.sender == nil {
		return 0, ErrNoSender
	}
	if err := o.flushUnmarked(ctx); err != nil {
		// The database is still out: claiming would fail too, and the
		// leases of the unrecorded sends keep them from going again.
		return 0, err
	}
	batch, err := o.claim(ctx)
	if err != nil {
		return 0, err
	}
	optedOut, err := o.optedOutAmong(ctx, batch)
	if err != nil {
		// Without the list a text could go to a number that replied
		// STOP: give the leases back and try again at the next poll.
		for _, c := range batch {
			o.record(ctx, outcome{id: c.id, key: c.key, result: released})
		}
		return 0, err
	}
	n := 0
	for _, c := range batch {
		if ctx.Err() != nil {
			// Not sent: give the lease back so another worker may try.
			o.record(ctx, outcome{id: c.id, key: c.key, result: released})
			continue
		}
		if why, ok := optedOut[c.to]; ok {
			o.record(ctx, o.refuse(c, why))
			continue
		}
		out := o.send(ctx, c)
		if out.result == sent {
			n++
		}
		o.record(ctx, out)
	}
	return n, nil
}

// claim leases up to Batch due messages and counts the attempt on each.
func (o *Outbox) claim(ctx context.Context) ([]claimed, error) {
	now := o.now().UnixMilli()
	// The outer lease test is checked again on the row itself: on
	// PostgreSQL two workers may pick the same ids in the subquery, and the
	// second, once the first commits, must then find the row leased.
	const q = `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox
			WHERE sent_at IS NULL AND failed_at IS NULL AND send_after <= ? AND lease_until <= ?
			ORDER BY send_after, id LIMIT ?)
		AND sent_at IS NULL AND failed_at IS NULL AND lease_until <= ?
		RETURNING id, to_number, body, dedup_key, attempts, incident_id`
	rows, err := o.db.QueryContext(ctx, q, now+o.opts.Lease.Milliseconds(), now, now, o.opts.Batch, now)
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		var incident sql.NullInt64
		if err := rows.Scan(&c.id, &c.to, &c.body, &c.key, &c.attempt, &incident); err != nil {
			return nil, fmt.Errorf("notify: claim: %w", err)
		}
		c.incident = incident.Int64
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	return out, nil
}

// send makes one attempt and decides what follows. A send under way is
// not cut short when ctx ends (the sender's timeout bounds it): aborting
// it could lose Twilio's answer to a message it accepted, and the message
// would go twice.
func (o *Outbox) send(ctx context.Context, c claimed) outcome {
	sid, err := o.sender.Send(context.WithoutCancel(ctx), Outgoing{ID: c.id, To: c.to, Body: c.body})
	now := o.now()
	out := outcome{id: c.id, key: c.key, incident: c.incident, at: now}
	if err == nil {
		out.result, out.sid = sent, sid
		o.log.Info().Int64("sms", c.id).Str("key", c.key).Str("to", mask(c.to)).
			Int("attempt", c.attempt).Str("twilio_sid", sid).Msg("sms sent")
		return out
	}
	out.errText = redact(err.Error())
	var se *SendError
	permanent := errors.As(err, &se) && se.Permanent()
	switch {
	case se != nil && se.Code == codeOptedOut:
		// The engineer replied STOP where hotline did not see it (another
		// webhook on the number): remember it, so no text is tried again.
		out.result, out.why = failed, codeWords(codeOptedOut)
		if err := o.optOut(ctx, c.to, optedOutByTwilio); err != nil {
			o.log.Error().Err(err).Str("to", mask(c.to)).Msg("sms: record opt-out")
		}
	case permanent:
		out.result = failed
		if se.Code != 0 {
			out.why = "not sent: " + codeWords(se.Code)
		}
	case c.attempt >= o.opts.MaxAttempts:
		out.result = failed
		out.errText = fmt.Sprintf("gave up after %d attempts: %s", c.attempt, out.errText)
	default:
		out.result = retry
		wait := o.opts.backoff(c.attempt)
		if se != nil && se.RetryAfter > wait {
			wait = min(se.RetryAfter, o.opts.Backoff[len(o.opts.Backoff)-1])
		}
		out.retryAt = now.Add(wait)
	}
	ev := o.log.Warn()
	if out.result == failed {
		ev = o.log.Error()
	}
	ev.Int64("sms", c.id).Str("key", c.key).Str("to", mask(c.to)).Int("attempt", c.attempt).
		Str("error", out.errText).Bool("retry", out.result == retry).Msg("sms not sent")
	return out
}

// record writes an outcome; if the database refuses, the outcome is kept in
// memory and written before the next claim, so a sent message is not sent
// again while its lease holds.
func (o *Outbox) record(ctx context.Context, out outcome) {
	if err := o.mark(ctx, out); err != nil {
		o.log.Error().Err(err).Int64("sms", out.id).Msg("sms outbox: outcome kept in memory until the database answers")
		o.mu.Lock()
		o.unmarked = append(o.unmarked, out)
		o.mu.Unlock()
	}
}

// flushUnmarked writes the outcomes record could not.
func (o *Outbox) flushUnmarked(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.unmarked) > 0 {
		if err := o.mark(ctx, o.unmarked[0]); err != nil {
			return err
		}
		o.unmarked = o.unmarked[1:]
	}
	return nil
}

// mark writes an outcome and releases the lease. It runs even when ctx has
// ended: a message Twilio accepted must be recorded as sent.
func (o *Outbox) mark(ctx context.Context, out outcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	const (
		markSent     = `UPDATE outbox SET sent_at = ?, twilio_sid = ?, last_error = '', lease_until = 0 WHERE id = ?`
		markFailed   = `UPDATE outbox SET failed_at = ?, last_error = ?, lease_until = 0 WHERE id = ?`
		markRetry    = `UPDATE outbox SET send_after = ?, last_error = ?, lease_until = 0 WHERE id = ?`
		markReleased = `UPDATE outbox SET attempts = attempts - 1, lease_until = 0 WHERE id = ?`
	)
	var err error
	switch out.result {
	case sent:
		_, err = o.db.ExecContext(ctx, markSent, out.at.UnixMilli(), out.sid, out.id)
	case failed:
		err = o.fail(ctx, markFailed, out)
	case retry:
		_, err = o.db.ExecContext(ctx, markRetry, out.retryAt.UnixMilli(), out.errText, out.id)
	case released:
		_, err = o.db.ExecContext(ctx, markReleased, out.id)
	}
	if err != nil {
		return fmt.Errorf("notify: record %s: %w", out.key, err)
	}
	return nil
}

// fail marks a text failed (q is mark's markFailed query) and, when it is
// about an incident, adds the text_failed event in the same transaction:
// the incident says so once the text is given up, and only then.
func (o *Outbox) fail(ctx context.Context, q string, out outcome) error {
	if out.incident == 0 || o.incidents == nil {
		_, err := o.db.ExecContext(ctx, q, out.at.UnixMilli(), out.errText, out.id)
		return err
	}
	tx, err := o.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, q, out.at.UnixMilli(), out.errText, out.id); err != nil {
		return err
	}
	why := out.why
	if why == "" {
		// The timeline is for managers: the error's text stays in
		// last_error, the event says what became of the text.
		why = "not sent: Twilio did not take it after every retry"
	}
	// One failure per row: the key is the row's, as the worker gives a
	// row up once.
	e := incident.Event{At: out.at, Type: incident.EventTextFailed, Detail: why, Key: "text_failed:sms" + strconv.FormatInt(out.id, 10)}
	if _, err := o.incidents.AddEventTx(ctx, tx, out.incident, e); err != nil && !errors.Is(err, incident.ErrNotFound) {
		return err
	}
	return tx.Commit()
}

// refuse is the outcome of a text to a number that opted out: failed,
// never sent.
func (o *Outbox) refuse(c claimed, why string) outcome {
	text := "not sent: the number opted out of texts (" + why + "); it must reply START to get texts again"
	o.log.Warn().Int64("sms", c.id).Str("key", c.key).Str("to", mask(c.to)).Msg("sms not sent: the number opted out")
	return outcome{id: c.id, key: c.key, incident: c.incident, result: failed, at: o.now(), errText: text,
		why: "not sent: the engineer opted out of texts (" + why + ")"}
}
