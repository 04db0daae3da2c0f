// Package notify texts engineers through an SMS outbox. The call flow and
// the shift reminders only insert rows (Enqueue: one local write, no
// network); a worker (Run) delivers the rows that are due through the Twilio
// Messages API, retrying with backoff on 5xx, 429 and network errors.
//
// Delivery is at least once, and exactly once on every path but one: a
// worker claims a row (a lease) before sending it, so concurrent workers
// never send the same row, and it records a 2xx before it does anything
// else. A process that dies after Twilio accepted a message but before that
// record reached the database sends it again once the lease expires;
// Twilio's Messages API takes no idempotency key that could prevent it.
//
// A 201 from Twilio is not a delivery (docs/twilio.md §8.9): each text asks
// for a status callback (HandleStatus), whose status is kept on the row, and
// a text about an incident that ends undelivered or failed adds a
// text_failed event to it. Numbers that reply STOP (HandleReply) or that
// Twilio refuses with 21610 get no texts until they reply START.
package notify

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store"
)

//go:embed migrations/*/*.sql
var migrations embed.FS

// Migrate creates or upgrades the table notify owns: outbox.
func Migrate(ctx context.Context, db *store.DB) error {
	return db.Migrate(ctx, "notify", migrations)
}

// Errors of the package.
var (
	// ErrInvalid means a message was refused: no key, no text, or a
	// number that is not E.164.
	ErrInvalid = errors.New("notify: invalid message")
	// ErrNoSender means Run was called on an outbox built without a
	// sender (no Twilio credentials).
	ErrNoSender = errors.New("notify: no SMS sender")
)

// maxBody is the longest text the Messages API accepts, in characters.
const maxBody = 1600

// Message is one SMS to queue.
type Message struct {
	To   string // E.164
	Body string // plain text
	// Key names the message for deduplication: a second Enqueue with the
	// same key queues nothing, so a retried webhook sends one SMS.
	Key string
	// IncidentID is the incident the text is about (a call's texts), 0
	// for none. A text of an incident that is not delivered adds a
	// text_failed event to it.
	IncidentID int64
	// NotBefore delays the message; zero sends it at once.
	NotBefore time.Time
	// Replace lets this Enqueue replace the text, number and time of a
	// message with the same key that is still waiting and was never tried
	// (a voicemail's transcript arriving after its recording). A message
	// already sent, being sent or retried is left alone.
	Replace bool
}

// check returns why m cannot be queued, or nil.
func (m *Message) check() error {
	switch {
	case m.Key == "":
		return fmt.Errorf("%w: no key", ErrInvalid)
	case !config.IsE164(m.To):
		return fmt.Errorf("%w: %q is not an E.164 number", ErrInvalid, mask(m.To))
	case m.Body == "":
		return fmt.Errorf("%w: empty text", ErrInvalid)
	case utf8.RuneCountInString(m.Body) > maxBody:
		return fmt.Errorf("%w: text longer than %d characters", ErrInvalid, maxBody)
	}
	return nil
}

// Options tunes the worker; zero fields take the defaults.
type Options struct {
	// Poll is how often Run looks for due messages besides being woken by
	// Enqueue. Default 5s.
	Poll time.Duration
	// Lease is how long a claimed message is reserved for the worker
	// sending it. It must outlast the sender's timeout. Default 2m.
	Lease time.Duration
	// MaxAttempts is how many sends a message gets before it is marked
	// failed. Default 6.
	MaxAttempts int
	// Backoff is the wait after the 1st, 2nd, … failed attempt; the last
	// entry repeats. Default 10s, 30s, 2m, 10m, 30m.
	Backoff []time.Duration
	// Batch is the most messages one RunOnce claims. Default 20.
	Batch int
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if len(o.Backoff) == 0 {
		o.Backoff = []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	return o
}

// backoff returns the wait after the n-th failed attempt (n >= 1).
func (o Options) backoff(n int) time.Duration {
	if n > len(o.Backoff) {
		n = len(o.Backoff)
	}
	return o.Backoff[max(n, 1)-1]
}

// Outbox queues messages in the database and delivers them.
type Outbox struct {
	db     *store.DB
	sender Sender
	now    func() time.Time
	log    zerolog.Logger
	opts   Options
	wake   chan struct{}
	// incidents takes the text_failed events (ReportTo); nil: none.
	incidents *incident.Incidents
	texts     *prometheus.CounterVec // status callbacks by status

	mu       sync.Mutex
	unmarked []outcome // results sent but not yet recorded (database down)
}

// New returns an outbox over a migrated db. sender may be nil: messages are
// then queued but Run refuses to start. now is the clock for due times and
// backoff.
func New(db *store.DB, sender Sender, now func() time.Time, log zerolog.Logger, opts Options) *Outbox {
	return &Outbox{
		db: db, sender: sender, now: now, log: log,
		opts: opts.withDefaults(),
		wake: make(chan struct{}, 1),
		texts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_texts_total",
			Help: "Text status callbacks from Twilio by status (queued, sent, delivered, undelivered, failed, other)."}, []string{"status"}),
	}
}

// ReportTo makes the texts of an incident that are not delivered add a
// text_failed event to it, in inc. Call it before Run and before serving
// the status callback.
func (o *Outbox) ReportTo(inc *incident.Incidents) { o.incidents = inc }

// Collectors returns the outbox's metrics: hotline_texts_total.
func (o *Outbox) Collectors() []prometheus.Collector {
	for _, s := range counted {
		o.texts.WithLabelValues(s) // so each status shows, at 0, before its first callback
	}
	return []prometheus.Collector{o.texts}
}

// Execer is a *sql.DB, *sql.Tx or *store.DB.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Enqueue queues m and wakes the worker. It reports whether a message was
// queued (or replaced): false when one with the same key already exists.
// It writes one row and never touches the network.
func (o *Outbox) Enqueue(ctx context.Context, m Message) (bool, error) {
	queued, err := o.EnqueueTx(ctx, o.db, m)
	if queued {
		o.Wake()
	}
	return queued, err
}

// EnqueueTx queues m through ex, typically the transaction that records
// what the message is about, so both commit or neither does. Call Wake
// after the commit for an immediate send; otherwise the next poll sends it.
func (o *Outbox) EnqueueTx(ctx context.Context, ex Execer, m Message) (bool, error) {
	if err := m.check(); err != nil {
		return false, err
	}
	now := o.now()
	const upsert = `INSERT INTO outbox (created_at, send_after, to_number, body, dedup_key, incident_id)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO UPDATE
		SET to_number = excluded.to_number, body = excluded.body, send_after = excluded.send_after
		WHERE outbox.sent_at IS NULL AND outbox.failed_at IS NULL AND outbox.attempts = 0 AND outbox.lease_until <= ?`
	var res sql.Result
	var err error
	if m.Replace {
		res, err = ex.ExecContext(ctx, upsert, append(m.row(now), now.UnixMilli())...)
	} else {
		res, err = ex.ExecContext(ctx, insertSQL(1), m.row(now)...)
	}
	if err != nil {
		return false, fmt.Errorf("notify: enqueue %s: %w", m.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("notify: enqueue %s: %w", m.Key, err)
	}
	return n > 0, nil
}

// EnqueueAllTx queues msgs through ex as EnqueueTx does, in as few
// statements as it can: messages that replace nothing go in INSERTs of up
// to insertRows rows each. An invalid message is skipped and reported in
// the error; the others are still queued.
func (o *Outbox) EnqueueAllTx(ctx context.Context, ex Execer, msgs []Message) error {
	now := o.now()
	var errs []error
	args := make([]any, 0, rowCols*min(len(msgs), insertRows))
	flush := func() {
		if len(args) == 0 {
			return
		}
		if _, err := ex.ExecContext(ctx, insertSQL(len(args)/rowCols), args...); err != nil {
			errs = append(errs, fmt.Errorf("notify: enqueue %d messages: %w", len(args)/rowCols, err))
		}
		args = args[:0]
	}
	for _, m := range msgs {
		if m.Replace {
			if _, err := o.EnqueueTx(ctx, ex, m); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := m.check(); err != nil {
			errs = append(errs, err)
			continue
		}
		args = append(args, m.row(now)...)
		if len(args) == rowCols*insertRows {
			flush()
		}
	}
	flush()
	return errors.Join(errs...)
}

// row is m's values for an INSERT into the outbox (insertSQL) at now.
func (m Message) row(now time.Time) []any {
	after := now
	if m.NotBefore.After(now) {
		after = m.NotBefore
	}
	incident := sql.NullInt64{Int64: m.IncidentID, Valid: m.IncidentID != 0}
	return []any{now.UnixMilli(), after.UnixMilli(), m.To, m.Body, m.Key, incident}
}

// rowCols is the number of values of a row (Message.row).
const rowCols = 6

// insertSQL queues n messages, skipping those whose key is queued already.
func insertSQL(n int) string {
	return `INSERT INTO outbox (created_at, send_after, to_number, body, dedup_key, incident_id) VALUES ` +
		store.Placeholders(n, rowCols) + ` ON CONFLICT (dedup_key) DO NOTHING`
}

// insertRows bounds the rows of one INSERT by EnqueueAllTx.
const insertRows = 32

// Wake makes a running worker look for due messages now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}
