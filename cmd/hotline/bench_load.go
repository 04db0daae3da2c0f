package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
)

// target is a server the load generator drives: hotline (server set) or
// the ceiling. Both are signed for hotline's public URL, so the generator
// does the same work for each.
type target struct {
	base, public, token string
	server              *server // nil for the ceiling
}

// load is one level: conns workers, each playing calls back to back (or,
// with pause, spaced as a real call's webhooks are) for duration.
type load struct {
	conns    int
	duration time.Duration
	pause    time.Duration
}

// verifySample is how many completed calls' incidents are read back after
// a hotline run.
const verifySample = 20

// worker is one connection's tally. Latencies are kept in microseconds per
// step: exact percentiles at 4 bytes a webhook.
type worker struct {
	lat      [][]uint32
	calls    int
	webhooks int
	errors   int
	firstErr string
	done     []string // SIDs of calls that completed, the last few
}

// measure drives t with l after a short unmeasured warm-up (none when
// paced: the staggered start is the ramp) and summarises the run.
func measure(ctx context.Context, seq *sim.Sequence, t target, l load) (benchRun, error) {
	// Each worker has its own replayer over its own keep-alive connection.
	reps := make([]*sim.Replayer, l.conns)
	for i := range reps {
		tr := &connTransport{addr: strings.TrimPrefix(t.base, "http://")}
		defer tr.Close()
		reps[i] = &sim.Replayer{BaseURL: t.base, PublicURL: t.public, AuthToken: t.token,
			Client: &http.Client{Transport: tr}, Pause: l.pause}
	}
	if l.pause == 0 {
		warm := min(l.duration/5, time.Second)
		if _, _, err := drive(ctx, seq, reps, warm, 0); err != nil {
			return benchRun{}, err
		}
	}
	spooled := t.spooled()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	ws, elapsed, err := drive(ctx, seq, reps, l.duration, l.pause)
	if err != nil {
		return benchRun{}, err
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	r := summarise(seq, ws.workers, elapsed)
	r.Connections = l.conns
	if r.Webhooks > 0 {
		r.Allocs = round(float64(m1.Mallocs-m0.Mallocs)/float64(r.Webhooks), 1)
		r.CPUMicros = round(float64(cpu.Microseconds())/float64(r.Webhooks), 1)
	}
	if l.pause > 0 {
		r.MaxCalls = int(ws.maxInProgress.Load())
	}
	if t.server != nil {
		r.Spooled = t.spooled() - spooled
		r.Verified, r.Unverified = verify(ctx, t.server, ws.workers)
	}
	return r, nil
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drove is what drive leaves behind.
type drove struct {
	workers       []*worker
	maxInProgress atomic.Int64
}

// drive runs a worker per replayer until d has passed. Paced workers start
// spread over one call's length, so that as many calls as workers are in
// progress at once.
func drive(ctx context.Context, seq *sim.Sequence, reps []*sim.Replayer, d, pause time.Duration) (*drove, time.Duration, error) {
	conns := len(reps)
	dr := &drove{workers: make([]*worker, conns)}
	var inProgress atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	callLen := pause * time.Duration(seq.Len()-1)
	var wg sync.WaitGroup
	for i := range conns {
		w := &worker{lat: make([][]uint32, seq.Len())}
		dr.workers[i] = w
		wg.Go(func() {
			if callLen > 0 && !sleepCtx(ctx, callLen*time.Duration(i)/time.Duration(conns)) {
				return
			}
			observe := func(p sim.Played) bool {
				w.lat[p.Step] = append(w.lat[p.Step], uint32(min(p.Latency.Microseconds(), 1<<32-1)))
				if p.Err != nil {
					w.errors++
					if w.firstErr == "" {
						w.firstErr = p.Err.Error()
					}
				} else {
					w.webhooks++
				}
				return time.Now().Before(deadline)
			}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := inProgress.Add(1)
				for m := dr.maxInProgress.Load(); n > m && !dr.maxInProgress.CompareAndSwap(m, n); m = dr.maxInProgress.Load() {
				}
				var sid string
				done, err := reps[i].Play(ctx, seq, func(p sim.Played) bool { sid = p.CallSid; return observe(p) })
				inProgress.Add(-1)
				if err == nil && done == seq.Len() {
					w.calls++
					if len(w.done) < verifySample {
						w.done = append(w.done, sid)
					} else {
						w.done[w.calls%verifySample] = sid
					}
				}
			}
		})
	}
	wg.Wait()
	return dr, time.Since(start), ctx.Err()
}

// summarise merges the workers' tallies: rates over the elapsed time and
// exact percentiles per step and overall.
func summarise(seq *sim.Sequence, ws []*worker, elapsed time.Duration) benchRun {
	var r benchRun
	var all []uint32
	for step := range seq.Len() {
		var lat []uint32
		for _, w := range ws {
			lat = append(lat, w.lat[step]...)
		}
		slices.Sort(lat)
		all = append(all, lat...)
		r.StepStats = append(r.StepStats, stepStats{Step: seq.Name(step), Count: len(lat),
			P50MS: pct(lat, 0.50), P99MS: pct(lat, 0.99), MaxMS: pct(lat, 1)})
	}
	slices.Sort(all)
	r.P50MS, r.P99MS, r.MaxMS = pct(all, 0.50), pct(all, 0.99), pct(all, 1)
	for _, w := range ws {
		r.Calls += w.calls
		r.Webhooks += w.webhooks
		r.Errors += w.errors
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	r.WebhooksPerS = round(float64(r.Webhooks)/elapsed.Seconds(), 1)
	r.CallsPerS = round(float64(r.Calls)/elapsed.Seconds(), 1)
	return r
}

// pct is the nearest-rank percentile of sorted microseconds, in ms.
func pct(sorted []uint32, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return round(float64(sorted[i])/1000, 3)
}

// verify reads back a sample of the completed calls' incidents: each must
// be closed as answered, or the 2xx answers meant nothing.
func verify(ctx context.Context, s *server, ws []*worker) (ok, bad int) {
	s.settle(ctx, 5*time.Second)
	for _, w := range ws {
		for _, sid := range w.done {
			if ok+bad >= verifySample {
				return ok, bad
			}
			in, err := s.incidents.IncidentByCallSid(ctx, sid)
			if err == nil && in.Status == incident.StatusAnswered && in.EndedAt != nil {
				ok++
			} else {
				bad++
			}
		}
	}
	return ok, bad
}

// spooled reads hotline's count of writes sent to the spool; 0 for the
// ceiling.
func (t target) spooled() int {
	if t.server == nil {
		return 0
	}
	mfs, err := t.server.registry.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "hotline_spooled_writes_total" && len(mf.GetMetric()) > 0 {
			return int(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return 0
}

// connTransport is one keep-alive HTTP/1.1 connection used by one worker
// at a time: the load generator's share of the CPU stays small (no
// connection pool, no reader and writer goroutines), which leaves more of
// the machine to the servers being measured. It dials 127.0.0.1 only.
type connTransport struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// connTimeout bounds one request and its answer.
const connTimeout = 30 * time.Second

// RoundTrip sends req on the connection (dialling it first if needed) and
// reads the response head; the body is read from the connection by the
// caller, before the next request.
func (c *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if c.conn == nil {
		host, _, err := net.SplitHostPort(c.addr)
		if err != nil || host != "127.0.0.1" {
			return nil, fmt.Errorf("bench: %s: only 127.0.0.1 is driven", c.addr)
		}
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(req.Context(), "tcp", c.addr)
		if err != nil {
			return nil, err
		}
		c.conn, c.br, c.bw = conn, bufio.NewReader(conn), bufio.NewWriter(conn)
	}
	_ = c.conn.SetDeadline(time.Now().Add(connTimeout))
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(c.br, req)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.Close {
		resp.Body = closeAfter{resp.Body, c}
	}
	return resp, nil
}

// Close closes the connection; the next request dials a new one.
func (c *connTransport) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// closeAfter closes the connection once a response the server marked
// "Connection: close" has been read.
type closeAfter struct {
	io.ReadCloser
	c *connTransport
}

func (b closeAfter) Close() error {
	err := b.ReadCloser.Close()
	b.c.Close()
	return err
}
