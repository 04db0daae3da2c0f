package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/examples"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
)

// Limits of hotline bench: it must stay a bounded local load test.
const (
	benchMaxDuration   = 120 * time.Second
	benchMaxConns      = 1024
	benchMaxLevels     = 8
	benchMaxInProgress = 10000
	benchMaxSeed       = 10_000_000
	benchMaxPause      = 10 * time.Second
)

// benchOptions are the flags of hotline bench.
type benchOptions struct {
	conns      []int
	duration   time.Duration
	inProgress int
	pause      time.Duration
	db         string
	seed       int
	json       bool
}

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "bench", "bench [--connections 4,64] [--duration 10s] [--calls-in-progress N [--pause 1s]] [--db F] [--seed N] [--json]")
	conns := fs.String("connections", "4,64", "concurrent connections (simulated calls played back to back) per run, comma-separated: one run per level")
	var o benchOptions
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run (at most 2m)")
	fs.IntVar(&o.inProgress, "calls-in-progress", 0, "instead of the runs: hold N calls in progress at once, each pausing --pause between webhooks, and report peak RSS")
	fs.DurationVar(&o.pause, "pause", time.Second, "with --calls-in-progress: the pause between a call's webhooks")
	fs.StringVar(&o.db, "db", "", "database to measure on: a SQLite file (e.g. one filled by 'hotline seed') or a postgres:// URL (default a new temporary SQLite file); bench adds its calls to it")
	fs.IntVar(&o.seed, "seed", 0, "first write N finished incidents to the database, as 'hotline seed' does")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole bench (server and load generator) to this file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	for _, f := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > benchMaxConns {
			return badFlag(fs, "--connections %q: give numbers from 1 to %d, comma-separated", *conns, benchMaxConns)
		}
		o.conns = append(o.conns, n)
	}
	switch {
	case len(o.conns) > benchMaxLevels:
		return badFlag(fs, "--connections: at most %d levels", benchMaxLevels)
	case o.duration < 100*time.Millisecond || o.duration > benchMaxDuration:
		return badFlag(fs, "--duration %s: give 100ms to %s", o.duration, benchMaxDuration)
	case o.inProgress < 0 || o.inProgress > benchMaxInProgress:
		return badFlag(fs, "--calls-in-progress %d: give 0 (off) to %d", o.inProgress, benchMaxInProgress)
	case o.pause < 0 || o.pause > benchMaxPause:
		return badFlag(fs, "--pause %s: give 0 to %s", o.pause, benchMaxPause)
	case o.seed < 0 || o.seed > benchMaxSeed:
		return badFlag(fs, "--seed %d: give 0 to %d", o.seed, benchMaxSeed)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := runBench(ctx, e, o)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(e.stdout)
	}
	if n := rep.errors(); n > 0 {
		return fmt.Errorf("bench: %d webhooks failed (first: %s)", n, rep.firstError())
	}
	return nil
}

// benchReport is what hotline bench prints; its first fields are those README "Commands" documents.
type benchReport struct {
	Runs       []benchRun `json:"runs"`
	PeakRSSMB  float64    `json:"peak_rss_mb"`
	InProgress *benchRun  `json:"in_progress,omitempty"`
	// Steps names the webhooks of one call, in order.
	Steps     []string `json:"steps"`
	DurationS float64  `json:"duration_s"`
	// Incidents is how many the database held when measuring began (a
	// database filled by 'hotline seed', --seed, or both).
	Incidents  int `json:"incidents_at_start"`
	GOMAXPROCS int `json:"gomaxprocs"`
	// LoadAvg is the machine's 1-minute load average before and after:
	// other work on the cores skews every figure.
	LoadAvg [2]float64 `json:"load_avg_1m"`
}

// benchRun is one measured load level: hotline, and the bare ceiling driven
// the same way in the same run.
type benchRun struct {
	Connections  int     `json:"connections"`
	WebhooksPerS float64 `json:"webhooks_per_s"`
	CeilingPerS  float64 `json:"ceiling_per_s"`
	Ratio        float64 `json:"ratio"`
	P50MS        float64 `json:"p50_ms"`
	P99MS        float64 `json:"p99_ms"`
	CallsPerS    float64 `json:"calls_per_s"`
	MaxMS        float64 `json:"max_ms"`
	Webhooks     int     `json:"webhooks"`
	Calls        int     `json:"calls"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
	// Allocations per webhook in the whole process (load generator
	// included): hotline's run, the ceiling's, and their difference, which
	// is what hotline itself adds.
	Allocs        float64 `json:"allocs_per_webhook"`
	CeilingAllocs float64 `json:"ceiling_allocs_per_webhook,omitempty"`
	AllocsOver    float64 `json:"allocs_over_ceiling,omitempty"`
	// CPU time (user and system) per webhook in the whole process, load
	// generator included, for hotline's run and the ceiling's: the
	// difference is what hotline itself costs, whatever the machine's load.
	CPUMicros        float64 `json:"cpu_us_per_webhook"`
	CeilingCPUMicros float64 `json:"ceiling_cpu_us_per_webhook,omitempty"`
	CeilingP50MS     float64 `json:"ceiling_p50_ms,omitempty"`
	CeilingP99MS     float64 `json:"ceiling_p99_ms,omitempty"`
	CeilingErrors    int     `json:"ceiling_errors"`
	// Spooled counts events that missed the database's deadline and went
	// to the fsynced spool instead.
	Spooled int `json:"spooled_writes"`
	// Verified counts completed calls whose incident was read back closed
	// as answered; Unverified those that were not.
	Verified   int         `json:"incidents_verified"`
	Unverified int         `json:"incidents_unverified"`
	MaxCalls   int         `json:"max_calls_in_progress,omitempty"`
	StepStats  []stepStats `json:"per_step"`
}

// stepStats is the latency of one webhook of the call.
type stepStats struct {
	Step  string  `json:"step"`
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// runBench starts hotline and the ceiling, records the template call and
// measures each level.
func runBench(ctx context.Context, e env, o benchOptions) (*benchReport, error) {
	dir, err := os.MkdirTemp("", "hotline-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(cfgPath, examples.Config, 0o644); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if o.db == "" {
		o.db = filepath.Join(dir, "hotline.db")
	}
	// The server logs every webhook, as in production, to a file: a
	// terminal would dominate the measurement.
	logFile, err := os.Create(filepath.Join(dir, "hotline.log"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer logFile.Close()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	s, err := startServer(sctx, serveOptions{common: common{config: cfgPath, db: o.db, spool: filepath.Join(dir, "hotline.spool")}, addr: "127.0.0.1:0", authToken: randomHex(16)}, newLogger(logFile))
	if err != nil {
		return nil, err
	}
	if o.seed > 0 {
		if !o.json {
			fmt.Fprintf(e.stderr, "bench: writing %d incidents…\n", o.seed)
		}
		if _, err := s.incidents.Seed(ctx, s.cfg, incident.SeedOptions{N: o.seed, End: time.Now(), Seed: 1}); err != nil {
			s.Close()
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	held, err := s.incidents.CountIncidents(ctx)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(sctx) }()
	defer func() { stop(); <-served }()

	ceiling, err := startCeiling()
	if err != nil {
		return nil, err
	}
	defer ceiling.Close()

	seq, err := templateCall(ctx, s)
	if err != nil {
		return nil, err
	}
	rep := &benchReport{DurationS: o.duration.Seconds(), Incidents: held, GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvg: [2]float64{loadAvg(), 0}}
	for i := range seq.Len() {
		rep.Steps = append(rep.Steps, seq.Name(i))
	}
	hot := target{base: "http://" + s.addr, public: s.publicURL, token: s.authToken, server: s}
	bare := target{base: "http://" + ceiling.Addr, public: s.publicURL, token: s.authToken}
	if o.inProgress > 0 {
		r, err := measure(ctx, seq, hot, load{conns: o.inProgress, duration: o.duration, pause: o.pause})
		if err != nil {
			return nil, err
		}
		rep.InProgress = &r
		rep.Runs = []benchRun{}
	}
	for _, c := range o.conns {
		if o.inProgress > 0 {
			break
		}
		l := load{conns: c, duration: o.duration}
		cr, err := measure(ctx, seq, bare, l)
		if err != nil {
			return nil, err
		}
		r, err := measure(ctx, seq, hot, l)
		if err != nil {
			return nil, err
		}
		r.CeilingPerS, r.CeilingP50MS, r.CeilingP99MS = cr.WebhooksPerS, cr.P50MS, cr.P99MS
		r.CeilingErrors, r.CeilingAllocs, r.CeilingCPUMicros = cr.Errors, cr.Allocs, cr.CPUMicros
		r.AllocsOver = round(r.Allocs-cr.Allocs, 1)
		if r.FirstError == "" {
			r.FirstError = cr.FirstError
		}
		if cr.WebhooksPerS > 0 {
			r.Ratio = round(r.WebhooksPerS/cr.WebhooksPerS, 3)
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.PeakRSSMB = peakRSSMB()
	rep.LoadAvg[1] = loadAvg()
	return rep, nil
}

// templateCall places one call through the simulator, as Twilio would: the
// caller presses the first menu option and the first engineer of its chain
// accepts. Its webhooks are the request mix every benchmark call replays.
func templateCall(ctx context.Context, s *server) (*sim.Sequence, error) {
	cfg := s.router.Config()
	opt := cfg.Menu.Options[0]
	chain, err := s.router.Chain(ctx, opt.Team, time.Now())
	if err != nil || len(chain) == 0 {
		return nil, fmt.Errorf("bench: team %s has nobody on call for the template call (%v)", opt.Team, err)
	}
	tw := &sim.Twilio{BaseURL: "http://" + s.addr, PublicURL: s.publicURL, AuthToken: s.authToken, CallerNameLookup: true}
	res, err := tw.Call(ctx, sim.Script{
		From: "+15555550123", CallerName: "Bench Corp", To: cfg.Hotline.Number,
		Presses: []string{opt.Digit}, Engineers: map[string]sim.Behaviour{chain[0].Phone: sim.Accept},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: template call: %w", err)
	}
	if in, err := s.incidents.IncidentByCallSid(ctx, res.CallSid); err != nil || in.Status != incident.StatusAnswered {
		return nil, fmt.Errorf("bench: the template call was not answered (%v)", err)
	}
	return sim.NewSequence(res.Requests)
}

// ceilingTwiML is the bare handler's fixed answer: about the size of a
// short hotline document.
const ceilingTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you for calling.</Say></Response>`

// ceilingServer is the machine's ceiling: a bare net/http handler that
// parses the Twilio form and returns fixed TwiML, on its own loopback port.
type ceilingServer struct {
	Addr string
	srv  *http.Server
}

func startCeiling() (*ceilingServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: ceiling: %w", err)
	}
	c := &ceilingServer{Addr: ln.Addr().String(), srv: &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, ceilingTwiML)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *ceilingServer) Close() error { return c.srv.Close() }

// peakRSSMB is the process's peak resident set (VmHWM), in MB; 0 where
// /proc is not available. It covers hotline and the load generator, which
// share the process.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err == nil {
				return round(float64(kb)/1024, 1)
			}
		}
	}
	return 0
}

// loadAvg is the 1-minute load average; 0 where /proc is not available.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

func (r *benchReport) all() []benchRun {
	if r.InProgress != nil {
		return append([]benchRun{*r.InProgress}, r.Runs...)
	}
	return r.Runs
}

func (r *benchReport) errors() int {
	n := 0
	for _, run := range r.all() {
		n += run.Errors + run.CeilingErrors + run.Unverified
	}
	return n
}

func (r *benchReport) firstError() string {
	for _, run := range r.all() {
		if run.FirstError != "" {
			return run.FirstError
		}
		if run.Unverified > 0 {
			return fmt.Sprintf("%d completed calls not recorded as answered", run.Unverified)
		}
	}
	return "none"
}

// print writes the report as tables.
func (r *benchReport) print(w io.Writer) {
	names := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		names[i] = strings.TrimPrefix(s, "/twilio/")
	}
	fmt.Fprintf(w, "hotline bench: each call is %d webhooks (%s); %s per run; GOMAXPROCS %d; %d incidents in the database at the start; load average %.2f before, %.2f after\n",
		len(r.Steps), strings.Join(names, ", "), time.Duration(r.DurationS*float64(time.Second)), r.GOMAXPROCS, r.Incidents, r.LoadAvg[0], r.LoadAvg[1])
	if len(r.Runs) > 0 {
		fmt.Fprintf(w, "\n%5s %11s %10s %6s %8s %7s %7s %8s %6s %-17s %s\n",
			"conns", "webhooks/s", "ceiling/s", "ratio", "calls/s", "p50 ms", "p99 ms", "max ms", "errors", "cpu µs/webhook", "allocs/webhook")
		for _, run := range r.Runs {
			fmt.Fprintf(w, "%5d %11.0f %10.0f %6.3f %8.0f %7.2f %7.2f %8.2f %6d %-17s %.0f (ceiling %.0f)\n",
				run.Connections, run.WebhooksPerS, run.CeilingPerS, run.Ratio, run.CallsPerS, run.P50MS, run.P99MS, run.MaxMS,
				run.Errors+run.CeilingErrors+run.Unverified, fmt.Sprintf("%.0f (ceiling %.0f)", run.CPUMicros, run.CeilingCPUMicros), run.Allocs, run.CeilingAllocs)
		}
	}
	for _, run := range r.all() {
		title := fmt.Sprintf("%d connections: latency per step; ceiling p50 %.2f ms, p99 %.2f ms", run.Connections, run.CeilingP50MS, run.CeilingP99MS)
		if run.MaxCalls > 0 {
			title = fmt.Sprintf("%d calls in progress (at most %d at once measured): %.0f webhooks/s, %.0f calls/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors, %.0f allocs/webhook",
				run.Connections, run.MaxCalls, run.WebhooksPerS, run.CallsPerS, run.P50MS, run.P99MS, run.MaxMS, run.Errors+run.Unverified, run.Allocs)
		}
		fmt.Fprintf(w, "\n%s; %d events spooled; %d incidents verified\n", title, run.Spooled, run.Verified)
		fmt.Fprintf(w, "  %-24s %8s %7s %7s %8s\n", "step", "count", "p50 ms", "p99 ms", "max ms")
		for _, s := range run.StepStats {
			fmt.Fprintf(w, "  %-24s %8d %7.2f %7.2f %8.2f\n", s.Step, s.Count, s.P50MS, s.P99MS, s.MaxMS)
		}
		if run.FirstError != "" {
			fmt.Fprintf(w, "  first error: %s\n", run.FirstError)
		}
	}
	fmt.Fprintf(w, "\npeak RSS %.1f MB (hotline and the load generator share the process)\n", r.PeakRSSMB)
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}
