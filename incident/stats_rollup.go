package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hotline-dev/hotline/store"
)

// The stats of a range are sums of what each call contributes: its row
// (day, team, menu digit, status, who answered, the caller's wait), each
// ring of an engineer and how it ended, and how long each acceptance took.
// Roll-ups (migration 00009) keep those sums per local day, added as each
// call ends, in the same transaction; a range of whole days in the roll-ups'
// zone reads them, and anything else sums the calls themselves. Both give
// the same figures, by construction.

// callKey is one roll-up row of calls.
type callKey struct {
	day                             int // YYYYMMDD, local
	team, digit, status, answeredBy string
	wait                            int // the caller's wait in whole seconds; -1 when not answered
}

// ringKey counts an engineer's rings and their outcomes.
type ringKey struct {
	day      int
	engineer string
	typ      EventType
}

// acceptKey counts acceptances by the seconds from ring to key press.
type acceptKey struct {
	day      int
	engineer string
	secs     int
}

// sums are roll-up rows being added up.
type sums struct {
	calls   map[callKey]int
	rings   map[ringKey]int
	accepts map[acceptKey]int
}

func newSums() *sums {
	return &sums{calls: map[callKey]int{}, rings: map[ringKey]int{}, accepts: map[acceptKey]int{}}
}

// addSums adds sign times o to s.
func (s *sums) addSums(o *sums, sign int) {
	for k, n := range o.calls {
		s.calls[k] += sign * n
	}
	for k, n := range o.rings {
		s.rings[k] += sign * n
	}
	for k, n := range o.accepts {
		s.accepts[k] += sign * n
	}
}

func dayOf(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return y*10000 + int(m)*100 + d
}

func wholeSeconds(ms int64) int { return int(math.Round(float64(ms) / 1000)) }

// contributionColumns and contributionFrom read calls with their rings, one
// row per ring event (or one row without), ordered by call then time.
const contributionColumns = `SELECT i.id, i.started_at, i.status, i.team, i.menu_digit, COALESCE(i.answered_by, ''), i.answered_at,
	COALESCE(e.engineer, ''), COALESCE(e.type, ''), COALESCE(e.at, 0)`

var contributionFrom = ` FROM incidents i LEFT JOIN incident_events e ON e.incident_id = i.id AND e.engineer <> '' AND e.type IN ('` +
	strings.Join(eventStrings(ringOutcomes), "', '") + `')`

func eventStrings(types []EventType) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

// querier is a transaction or the pool.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// sumCalls adds up the contribution of every call that where (a condition
// on incidents i) selects, in loc: alerts and, unless inProgress, calls not
// yet ended are left out.
func sumCalls(ctx context.Context, q querier, loc *time.Location, inProgress bool, where string, args ...any) (*sums, error) {
	rows, err := q.QueryContext(ctx, contributionColumns+contributionFrom+` WHERE `+where+` ORDER BY i.id, e.at, e.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := newSums()
	var last int64 = -1
	var day int
	var skip bool
	rung := map[string]int64{} // each engineer's latest ring of the call
	for rows.Next() {
		var id, started int64
		var status, team, digit, by, engineer string
		var typ EventType
		var answered sql.NullInt64
		var at int64
		if err := rows.Scan(&id, &started, &status, &team, &digit, &by, &answered, &engineer, &typ, &at); err != nil {
			return nil, err
		}
		if id != last {
			last, day = id, dayOf(fromMS(started), loc)
			clear(rung)
			skip = status == StatusAlert || status == StatusInProgress && !inProgress
			if !skip {
				wait := -1
				if status == StatusAnswered && answered.Valid {
					wait = wholeSeconds(max(answered.Int64-started, 0))
				}
				if status != StatusAnswered {
					by = ""
				}
				out.calls[callKey{day: day, team: team, digit: digit, status: status, answeredBy: by, wait: wait}]++
			}
		}
		if skip || engineer == "" {
			continue
		}
		out.rings[ringKey{day: day, engineer: engineer, typ: typ}]++
		switch typ {
		case EventRing:
			rung[engineer] = at
		case EventAccepted:
			if from, ok := rung[engineer]; ok {
				out.accepts[acceptKey{day: day, engineer: engineer, secs: wholeSeconds(max(at-from, 0))}]++
			}
		}
	}
	return out, rows.Err()
}

// zones caches the roll-ups' zone by name.
var zones sync.Map

// rollupZone is the zone of the roll-ups, read with a share lock on
// PostgreSQL so a rebuild (which holds it for update) and a call's end take
// turns; ok is false when there are no roll-ups to keep. A zone this
// machine cannot load (no zoneinfo for it) marks the roll-ups stale, in the
// caller's transaction, rather than keep them in another zone: the stats
// then read the calls until the next rebuild.
func rollupZone(tx txRunner) (loc *time.Location, ok bool, err error) {
	sel := `SELECT zone FROM stats_zone WHERE id = 1`
	if tx.dialect == store.Postgres {
		sel += ` FOR SHARE`
	}
	var name string
	err = tx.queryRow(sel).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) || err == nil && name == "" {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), true, nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		_, err = tx.exec(`UPDATE stats_zone SET zone = '' WHERE id = 1`)
		return nil, false, err
	}
	zones.Store(name, l)
	return l, true, nil
}

// writeSums adds s to the roll-up tables, one statement per table.
func writeSums(ctx context.Context, ex interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}, s *sums) error {
	type table struct {
		insert, conflict string
		width            int
		args             []any
	}
	calls := table{insert: `INSERT INTO stats_calls (day, team, menu_digit, status, answered_by, wait_s, calls) VALUES `,
		conflict: ` ON CONFLICT (day, team, menu_digit, status, answered_by, wait_s) DO UPDATE SET calls = stats_calls.calls + excluded.calls`, width: 7}
	for k, n := range s.calls {
		if n != 0 {
			calls.args = append(calls.args, k.day, k.team, k.digit, k.status, k.answeredBy, k.wait, n)
		}
	}
	rings := table{insert: `INSERT INTO stats_rings (day, engineer, type, n) VALUES `,
		conflict: ` ON CONFLICT (day, engineer, type) DO UPDATE SET n = stats_rings.n + excluded.n`, width: 4}
	for k, n := range s.rings {
		if n != 0 {
			rings.args = append(rings.args, k.day, k.engineer, string(k.typ), n)
		}
	}
	accepts := table{insert: `INSERT INTO stats_accepts (day, engineer, accept_s, n) VALUES `,
		conflict: ` ON CONFLICT (day, engineer, accept_s) DO UPDATE SET n = stats_accepts.n + excluded.n`, width: 4}
	for k, n := range s.accepts {
		if n != 0 {
			accepts.args = append(accepts.args, k.day, k.engineer, k.secs, n)
		}
	}
	const batch = 500 // rows per statement, well under either database's parameter limit
	for _, t := range []table{calls, rings, accepts} {
		for len(t.args) > 0 {
			rows := min(len(t.args)/t.width, batch)
			if _, err := ex.ExecContext(ctx, t.insert+store.Placeholders(rows, t.width)+t.conflict, t.args[:rows*t.width]...); err != nil {
				return fmt.Errorf("incident: stats roll-up: %w", err)
			}
			t.args = t.args[rows*t.width:]
		}
	}
	return nil
}

// rollupTracker keeps one call's part of the roll-ups right across a write
// to it: begin before the write, end after it.
type rollupTracker struct {
	loc    *time.Location
	id     int64
	before *sums // what the call contributed before the write; nil when nothing
}

// trackRollup starts tracking incident id, whose status before the write
// is status, when the roll-ups exist and the write can change what it
// contributes: a call ending, or one that has ended getting a new status or
// a ring event (webhooks out of order). A call in progress is counted from
// its row while it lasts, not from the roll-ups.
func trackRollup(tx txRunner, id int64, status string, upd Update, events []Event) (*rollupTracker, error) {
	relevant := upd.Status != ""
	for _, e := range events {
		relevant = relevant || status != StatusInProgress && e.Engineer != "" && isRingOutcome(e.Type)
	}
	if !relevant || status == StatusAlert {
		return nil, nil
	}
	loc, ok, err := rollupZone(tx)
	if err != nil || !ok {
		return nil, err
	}
	t := &rollupTracker{loc: loc, id: id}
	if status != StatusInProgress {
		if t.before, err = sumCalls(tx.ctx, tx.tx, loc, false, `i.id = ?`, id); err != nil {
			return nil, fmt.Errorf("incident: stats roll-up: %w", err)
		}
	}
	return t, nil
}

// end adds the call's new contribution and takes back its old one.
func (t *rollupTracker) end(tx txRunner) error {
	if t == nil {
		return nil
	}
	after, err := sumCalls(tx.ctx, tx.tx, t.loc, false, `i.id = ?`, t.id)
	if err != nil {
		return fmt.Errorf("incident: stats roll-up: %w", err)
	}
	if t.before != nil {
		after.addSums(t.before, -1)
	}
	return writeSums(tx.ctx, tx.tx, after)
}

func isRingOutcome(t EventType) bool {
	for _, r := range ringOutcomes {
		if r == t {
			return true
		}
	}
	return false
}

// RollupZone is the zone of the stats' daily roll-ups, "" when there are
// none ready to read (none yet, or a rebuild is under way).
func (s *Incidents) RollupZone(ctx context.Context) (string, error) {
	var zone string
	err := s.db.QueryRowContext(ctx, `SELECT zone FROM stats_zone WHERE id = 1 AND ready = 1`).Scan(&zone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return zone, err
}

// HasIncidents reports whether the store holds any incident at all.
func (s *Incidents) HasIncidents(ctx context.Context) (bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT 1 FROM incidents LIMIT 1`)
	if err != nil {
		return false, fmt.Errorf("incident: %w", err)
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

// RebuildRollups recomputes the stats' daily roll-ups from every call, with
// days in loc, and makes loc their zone. serve runs it in the background
// at start when hotline.timezone is not the roll-ups' zone (a first start,
// or the zone changed), and `hotline seed` after writing. It goes one local
// day per transaction, so a call ending meanwhile waits for one day's
// recount at most: the zone is switched first, every call ending from then
// on keeps the new roll-ups, and each day's recount replaces what that day
// held with what its calls say, in a transaction that calls ending take
// turns with (a lock on the zone row on PostgreSQL, the write lock on
// SQLite). Until it is done the stats read the calls themselves.
func (s *Incidents) RebuildRollups(ctx context.Context, loc *time.Location) error {
	lock := func(tx *store.Tx, set string, args ...any) error {
		_, err := tx.ExecContext(ctx, `UPDATE stats_zone SET `+set+` WHERE id = 1`, args...)
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO stats_zone (id, zone) VALUES (1, '') ON CONFLICT (id) DO NOTHING`); err != nil {
		return fmt.Errorf("incident: rebuild stats: %w", err)
	}
	var first, last sql.NullInt64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lock(tx, `zone = ?, ready = 0`, loc.String()); err != nil {
			return err
		}
		for _, t := range []string{"stats_calls", "stats_rings", "stats_accepts"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT MIN(started_at), MAX(started_at) FROM incidents`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			err = rows.Scan(&first, &last)
		}
		return errors.Join(err, rows.Err())
	})
	if err != nil {
		return fmt.Errorf("incident: rebuild stats: %w", err)
	}
	if first.Valid {
		for day := midnight(fromMS(first.Int64).In(loc)); !day.After(fromMS(last.Int64)); day = day.AddDate(0, 0, 1) {
			next := day.AddDate(0, 0, 1)
			err := s.db.InTx(ctx, func(tx *store.Tx) error {
				if err := lock(tx, `ready = 0`); err != nil {
					return err
				}
				d := dayOf(day, loc)
				for _, t := range []string{"stats_calls", "stats_rings", "stats_accepts"} {
					if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE day = ?`, d); err != nil {
						return err
					}
				}
				sm, err := sumCalls(ctx, tx, loc, false, `i.started_at >= ? AND i.started_at < ?`, ms(day), ms(next))
				if err != nil {
					return err
				}
				return writeSums(ctx, tx, sm)
			})
			if err != nil {
				return fmt.Errorf("incident: rebuild stats of %s: %w", day.Format(time.DateOnly), err)
			}
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE stats_zone SET ready = 1 WHERE id = 1 AND zone = ?`, loc.String()); err != nil {
		return fmt.Errorf("incident: rebuild stats: %w", err)
	}
	return nil
}

// readRollups reads the roll-ups of the local days [from, to).
func (s *Incidents) readRollups(ctx context.Context, from, to int) (*sums, error) {
	out := newSums()
	read := func(q string, scan func(*sql.Rows) error) error {
		rows, err := s.db.QueryContext(ctx, q, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := read(`SELECT day, team, menu_digit, status, answered_by, wait_s, calls FROM stats_calls WHERE day >= ? AND day < ? AND calls <> 0`, func(r *sql.Rows) error {
		var k callKey
		var n int
		err := r.Scan(&k.day, &k.team, &k.digit, &k.status, &k.answeredBy, &k.wait, &n)
		out.calls[k] += n
		return err
	})
	if err == nil {
		err = read(`SELECT day, engineer, type, n FROM stats_rings WHERE day >= ? AND day < ? AND n <> 0`, func(r *sql.Rows) error {
			var k ringKey
			var n int
			err := r.Scan(&k.day, &k.engineer, &k.typ, &n)
			out.rings[k] += n
			return err
		})
	}
	if err == nil {
		err = read(`SELECT day, engineer, accept_s, n FROM stats_accepts WHERE day >= ? AND day < ? AND n <> 0`, func(r *sql.Rows) error {
			var k acceptKey
			var n int
			err := r.Scan(&k.day, &k.engineer, &k.secs, &n)
			out.accepts[k] += n
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("incident: stats roll-ups: %w", err)
	}
	return out, nil
}
