package main

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/alert"
	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/calendar"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr"
	"github.com/hotline-dev/hotline/notify"
	"github.com/hotline-dev/hotline/page"
	"github.com/hotline-dev/hotline/revisions"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/web"
)

// deps is everything the routes are wired from.
type deps struct {
	log       zerolog.Logger
	db        *store.DB
	router    *routing.Router
	incidents *incident.Incidents
	writer    *incident.Writer // the durable write path of the call flow
	metrics   *ivr.Metrics
	registry  *prometheus.Registry
	announce  *announce.Announcements
	users     *web.Users
	outbox    *notify.Outbox // the SMS outbox: its status callback and replies
	authToken string
	// accountSID signs recording downloads with authToken; empty reads it
	// from each recording URL (env TWILIO_ACCOUNT_SID).
	accountSID string
	// twilioAPI replaces https://api.twilio.com for recordings; empty:
	// Twilio (env HOTLINE_TWILIO_API_URL).
	twilioAPI string
	publicURL string
	// trustedProxies may name the client in X-Forwarded-For (sign-in
	// throttling and its log).
	trustedProxies []netip.Prefix
	now            func() time.Time
	pager          *page.Pager
	// opened is told of each incident left open, to page it (alerts and
	// calls alike); nil pages nobody.
	opened func(ctx context.Context, id int64, team string, at time.Time)
	// revisions is the history of the configs served (/config).
	revisions *revisions.Store
}

// routes is every URL hotline serves, in one place.
func routes(d deps) http.Handler {
	r := mux.NewRouter()
	r.Handle("/healthz", handleHealth()).Methods(http.MethodGet)
	r.Handle("/readyz", handleReady(d.db, d.writer)).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	flow := ivr.NewFlow(ivr.FlowDeps{Router: d.router, Incidents: d.writer, Announcer: d.announce,
		PublicURL: d.publicURL, AuthToken: d.authToken, Now: d.now, Log: d.log, Metrics: d.metrics})
	tw := r.PathPrefix("/twilio").Subrouter()
	tw.Use(ivr.LogWebhooks(d.log, d.metrics), ivr.RequireSignature(d.authToken, d.publicURL, d.log, d.metrics))
	tw.Handle("/voice", flow.HandleIncoming()).Methods(http.MethodPost)
	tw.Handle("/fallback", flow.HandleFallback()).Methods(http.MethodPost)
	tw.Handle("/status", flow.HandleStatus()).Methods(http.MethodPost)
	tw.Handle("/menu", flow.HandleMenu()).Methods(http.MethodPost)
	tw.Handle("/pin", flow.HandlePIN()).Methods(http.MethodPost)
	tw.Handle("/dial", flow.HandleDialDone()).Methods(http.MethodPost)
	tw.Handle("/whisper", flow.HandleWhisper()).Methods(http.MethodPost)
	tw.Handle("/whisper/answer", flow.HandleWhisperAnswer()).Methods(http.MethodPost)
	tw.Handle("/recorded", flow.HandleRecorded()).Methods(http.MethodPost)
	tw.Handle("/no-message", flow.HandleNoMessage()).Methods(http.MethodPost)
	tw.Handle("/transcript", flow.HandleTranscript()).Methods(http.MethodPost)
	tw.Handle(strings.TrimPrefix(page.PathCall, "/twilio"), d.pager.HandleCall()).Methods(http.MethodPost)
	tw.Handle(strings.TrimPrefix(page.PathKey, "/twilio"), d.pager.HandleKey()).Methods(http.MethodPost)
	tw.Handle(strings.TrimPrefix(page.PathStatus, "/twilio"), d.pager.HandleStatus()).Methods(http.MethodPost)
	tw.Handle("/text-status", d.outbox.HandleStatus()).Methods(http.MethodPost)
	tw.Handle("/sms", d.outbox.HandleReply(d.pager.Reply)).Methods(http.MethodPost)

	// One guard checks the passwords of the sign-in form and the API, so
	// their failures count together and their hashing shares one bound.
	guard := web.NewGuard(d.users, web.GuardOptions{TrustedProxies: d.trustedProxies, Now: d.now, Log: d.log})
	// Machines' alerts authenticate with an integration's secret, not an
	// account, so they come before the API's sign-in.
	alerts := &alert.Handlers{Integrations: alert.NewIntegrations(d.db, d.now), Incidents: d.incidents, Opened: d.opened, Now: d.now, Log: d.log}
	r.Handle("/api/v1/alerts", alerts.HandleAlert()).Methods(http.MethodPost)
	r.Handle("/api/v1/alerts/alertmanager", alerts.HandleAlertmanager()).Methods(http.MethodPost)

	sessions := web.NewSessions(d.db, d.now)
	calendarTokens := calendar.NewTokens(d.db, d.now)
	r.Handle("/calendar/{token}.ics", web.LimitBody(calendar.Handler(d.router, calendarTokens, d.now, d.log))).Methods(http.MethodGet, http.MethodHead)
	site := web.NewSite(web.SiteDeps{
		Log: d.log, Users: d.users, Sessions: sessions, Incidents: d.incidents,
		Schedules: d.router, Overrides: schedules.NewStore(d.db, d.now).InZone(d.router.Config().Hotline.Location), Audit: audit.NewLog(d.db), Announce: d.announce,
		Recordings: &web.RecordingProxy{AccountSID: d.accountSID, AuthToken: d.authToken, Base: d.twilioAPI},
		RotateCalendar: func(ctx context.Context, kind, id, actor string) (string, error) {
			token, err := calendarTokens.Rotate(ctx, calendar.Kind(kind), id, actor)
			return calendar.URL(d.publicURL, token), err
		},
		PublicURL: d.publicURL, Now: d.now, Guard: guard, OptOuts: d.outbox,
		Configs: d.revisions, ConfigCalls: d.incidents,
	})
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(web.LimitBody, web.RequireAPIUser(guard, sessions, d.log))
	api.Handle("/incidents", web.HandleAPIIncidents(d.incidents, d.log)).Methods(http.MethodGet)
	api.Handle("/incidents/{id}", web.HandleAPIIncident(d.incidents, d.log)).Methods(http.MethodGet)
	// A browser's session cookie reaches the API too: its cross-site
	// POSTs are refused as the pages' are.
	apiWrites := http.NewCrossOriginProtection()
	api.Handle("/incidents/{id:[0-9]+}/acknowledge", apiWrites.Handler(web.HandleAPILifecycle(d.incidents, d.incidents.Acknowledge, d.now, d.log))).Methods(http.MethodPost)
	api.Handle("/incidents/{id:[0-9]+}/resolve", apiWrites.Handler(web.HandleAPILifecycle(d.incidents, d.incidents.Resolve, d.now, d.log))).Methods(http.MethodPost)
	api.Handle("/oncall", web.HandleAPIOnCall(d.router, d.now, d.log)).Methods(http.MethodGet)
	api.Handle("/stats", site.HandleAPIStats()).Methods(http.MethodGet)
	api.Handle("/live", web.HandleAPILive(d.incidents, d.router, d.log)).Methods(http.MethodGet)
	api.Handle("/config/revisions", web.HandleAPIRevisions(d.revisions, d.incidents, d.log)).Methods(http.MethodGet)

	site.Register(r)
	return r
}

func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// handleReady answers 200 only while the database answers and call events
// reach it; else 503, with a body naming each reason, e.g. "database
// unavailable: …; spool unwritable: …: no space left on device; 125 writes
// held in memory".
func handleReady(db *store.DB, writer *incident.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		st := writer.State()
		var reasons []string
		if st.Database == nil {
			var one int
			err := db.Ready(ctx)
			if err == nil {
				err = db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
			}
			if err != nil {
				reasons = append(reasons, "database unavailable: "+err.Error())
			}
		}
		reasons = append(reasons, st.Problems()...)
		if len(reasons) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(strings.Join(reasons, "; ") + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
}
