package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store"
)

// The message statuses a status callback reports that the outbox keeps
// (docs/twilio.md §8.9), and their order: a status replaces the row's only
// when it ranks higher, so a late "sent" never hides "delivered".
var statusRank = map[string]int{
	"accepted":    1, // a Messaging Service took it
	"queued":      1,
	"sending":     2,
	"sent":        3, // the carrier has it
	"delivered":   4,
	"undelivered": 4,
	"failed":      4,
}

// counted are the values of hotline_texts_total's status label; any other
// status is counted as "other", so a status Twilio adds cannot grow the
// metric without bound.
var counted = []string{"queued", "sent", "delivered", "undelivered", "failed", "other"}

// notDelivered reports whether status means the text will never arrive.
func notDelivered(status string) bool { return status == "undelivered" || status == "failed" }

// Status is one status callback of a text: MessageSid, MessageStatus and
// ErrorCode, with the outbox row named in the callback's URL (0 when the
// URL named none).
type Status struct {
	Outbox    int64
	SID       string
	Status    string
	ErrorCode string
}

// messageSID is the shape of a Message SID (SM…, MM… with media);
// errorCode that of an ErrorCode.
var (
	messageSID = regexp.MustCompile(`^[SM]M[0-9a-fA-F]{32}$`)
	errorCode  = regexp.MustCompile(`^[0-9]{1,6}$`)
)

// codeOptedOut is Twilio's error for a text to a number that replied STOP.
const codeOptedOut = 21610

// optedOutByTwilio is the opt-out reason of a number Twilio refused to text.
const optedOutByTwilio = "Twilio refused a text with error 21610"

// codes are the meanings of the errors that keep texts from arriving most
// often (docs/twilio.md §8.9).
var codes = map[int]string{
	30003:        "the handset is unreachable",
	30004:        "the message is blocked",
	30005:        "the number is unknown or no longer active",
	30006:        "a landline, or a carrier that cannot be reached",
	30007:        "the carrier filtered the message",
	30008:        "an unknown error",
	30032:        "the toll-free number is not verified",
	30034:        "the number is not registered for A2P 10DLC",
	codeOptedOut: "the recipient replied STOP",
}

// codeWords is an error code and its meaning, e.g. "30032: the toll-free
// number is not verified"; "error NNNNN" for a code not in the table.
func codeWords(code int) string {
	if w, ok := codes[code]; ok {
		return strconv.Itoa(code) + ": " + w
	}
	return "error " + strconv.Itoa(code)
}

// failedDetail is the text_failed event's detail for a text that ended in
// status with the ErrorCode code (as Twilio sent it, maybe empty).
func failedDetail(status, code string) string {
	n, err := strconv.Atoi(code)
	if err != nil || n <= 0 {
		return "the text was " + status + " (no error code)"
	}
	return codeWords(n)
}

// RecordStatus stores what a status callback says of one of the outbox's
// texts and reports whether the text was one of them. The row is found by
// the id the callback's URL carries, even before the worker has recorded
// the SID Twilio answered (the callback may win that race), and its SID
// must then be that one or still unknown; without an id, by the SID. A
// status that ranks no higher than the row's changes nothing, so retried
// or late callbacks are harmless. A text of an incident that ends
// undelivered or failed adds a text_failed event to it in the same
// transaction, once: the status moves there once, and the event's key is
// the SID and status. Error 21610 also marks the number opted out.
func (o *Outbox) RecordStatus(ctx context.Context, st Status) (bool, error) {
	if !messageSID.MatchString(st.SID) {
		return false, nil // no message hotline sent: not worth a query
	}
	if !errorCode.MatchString(st.ErrorCode) {
		st.ErrorCode = "" // kept as a number or not at all
	}
	tx, err := o.db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("notify: status of %s: %w", st.SID, err)
	}
	defer tx.Rollback()
	ours, err := o.recordStatus(ctx, tx, st)
	if err != nil || !ours {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("notify: status of %s: %w", st.SID, err)
	}
	return true, nil
}

// statusRow is what RecordStatus reads of the row a callback is about.
type statusRow struct {
	id       int64
	sid      string
	status   string
	to       string
	incident sql.NullInt64
}

func (o *Outbox) recordStatus(ctx context.Context, tx *store.Tx, st Status) (bool, error) {
	// PostgreSQL locks the row, so two callbacks of one text take turns
	// and the second sees the first's status; SQLite's writes are serial.
	lock := ""
	if o.db.Dialect() == store.Postgres {
		lock = " FOR UPDATE"
	}
	const cols = `SELECT id, twilio_sid, status, to_number, incident_id FROM outbox WHERE `
	var r statusRow
	var err error
	if st.Outbox > 0 {
		err = tx.QueryRowContext(ctx, cols+`id = ?`+lock, st.Outbox).Scan(&r.id, &r.sid, &r.status, &r.to, &r.incident)
	} else {
		// The repeated predicate lets the partial index outbox_twilio_sid
		// serve the lookup; without it the outbox is scanned.
		err = tx.QueryRowContext(ctx, cols+`twilio_sid = ? AND twilio_sid <> ''`+lock, st.SID).Scan(&r.id, &r.sid, &r.status, &r.to, &r.incident)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notify: status of %s: %w", st.SID, err)
	}
	if r.sid != "" && r.sid != st.SID {
		return false, nil // another message than the one the row records
	}
	rank, known := statusRank[st.Status]
	if !known || rank <= statusRank[r.status] {
		return true, nil
	}
	now := o.now()
	const q = `UPDATE outbox SET status = ?, error_code = ?, status_at = ? WHERE id = ?`
	if _, err := tx.ExecContext(ctx, q, st.Status, st.ErrorCode, now.UnixMilli(), r.id); err != nil {
		return false, fmt.Errorf("notify: status of %s: %w", st.SID, err)
	}
	if !notDelivered(st.Status) {
		return true, nil
	}
	o.log.Warn().Int64("sms", r.id).Str("twilio_sid", st.SID).Str("to", mask(r.to)).Str("status", st.Status).
		Str("error_code", st.ErrorCode).Msg("sms not delivered")
	if st.ErrorCode == strconv.Itoa(codeOptedOut) {
		if err := optOutTx(ctx, tx, r.to, optedOutByTwilio, now); err != nil {
			return false, err
		}
	}
	if r.incident.Valid && o.incidents != nil {
		e := incident.Event{At: now, Type: incident.EventTextFailed, Detail: failedDetail(st.Status, st.ErrorCode),
			Key: "text_failed:" + st.SID + ":" + st.Status}
		if _, err := o.incidents.AddEventTx(ctx, tx, r.incident.Int64, e); err != nil && !errors.Is(err, incident.ErrNotFound) {
			return false, fmt.Errorf("notify: status of %s: %w", st.SID, err)
		}
	}
	return true, nil
}

// countStatus counts one status callback in hotline_texts_total.
func (o *Outbox) countStatus(status string) {
	for _, s := range counted[:len(counted)-1] {
		if s == status {
			o.texts.WithLabelValues(s).Inc()
			return
		}
	}
	o.texts.WithLabelValues("other").Inc()
}
