package incident

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// What the writer reports of itself: /readyz's reasons and the metrics.

// Collectors returns the writer's metrics.
func (w *Writer) Collectors() []prometheus.Collector {
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_depth", Help: "Writes waiting in the spool file for the database."},
		func() float64 { return float64(w.spool.state().depth) })
	held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_held_writes", Help: "Writes held in memory because neither the database nor the spool file could take them."},
		func() float64 { return float64(w.spool.state().held) })
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_held_writes_dropped_total", Help: "Writes lost because neither the database nor the spool file could take them and the memory bound was reached."},
		func() float64 { return float64(w.spool.state().dropped) })
	torn := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_spool_torn_lines_total", Help: "Spool lines torn by a crash, skipped."},
		func() float64 { return float64(w.spool.state().torn) })
	return []prometheus.Collector{w.dbErrors, w.spooled, w.outcomes, w.stale, depth, held, dropped, torn}
}

// Healthy reports whether writes currently reach the database, with none
// waiting in the spool or in memory.
func (w *Writer) Healthy() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.healthy && w.spool.size() == 0
}

// SpoolDepth is the number of writes waiting in the spool file.
func (w *Writer) SpoolDepth() int { return w.spool.state().depth }

// SpoolPath is the spool file of this writer: the configured path, or the
// per-instance file beside it when another instance holds that one.
func (w *Writer) SpoolPath() string { return w.spool.state().path }

// WriterState is what the writer reports to /readyz.
type WriterState struct {
	Database error // why the database last refused a write; nil while writes reach it
	Spool    error // why the spool file last refused a write, or cannot be opened
	Spooled  int   // writes waiting in the spool file
	Held     int   // writes held in memory: neither the database nor the spool took them
	Dropped  int   // writes lost since the start: held beyond the memory bound
}

// State returns the writer's state.
func (w *Writer) State() WriterState {
	sp := w.spool.state()
	st := WriterState{Spool: sp.failed, Spooled: sp.depth, Held: sp.held, Dropped: sp.dropped}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.healthy {
		st.Database = w.cause
	}
	return st
}

// Problems names, one phrase each, what keeps call events from the
// database: none when every write reaches it.
func (st WriterState) Problems() []string {
	var out []string
	if st.Database != nil {
		out = append(out, "database unavailable: "+st.Database.Error())
	}
	if st.Spool != nil {
		out = append(out, "spool unwritable: "+st.Spool.Error())
	}
	if st.Spooled > 0 {
		out = append(out, fmt.Sprintf("%d writes spooled", st.Spooled))
	}
	if st.Held > 0 {
		out = append(out, fmt.Sprintf("%d writes held in memory", st.Held))
		if st.Dropped > 0 {
			out = append(out, fmt.Sprintf("%d writes lost beyond the bound of %d held", st.Dropped, maxHeld))
		}
	}
	return out
}

// setHealthy records whether writes reach the database; cause, why they
// do not, replaces a vaguer one (a timeout) as soon as a commit fails.
func (w *Writer) setHealthy(ok bool, cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !ok && (w.healthy || w.cause == nil || !errors.Is(cause, errSlowCommit)) {
		w.cause = cause
	}
	if w.healthy == ok {
		return
	}
	w.healthy = ok
	if ok {
		w.cause = nil
		w.log.Info().Msg("database writable again; spooled events replayed")
	} else {
		w.log.Error().Err(cause).Str("spool", w.SpoolPath()).Msg("database unavailable: spooling call events")
	}
}
