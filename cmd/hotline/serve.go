package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/page"
	"github.com/hotline-dev/hotline/revisions"
	"github.com/hotline-dev/hotline/routing"

	"github.com/hotline-dev/hotline/web"
)

// writeWait bounds how long a webhook waits for the database to commit its
// event before the event is spooled instead: dead air must stay short.
const writeWait = 400 * time.Millisecond

// server is a running hotline: the loaded config, the database and the HTTP
// listener.
type server struct {
	*app
	log       zerolog.Logger
	addr      string // where it listens, with the real port
	publicURL string
	authToken string
	trusted   []netip.Prefix // proxies whose X-Forwarded-For is believed
	incidents *incident.Incidents
	writer    *incident.Writer
	metrics   *ivr.Metrics
	registry  *prometheus.Registry
	announce  *announce.Announcements
	users     *web.Users
	outbox    *notify.Outbox
	texts     *notify.CallTexts
	followUps *followUps
	revisions *revisions.Store
	instance  string // this process in the config history (revisions.InstanceName)
	pager     *page.Pager
	// rebuildRollups: the stats' roll-ups are rebuilt in the background
	// once serving (rollupsDue).
	rebuildRollups bool
	caller         *page.TwilioCaller // nil without a Twilio account
	paging         bool               // pages are placed: an account, or the demo's simulator
	sending        bool               // the outbox has a Twilio account to send with
	http           *http.Server
	listener       net.Listener
}

// serveOptions are the settings of serve (and of demo, which sets them).
type serveOptions struct {
	common
	addr       string
	publicURL  string
	authToken  string
	accountSID string
	// trustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client, for sign-in throttling and its log.
	trustedProxies []netip.Prefix
	// twilioAPI replaces the scheme and host of every Twilio REST request
	// (texts, recordings): a local fake, checked by notify.APIURL.
	twilioAPI string
	// pageCaller places page calls instead of Twilio's Calls API: the
	// demo's simulator. nil: Twilio's, with an account.
	pageCaller page.Caller
}

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "serve --config F --db F|postgres://… --addr H:P [--public-url U] [--spool F] [--trusted-proxies CIDRs] [--twilio-api-url U]")
	var o serveOptions
	o.register(fs, e, true)
	o.registerSpool(fs, e)
	fs.StringVar(&o.addr, "addr", envOr(e, "HOTLINE_ADDR", defaultAddr), "listen address (env HOTLINE_ADDR)")
	fs.StringVar(&o.publicURL, "public-url", e.getenv("HOTLINE_PUBLIC_URL"), "the URL Twilio reaches hotline at, e.g. https://hotline.example.com (env HOTLINE_PUBLIC_URL)")
	fs.StringVar(&o.twilioAPI, "twilio-api-url", e.getenv(twilioAPIEnv), twilioAPIUsage)
	proxies := fs.String("trusted-proxies", e.getenv("HOTLINE_TRUSTED_PROXIES"), "comma-separated CIDRs of the reverse proxies whose X-Forwarded-For names the client, e.g. 172.18.0.0/16 (env HOTLINE_TRUSTED_PROXIES)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noPositional(fs, pos); err != nil {
		return err
	}
	if o.trustedProxies, err = web.ParseTrustedProxies(*proxies); err != nil {
		return badFlag(fs, "--trusted-proxies: %v", err)
	}
	if _, err := notify.APIURL(o.twilioAPI); err != nil {
		return badFlag(fs, "--twilio-api-url: %v", err)
	}
	o.authToken = e.getenv("TWILIO_AUTH_TOKEN")
	o.accountSID = e.getenv("TWILIO_ACCOUNT_SID")
	if o.authToken == "" {
		return errors.New("serve: set TWILIO_AUTH_TOKEN to your Twilio auth token: without it no webhook can be verified (try 'hotline demo' to play locally)")
	}
	log := newLogger(e.stderr)
	s, err := startServer(ctx, o, log)
	if err != nil {
		return err
	}
	if o.publicURL == "" {
		log.Warn().Str("public_url", s.publicURL).Msg("HOTLINE_PUBLIC_URL is not set: signatures are checked against the listen address, which only works for local testing")
	}
	urls := wantedSettings(strings.TrimRight(s.publicURL, "/"))
	log.Info().Str("voice_url", urls[0].value).Str("status_callback_url", urls[2].value).Str("fallback_url", urls[4].value).
		Msg("give the Twilio number these URLs, each with HTTP POST (or run 'hotline twilio configure')")
	log.Info().Str("sms_url", strings.TrimRight(s.publicURL, "/")+"/twilio/sms").
		Msg("give the number texts are sent from this \"A message comes in\" URL, with HTTP POST, so STOP replies reach hotline")
	checkTwilioAtStart(ctx, e, o, s.cfg, log)
	fmt.Fprintf(e.stdout, "hotline: listening on http://%s (public URL %s)\n", s.addr, s.publicURL)
	return s.serve(ctx)
}

// rollupsDue says whether the stats' daily roll-ups are to be rebuilt in
// the background: they are not in the config's zone (the first start with
// them, or hotline.timezone changed) and there are calls to count. With no
// calls yet they are made at once, which takes milliseconds.
func rollupsDue(ctx context.Context, incidents *incident.Incidents, loc *time.Location) (bool, error) {
	zone, err := incidents.RollupZone(ctx)
	if err != nil || zone == loc.String() {
		return false, err
	}
	any, err := incidents.HasIncidents(ctx)
	if err != nil || any {
		return any, err
	}
	return false, incidents.RebuildRollups(ctx, loc)
}

// keepRollups rebuilds the stats' roll-ups in the background: calls are
// answered meanwhile, and the stats page reads the calls themselves until
// it is done. A failure is logged; the next start tries again.
func keepRollups(ctx context.Context, incidents *incident.Incidents, loc *time.Location, log zerolog.Logger) {
	start := time.Now()
	if err := incidents.RebuildRollups(ctx, loc); err != nil {
		if ctx.Err() == nil {
			log.Warn().Err(err).Msg("stats roll-ups not rebuilt: the stats page reads the calls themselves, more slowly")
		}
		return
	}
	log.Info().Str("zone", loc.String()).Dur("took", time.Since(start)).Msg("stats roll-ups rebuilt")
}

func newLogger(w io.Writer) zerolog.Logger {
	return zerolog.New(w).With().Timestamp().Logger()
}

// startServer loads the config, opens the database and starts listening.
func startServer(ctx context.Context, o serveOptions, log zerolog.Logger) (*server, error) {
	a, err := openApp(ctx, o.common, time.Now)
	if err != nil {
		return nil, err
	}
	incidents := incident.NewIncidents(a.db)
	if indexed, err := incidents.TrigramSearch(ctx); err != nil {
		log.Warn().Err(err).Msg("call log search: cannot tell whether it has a trigram index")
	} else if !indexed {
		log.Warn().Msg("call log search has no trigram index (PostgreSQL's pg_trgm extension could not be created at migration): " +
			"a search that matches little reads every incident; CREATE EXTENSION pg_trgm as a superuser and create the index of incident/migrations/postgres/00008_incident_search.sql")
	}
	rebuild, err := rollupsDue(ctx, incidents, a.cfg.Hotline.Location)
	if err != nil {
		// Only the stats page is slower without them: serve goes on.
		log.Warn().Err(err).Msg("stats roll-ups not checked: the stats page reads the calls themselves, more slowly")
	}
	writer, err := incident.NewWriter(incidents, o.spoolPath(), writeWait, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		writer.Close()
		a.Close()
		return nil, fmt.Errorf("serve: listen on %s: %w", o.addr, err)
	}
	registry := prometheus.NewRegistry()
	metrics := ivr.NewMetrics()
	registry.MustRegister(metrics.Collectors()...)
	registry.MustRegister(writer.Collectors()...)
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{
		app:            a,
		log:            log,
		addr:           ln.Addr().String(),
		publicURL:      o.publicURL,
		authToken:      o.authToken,
		trusted:        o.trustedProxies,
		incidents:      incidents,
		rebuildRollups: rebuild,
		writer:         writer,
		metrics:        metrics,
		registry:       registry,
		announce:       announce.NewAnnouncements(a.db, time.Now).InZone(a.cfg.Hotline.Location),
		users:          web.NewUsers(a.db, time.Now),
		revisions:      revisions.New(a.db, time.Now),
		instance:       revisions.InstanceName(ln.Addr().String()),
		listener:       ln,
	}
	if s.publicURL == "" {
		s.publicURL = "http://" + s.addr
	}
	var sender notify.Sender
	if o.accountSID != "" {
		tw, err := notify.NewTwilio(textSender(a.cfg.Hotline, o, s.publicURL))
		if err != nil {
			writer.Close()
			ln.Close()
			a.Close()
			return nil, fmt.Errorf("serve: texts: %w", err)
		}
		sender, s.sending = tw, true
	}
	s.outbox = notify.New(a.db, sender, time.Now, log, notify.Options{})
	s.outbox.ReportTo(incidents)
	registry.MustRegister(s.outbox.Collectors()...)
	s.texts = notify.NewCallTexts(s.outbox, a.db, incidents, a.router, s.publicURL, log)
	s.followUps = newFollowUps(incidents, a.router.Config, log)
	if o.accountSID != "" {
		caller, err := page.NewTwilioCaller(page.TwilioConfig{AccountSID: o.accountSID, AuthToken: o.authToken, BaseURL: o.twilioAPI,
			CallsPerSecond: a.cfg.Hotline.OutboundCallsPerSecond})
		if err != nil {
			writer.Close()
			ln.Close()
			a.Close()
			return nil, fmt.Errorf("serve: paging: %w", err)
		}
		s.caller = caller
	}
	// Without an account pages are kept, due, in the database: placed once
	// hotline runs with one.
	caller := o.pageCaller
	if s.caller != nil {
		caller = s.caller
	}
	s.paging = caller != nil
	s.pager = page.New(page.Deps{DB: a.db, Subjects: pageSubjects{incidents}, Chains: a.router, Texter: s.outbox,
		Caller: caller, PublicURL: s.publicURL, Log: log})
	registry.MustRegister(s.pager.Collectors()...)
	registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hotline_open_incidents",
		Help: "Incidents open now: calls and alerts nobody has acknowledged or resolved (calls in progress included).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := incidents.OpenCount(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
	s.followUps.opened = s.openPages
	writer.OnCommit(func(batch []incident.Committed) {
		s.texts.Committed(batch)
		s.followUps.committed(batch)
	})
	s.http = &http.Server{
		Handler: routes(deps{
			log: log, db: a.db, router: a.router, incidents: s.incidents, writer: writer, metrics: metrics, registry: registry,
			announce: s.announce, users: s.users, outbox: s.outbox, pager: s.pager, opened: s.openPages, revisions: s.revisions,
			authToken: s.authToken, accountSID: o.accountSID, twilioAPI: o.twilioAPI, publicURL: s.publicURL, trustedProxies: s.trusted, now: time.Now,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info().Str("addr", s.addr).Str("config", o.config).Str("spool", writer.SpoolPath()).Str("revision", a.cfg.Revision[:12]).Msg("hotline started")
	s.recordLive(ctx)
	return s, nil
}

// textSender is how the outbox reaches the Messages API: as the Messaging
// Service when hotline.messaging_service_sid is set, else from
// hotline.sms_from or hotline.number (config.Hotline.TextSender), with each
// text's status posted to /twilio/text-status.
func textSender(h config.Hotline, o serveOptions, publicURL string) notify.TwilioConfig {
	cfg := notify.TwilioConfig{AccountSID: o.accountSID, AuthToken: o.authToken, BaseURL: o.twilioAPI,
		StatusCallback: strings.TrimRight(publicURL, "/") + "/twilio/text-status"}
	if h.MessagingServiceSID != "" {
		cfg.MessagingServiceSID = h.MessagingServiceSID
	} else {
		cfg.From = h.TextSender()
	}
	return cfg
}

// serve answers requests until ctx ends, re-reading the config on SIGHUP,
// then shuts down gracefully: in-flight webhooks finish (bounded).
func (s *server) serve(ctx context.Context) error {
	defer s.Close()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	watch := routing.NewCoverageWatch(s.router, s.log, s.registry)
	work, stopWork := context.WithCancel(ctx)
	defer stopWork()
	go watch.Run(work)
	go s.texts.Run(work)
	go s.followUps.run(work)
	go s.closeStale(work, time.Now)
	if s.rebuildRollups {
		go keepRollups(work, s.incidents, s.router.Config().Hotline.Location, s.log)
	}
	if s.paging {
		go func() {
			if err := s.pager.Run(work); err != nil && work.Err() == nil {
				s.log.Error().Err(err).Msg("paging stopped")
			}
		}()
	}
	if s.sending {
		go s.outbox.Run(work)
		go notify.NewReminders(s.outbox, s.router, time.Now, s.log).Run(work)
	}
	beat := time.NewTicker(revisions.Beat)
	defer beat.Stop()
	for {
		select {
		case <-hup:
			s.reload(ctx)
		case <-beat.C:
			s.recordLive(ctx)
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := s.http.Shutdown(shutdown)
			s.recordStopped(shutdown)
			s.writer.Close()
			s.log.Info().Msg("hotline stopped")
			return err
		}
	}
}

// staleEvery is how often serve looks for calls whose final status never
// arrived (incident.StaleAfter).
const staleEvery = 10 * time.Minute

// closeStale closes the calls still in progress past the longest call, at
// start and every staleEvery until ctx ends. Every instance may run it: a
// call is closed once (incident.Incidents.CloseStale).
func (s *server) closeStale(ctx context.Context, now func() time.Time) {
	tick := time.NewTicker(staleEvery)
	defer tick.Stop()
	for {
		n, err := s.writer.CloseStale(ctx, now(), incident.StaleAfter)
		if err != nil && ctx.Err() == nil {
			s.log.Error().Err(err).Msg("closing stale calls")
		}
		if n > 0 {
			s.log.Warn().Int("calls", n).Dur("after", incident.StaleAfter).Msg("closed calls whose final status never arrived")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// settle waits, at most d, until every write a webhook was answered for is
// in the database: a write slower than writeWait was answered from the
// spool, which the writer replays within a second or two.
func (s *server) settle(ctx context.Context, d time.Duration) {
	for deadline := time.Now().Add(d); !s.writer.Healthy() && time.Now().Before(deadline); {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return
		}
	}
}

// sleepCtx sleeps for d, or less if ctx ends first; it reports whether d
// passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
