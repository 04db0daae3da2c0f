package incident

import (
	"context"
	"time"
)

// Recovery: replaying the spool into the database once it takes writes
// again, and reopening a SQLite file restored under the writer.

// checkpoint copies the SQLite write-ahead log into the database file, off
// the commit path: commits never wait for it (PASSIVE). Under steady writes
// it never quite catches up, and the log would grow without end — every
// commit an append, whose fsync costs twice an overwrite's — so the writer
// finishes the job between two batches (finishCheckpoint), and the next
// commit starts the log over from its beginning.
func (w *Writer) checkpoint() {
	if !w.checkpointing.CompareAndSwap(false, true) {
		return
	}
	defer w.checkpointing.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.inc.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
		w.checkpointed.Store(true)
	}
}

// finishCheckpoint copies what was committed while checkpoint ran: a few
// pages, quickly, and with no commit running, all of them.
func (w *Writer) finishCheckpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), w.wait)
	defer cancel()
	_, _ = w.inc.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
}

// flushQueued commits what is still queued at Close.
func (w *Writer) flushQueued() {
	for {
		select {
		case p := <-w.ops:
			w.commit([]*pending{p})
		default:
			return
		}
	}
}

// drain replays the spool (the file, then what is held in memory) into the
// database, in order, then empties it. While the database is still away,
// it moves what is held in memory to the file, if that takes it again.
func (w *Writer) drain() {
	w.spooled.Add(float64(w.spool.flush()))
	if err := w.reopenIfRestored(); err != nil {
		return
	}
	ops, mark, err := w.spool.read()
	if err != nil || len(ops) == 0 {
		return
	}
	for start := 0; start < len(ops); start += maxBatch {
		end := min(start+maxBatch, len(ops))
		batch := make([]*pending, 0, end-start)
		for _, op := range ops[start:end] {
			batch = append(batch, &pending{op: op})
		}
		if err := w.apply(batch); err != nil {
			w.dbErrors.Inc()
			return
		}
		for _, p := range batch {
			if p.err != nil {
				w.log.Warn().Err(p.err).Msg("spooled update for an unknown call dropped")
			}
		}
	}
	cleared, err := w.spool.clear(mark)
	if err != nil {
		w.log.Error().Err(err).Msg("empty spool")
		return
	}
	if cleared {
		w.log.Info().Int("events", len(ops)).Msg("spool replayed into the database")
		w.setHealthy(true, nil)
	}
}

// reopenIfRestored reopens the database when its file was replaced (put
// back from a backup after it went missing).
func (w *Writer) reopenIfRestored() error {
	err := w.inc.db.Writable()
	if err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rerr := w.inc.db.Reopen(ctx); rerr != nil {
		return rerr
	}
	if err := Migrate(ctx, w.inc.db); err != nil {
		return err
	}
	return w.inc.db.Writable()
}
