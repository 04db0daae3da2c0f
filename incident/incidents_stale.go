package incident

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// StaleAfter is how long after its start an incident still in progress is
// closed by hotline: Twilio ends every call within 4 h (a call's longest
// time limit), so by then its final status callback was lost (hotline was
// down, or the request failed) and will not come.
const StaleAfter = 4 * time.Hour

// StaleCall is an incident CloseStale closed, and the status it gave it.
type StaleCall struct {
	CallSid string
	Status  string
}

// staleBatch is how many stale incidents CloseStale reads at a time.
const staleBatch = 100

// CloseStale closes every incident started more than after before now and
// still in progress, with the outcome its events show: an engineer who
// accepted or was bridged makes it answered (by the last of them), a
// recording voicemail, anything else abandoned. Each gets the event
// "completed" that Twilio's final status would have written, saying it
// never arrived, under the same key: a status callback that comes after all
// is a repeat and changes nothing, as a retried one does. The call's end
// time and duration stay empty, since nobody knows them.
//
// Each incident is closed in its own transaction with the row locked, as
// the writer's Record does (the same code), so two instances running it at
// once, or a webhook of the call, take turns: the second finds the incident
// closed and leaves it. Running it again closes nothing more.
func (s *Incidents) CloseStale(ctx context.Context, now time.Time, after time.Duration) ([]StaleCall, error) {
	cutoff := ms(now.Add(-after))
	detail := "final status never arrived; closed by hotline after " + strconv.FormatFloat(after.Hours(), 'f', -1, 64) + " h"
	var closed []StaleCall
	var lastAt, lastID int64 = -1 << 62, 0
	for {
		page, err := s.staleCandidates(ctx, cutoff, lastAt, lastID)
		if err != nil {
			return closed, err
		}
		for _, c := range page {
			var status string
			err := s.inTx(ctx, func(tx txRunner) (err error) {
				status, err = closeStale(tx, c.callSid, now, detail)
				return err
			})
			if err != nil {
				return closed, fmt.Errorf("incident: close stale call %s: %w", c.callSid, err)
			}
			if status != "" {
				closed = append(closed, StaleCall{CallSid: c.callSid, Status: status})
			}
			lastAt, lastID = c.startedAt, c.id
		}
		if len(page) < staleBatch {
			return closed, nil
		}
	}
}

type staleCandidate struct {
	id        int64
	callSid   string
	startedAt int64
}

// staleCandidates reads the next page of incidents in progress that started
// before cutoff, after (afterAt, afterID) in start order.
func (s *Incidents) staleCandidates(ctx context.Context, cutoff, afterAt, afterID int64) ([]staleCandidate, error) {
	const q = `SELECT id, call_sid, started_at FROM incidents
		WHERE status = ? AND started_at < ? AND (started_at > ? OR (started_at = ? AND id > ?))
		ORDER BY started_at, id LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, StatusInProgress, cutoff, afterAt, afterAt, afterID, staleBatch)
	if err != nil {
		return nil, fmt.Errorf("incident: find stale calls: %w", err)
	}
	defer rows.Close()
	var page []staleCandidate
	for rows.Next() {
		var c staleCandidate
		if err := rows.Scan(&c.id, &c.callSid, &c.startedAt); err != nil {
			return nil, fmt.Errorf("incident: find stale calls: %w", err)
		}
		page = append(page, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: find stale calls: %w", err)
	}
	return page, nil
}

// closeStale closes one stale incident, if it is still in progress once
// locked, and returns the status it gave it ("" when it left it alone).
func closeStale(tx txRunner, callSid string, now time.Time, detail string) (string, error) {
	var id int64
	var status string
	if err := tx.queryRow(lockIncident[tx.dialect], callSid).Scan(&id, &status); err != nil {
		return "", err
	}
	if status != StatusInProgress {
		return "", nil // closed since it was found: by its webhook, or another instance
	}
	upd, err := staleOutcome(tx, id)
	if err != nil {
		return "", err
	}
	final := Event{At: now, Type: EventCompleted, Detail: detail, Key: "status", IfInProgress: true}
	applied, closed, err := record(tx, callSid, upd, []Event{final})
	if err != nil || !applied {
		return "", err
	}
	return closed, nil
}

// staleOutcome reads from an incident's events and recording how its call
// ended: answered by the last engineer who accepted or was bridged (at the
// time that engineer accepted, as the call flow records it), voicemail when
// a message was recorded, abandoned otherwise.
func staleOutcome(tx txRunner, id int64) (Update, error) {
	var recording string
	if err := tx.queryRow(`SELECT recording_url FROM incidents WHERE id = ?`, id).Scan(&recording); err != nil {
		return Update{}, err
	}
	rows, err := tx.tx.QueryContext(tx.ctx, `SELECT at, type, engineer FROM incident_events WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return Update{}, err
	}
	defer rows.Close()
	answered, voicemail := false, recording != ""
	var answeredBy string
	var answeredAt int64
	accepted := map[string]int64{} // engineer -> when they last accepted
	for rows.Next() {
		var at int64
		var typ EventType
		var engineer string
		if err := rows.Scan(&at, &typ, &engineer); err != nil {
			return Update{}, err
		}
		switch typ {
		case EventAccepted:
			accepted[engineer] = at
			answered, answeredBy, answeredAt = true, engineer, at
		case EventBridged:
			answered, answeredBy, answeredAt = true, engineer, at
			if t, ok := accepted[engineer]; ok {
				answeredAt = t
			}
		case EventVoicemail:
			voicemail = true
		}
	}
	if err := rows.Err(); err != nil {
		return Update{}, err
	}
	switch {
	case answered:
		return Update{Status: StatusAnswered, AnsweredBy: answeredBy, AnsweredAt: fromMS(answeredAt)}, nil
	case voicemail:
		return Update{Status: StatusVoicemail}, nil
	}
	return Update{Status: StatusAbandoned}, nil
}
