package incident

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/store"
)

// Writer is the durable write path of the call flow. One goroutine commits
// the writes of concurrent webhooks together (group commit: one fsync for
// many events), and each webhook is answered only after its write is on
// disk — in the database, or, when the database is locked, full, removed or
// read-only, in an append-only spool file (see spool). When the spool
// cannot take it either (its disk full too), the write is held in memory,
// bounded, and written to whichever of the two comes back first. Spooled
// and held writes are replayed in order once the database is back; every
// write is idempotent, so each lands exactly once.
type Writer struct {
	inc   *Incidents
	conn  *store.Conn // every batch commits on it: its page cache stays warm
	spool *spool
	log   zerolog.Logger
	wait  time.Duration // how long a webhook waits for a commit before spooling

	ops     chan *pending
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the loop has flushed and exited
	closing sync.Once

	mu      sync.Mutex
	healthy bool
	cause   error // why the database last refused a write, while !healthy

	checkpointing atomic.Bool
	checkpointed  atomic.Bool // a background checkpoint is done: finish it
	onCommitBatch func([]Committed)

	dbErrors prometheus.Counter
	spooled  prometheus.Counter
	outcomes *prometheus.CounterVec
	stale    prometheus.Counter
}

type pending struct {
	op      *writeOp
	kept    atomic.Bool // taken by the spool (by the webhook or the committer: once)
	created bool
	applied bool
	id      int64
	err     error
	done    chan struct{}
}

// maxBatch bounds one group commit.
const maxBatch = 256

// A batch of stormBatch writes or more, found waiting at once, means a call
// storm: its commit waits up to stormWait for stormTarget (see gather).
const (
	stormBatch  = 8
	stormTarget = 32
	stormWait   = time.Millisecond
)

// retryEvery is how often a spooled backlog is retried.
const retryEvery = time.Second

// checkpointEvery is how often the SQLite write-ahead log is copied into
// the database file.
const checkpointEvery = 250 * time.Millisecond

// NewWriter starts the writer over inc, spooling to spoolPath, or to a file
// of its own beside it when another instance holds that one (see spool).
// wait bounds how long a webhook waits for the database before its write
// is spooled. A spool that cannot be opened is logged and retried, and
// does not fail NewWriter; a spool written by a newer hotline does.
func NewWriter(inc *Incidents, spoolPath string, wait time.Duration, log zerolog.Logger) (*Writer, error) {
	sp, err := openSpool(spoolPath, log)
	if err != nil {
		return nil, err
	}
	w := &Writer{
		inc: inc, conn: inc.db.Conn(), spool: sp, log: log, wait: wait,
		ops: make(chan *pending, 4*maxBatch), done: make(chan struct{}), stopped: make(chan struct{}), healthy: true,
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_db_errors_total", Help: "Incident writes the database refused or timed out."}),
		spooled:  prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_spooled_writes_total", Help: "Incident writes kept in the spool file because the database was unavailable."}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_calls_total", Help: "Calls by outcome (answered, voicemail, missed, abandoned), counted when the incident is closed."}, []string{"outcome"}),
		stale:    prometheus.NewCounter(prometheus.CounterOpts{Name: "hotline_stale_calls_closed_total", Help: "Calls hotline closed itself because their final status never arrived."}),
	}
	go w.loop()
	return w, nil
}

// Committed describes one call write that reached the database, for work
// that follows a call (texts to engineers) without slowing it down.
type Committed struct {
	CallSid string
	Update  Update
	Closed  string // the status the incident left in_progress for, if this write closed it
}

// OnCommit registers fn, called in its own goroutine after each batch
// commits, with the writes that changed something. Set it before the first
// write.
func (w *Writer) OnCommit(fn func([]Committed)) { w.onCommitBatch = fn }

// CloseStale closes the calls still in progress after longer than any call
// lasts (see Incidents.CloseStale) and returns how many it closed. While
// the spool holds writes it closes none: a spooled webhook may be the one
// that says how a call ended. Each closed call is counted in
// hotline_calls_total by its outcome, and in
// hotline_stale_calls_closed_total.
func (w *Writer) CloseStale(ctx context.Context, now time.Time, after time.Duration) (int, error) {
	if w.spool.size() > 0 {
		return 0, nil
	}
	calls, err := w.inc.CloseStale(ctx, now, after)
	closed := make([]Committed, 0, len(calls))
	for _, c := range calls {
		w.outcomes.WithLabelValues(c.Status).Inc()
		w.stale.Inc()
		closed = append(closed, Committed{CallSid: c.CallSid, Closed: c.Status})
	}
	// What follows a call's close (its settling, its texts) follows these
	// closes too.
	if len(closed) > 0 && w.onCommitBatch != nil {
		w.onCommitBatch(closed)
	}
	return len(calls), err
}

// StartIncident opens the incident of a call (see Incidents.StartIncident).
func (w *Writer) StartIncident(ctx context.Context, in Incident, first Event) (int64, bool, error) {
	p, err := w.submit(ctx, &writeOp{Start: &in, CallSid: in.CallSid, Events: []Event{first}})
	if err != nil {
		return 0, false, err
	}
	return p.id, p.created, p.err
}

// Record adds events and an update to a call's incident (see Incidents.Record).
func (w *Writer) Record(ctx context.Context, callSid string, upd Update, events ...Event) (bool, error) {
	p, err := w.submit(ctx, &writeOp{CallSid: callSid, Update: upd, Events: events})
	if err != nil {
		return false, err
	}
	return p.applied, p.err
}

// EventType reads the type of the event with key on callSid's incident, ""
// when it has none (see Incidents.EventType). While writes wait in the
// spool or in memory the event may be one of them, not yet in the
// database, so those are searched first.
func (w *Writer) EventType(ctx context.Context, callSid, key string) (EventType, error) {
	if w.spool.size() > 0 {
		ops, _, err := w.spool.read()
		if err != nil {
			return "", err
		}
		for _, op := range ops {
			if op.CallSid != callSid {
				continue
			}
			for _, e := range op.Events {
				if e.Key == key {
					return e.Type, nil
				}
			}
		}
	}
	return w.inc.EventType(ctx, callSid, key)
}

// submit hands op to the committing goroutine and waits until it is
// durable. If the database does not commit it within w.wait, op is
// spooled by the caller itself: a webhook never waits on a stuck database.
func (w *Writer) submit(ctx context.Context, op *writeOp) (*pending, error) {
	p := &pending{op: op, done: make(chan struct{})}
	timer := time.NewTimer(w.wait)
	defer timer.Stop()
	select {
	case w.ops <- p:
	case <-timer.C:
		return w.spoolNow(p)
	case <-w.done:
		return nil, errors.New("incident: writer closed")
	}
	select {
	case <-p.done:
		return p, nil
	case <-timer.C:
		return w.spoolNow(p)
	case <-ctx.Done():
		// The webhook is gone; the op still commits or spools.
		return nil, ctx.Err()
	}
}

// spoolNow makes op durable in the spool. The committing goroutine may
// still write it too: the op is idempotent, the second write is a no-op.
// When the spool cannot take it either, it is held in memory (see spool).
// If the committing goroutine is already spooling it, the webhook waits
// for that instead: an op is spooled once.
func (w *Writer) spoolNow(p *pending) (*pending, error) {
	w.setHealthy(false, fmt.Errorf("%w %v", errSlowCommit, w.wait))
	if !p.kept.CompareAndSwap(false, true) {
		<-p.done
		return p, nil
	}
	w.spooled.Add(float64(w.spool.keep([]*writeOp{p.op})))
	return &pending{applied: true, created: p.op.Start != nil}, nil
}

// errSlowCommit is the cause of spooling when the database has not
// answered in time (it may yet fail with a better reason).
var errSlowCommit = errors.New("no commit within")

// Close stops the writer after committing what is queued, and waits for it.
func (w *Writer) Close() error {
	w.closing.Do(func() { close(w.done) })
	<-w.stopped
	return nil
}

func (w *Writer) loop() {
	defer close(w.stopped)
	retry := time.NewTicker(retryEvery)
	defer retry.Stop()
	var checkpointTick <-chan time.Time // PostgreSQL manages its own log
	if w.inc.db.Dialect() == store.SQLite {
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		checkpointTick = t.C
	}
	w.drain()
	for {
		if w.checkpointed.CompareAndSwap(true, false) {
			w.finishCheckpoint()
		}
		var batch []*pending
		select {
		case p := <-w.ops:
			batch = append(batch, p)
		case <-retry.C:
			// A spool file that could not be opened is retried too.
			if w.spool.size() > 0 || w.spool.state().failed != nil {
				w.drain()
			}
			continue
		case <-checkpointTick:
			go w.checkpoint()
			continue
		case <-w.done:
			w.flushQueued()
			w.spool.close()
			w.conn.Close()
			return
		}
	collect:
		for len(batch) < maxBatch {
			select {
			case p := <-w.ops:
				batch = append(batch, p)
			default:
				break collect
			}
		}
		if len(batch) >= stormBatch {
			batch = w.gather(batch)
		}
		w.commit(batch)
	}
}

// gather waits up to stormWait for a storm's batch to reach stormTarget.
// Each commit costs the writer a fixed price (the transaction, the shared
// pages, the fsync) beside its writes; when webhooks queue up faster than
// commits land, a larger batch pays it less often, and the writer — the one
// serial step of the call path — keeps up with more calls. A batch below
// stormBatch never waits: at low load a webhook's latency is its own
// commit's.
func (w *Writer) gather(batch []*pending) []*pending {
	timer := time.NewTimer(stormWait)
	defer timer.Stop()
	for len(batch) < stormTarget {
		select {
		case p := <-w.ops:
			batch = append(batch, p)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// commit writes a batch in one transaction, or spools it when the database
// cannot take it (or a backlog must be replayed first, to keep order).
func (w *Writer) commit(batch []*pending) {
	if w.spool.size() > 0 {
		w.drain()
	}
	var err error
	if w.spool.size() == 0 {
		err = w.apply(batch)
		if err == nil {
			w.setHealthy(true, nil)
			for _, p := range batch {
				close(p.done)
			}
			return
		}
		w.dbErrors.Inc()
		w.setHealthy(false, err)
	}
	ops := make([]*writeOp, 0, len(batch))
	for _, p := range batch {
		if p.kept.CompareAndSwap(false, true) { // else its webhook spooled it
			ops = append(ops, p.op)
		}
	}
	// In the spool file, or held in memory when it refuses them: either
	// way the call goes on.
	w.spooled.Add(float64(w.spool.keep(ops)))
	for _, p := range batch {
		p.applied, p.created, p.err = true, p.op.Start != nil, nil
		close(p.done)
	}
}

// apply commits a batch; an op with no events whose incident does not exist
// gets ErrNotFound without failing the others (events open the incident:
// see Incidents.Record).
func (w *Writer) apply(batch []*pending) error {
	if err := w.inc.db.Writable(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*w.wait)
	defer cancel()
	ctx = w.inc.db.Short(ctx)
	var closed []string
	var done []Committed
	write := func(tx txRunner) error {
		closed, done = closed[:0], done[:0]
		for _, p := range batch {
			p.id, p.created, p.applied, p.err = 0, false, false, nil
			var err error
			if p.op.Start != nil {
				p.id, p.created, err = startIncident(tx, *p.op.Start, p.op.Events[0])
				p.applied = p.created
			} else {
				var status string
				p.applied, status, err = record(tx, p.op.CallSid, p.op.Update, p.op.Events)
				if status != "" {
					closed = append(closed, status)
				}
				if p.applied {
					done = append(done, Committed{CallSid: p.op.CallSid, Update: p.op.Update, Closed: status})
				}
			}
			if errors.Is(err, ErrNotFound) {
				p.err = fmt.Errorf("incident: record %s: %w", p.op.CallSid, err)
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	// Two PostgreSQL instances committing batches that share calls may
	// deadlock on the incidents' row locks; the server rolls one back, and
	// running it again is all it takes. SQLite never returns these.
	err := w.inc.inTxOn(ctx, w.conn.Begin, write)
	for try := 1; try < 5 && store.IsRetryable(err); try++ {
		err = w.inc.inTxOn(ctx, w.conn.Begin, write)
	}
	if err == nil {
		for _, status := range closed {
			w.outcomes.WithLabelValues(status).Inc()
		}
		if fn := w.onCommitBatch; fn != nil && len(done) > 0 {
			go fn(done)
		}
	}
	return err
}
