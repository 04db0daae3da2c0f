package incident

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-dev/hotline/problem"
)

// StatusAlert is the status of an alert incident: a machine raised it, no
// call was made. The call statistics leave such incidents out.
const StatusAlert = "alert"

// Alert is a machine's alert, as an integration sends it.
type Alert struct {
	Team     string // who is paged: the integration's team
	Summary  string
	Details  string
	DedupKey string // "" makes every trigger a new incident
	Source   string // the integration's name, for the timeline
	At       time.Time
}

// Limits of an alert's text, in bytes: a page call reads the summary out.
const (
	MaxAlertSummary = 1000
	MaxAlertDetails = 16000
	MaxAlertKey     = 255
)

// OpenAlert records a trigger: a new open incident of kind alert, or, when
// an open or acknowledged alert has the same DedupKey, an alert event on
// it. created reports which; only a created one should be paged. A summary
// that is empty or too long is a problem.Invalid error.
func (s *Incidents) OpenAlert(ctx context.Context, a Alert) (id int64, created bool, err error) {
	switch {
	case a.Summary == "":
		return 0, false, problem.Invalidf("summary is required")
	case len(a.Summary) > MaxAlertSummary:
		return 0, false, problem.Invalidf("summary is over %d bytes", MaxAlertSummary)
	case len(a.Details) > MaxAlertDetails:
		return 0, false, problem.Invalidf("details are over %d bytes", MaxAlertDetails)
	case len(a.DedupKey) > MaxAlertKey:
		return 0, false, problem.Invalidf("dedup_key is over %d bytes", MaxAlertKey)
	}
	repeat := Event{At: a.At, Type: EventAlert, Detail: a.Source + ": " + a.Summary, Key: fmt.Sprintf("alert:%d", a.At.UnixNano())}
	// Two triggers of one key at once: the loser of the unique index
	// (incidents_open_alert) finds the winner's incident the second time.
	for attempt := 0; ; attempt++ {
		err = s.inTx(ctx, func(r txRunner) error {
			if a.DedupKey != "" {
				err := r.queryRow(`SELECT id FROM incidents WHERE kind = 'alert' AND dedup_key = ? AND state <> 'resolved'`+forUpdate(r.dialect), a.DedupKey).Scan(&id)
				if err == nil {
					created = false
					_, err = insertEvents(r, id, []Event{repeat})
					return err
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			sid, err := alertSid()
			if err != nil {
				return err
			}
			var key any
			if a.DedupKey != "" {
				key = a.DedupKey
			}
			err = r.queryRow(`INSERT INTO incidents (call_sid, from_number, to_number, team, status, started_at, config_revision,
				kind, state, summary, details, dedup_key) VALUES (?, '', '', ?, ?, ?, '', ?, ?, ?, ?, ?) RETURNING id`,
				sid, a.Team, StatusAlert, ms(a.At), KindAlert, StateOpen, a.Summary, a.Details, key).Scan(&id)
			if err != nil {
				return err
			}
			created = true
			repeat.Key = "alert"
			_, err = insertEvents(r, id, []Event{repeat})
			return err
		})
		if err == nil || attempt > 0 || a.DedupKey == "" {
			break
		}
	}
	if err != nil {
		return 0, false, fmt.Errorf("incident: open alert: %w", err)
	}
	return id, created, nil
}

// OpenAlertByKey returns the open or acknowledged alert with dedupKey, or
// ErrNotFound.
func (s *Incidents) OpenAlertByKey(ctx context.Context, dedupKey string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM incidents WHERE kind = 'alert' AND dedup_key = ? AND state <> 'resolved'`, dedupKey).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: no open alert %q", ErrNotFound, dedupKey)
	}
	if err != nil {
		return 0, fmt.Errorf("incident: alert %q: %w", dedupKey, err)
	}
	return id, nil
}

// alertSid is an alert's stand-in for a CallSid (the column is unique and
// required): "AL" and 32 random hex digits, never a Twilio SID.
func alertSid() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "AL" + hex.EncodeToString(b[:]), nil
}
