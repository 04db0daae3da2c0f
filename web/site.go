package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// IncidentLog is what the pages read and write of the incident log.
type IncidentLog interface {
	IncidentReader
	EachIncident(ctx context.Context, f incident.Filter, fn func(incident.Incident) error) error
	CountMatching(ctx context.Context, f incident.Filter, bound int) (n int, more bool, err error)
	Stats(ctx context.Context, from, to time.Time, loc *time.Location) (incident.Stats, error)
	SetNote(ctx context.Context, id int64, note, actor string, at time.Time) error
	Lifecycle
	LiveReader
}

// Lifecycle is how a person takes or closes an incident: by the incident
// page or the API (and the CLI, outside web).
type Lifecycle interface {
	Acknowledge(ctx context.Context, id int64, by, how string, at time.Time) error
	Resolve(ctx context.Context, id int64, by, how string, at time.Time) error
}

// Schedules is what the pages need of the router: the live config, the
// chains and the override index.
type Schedules interface {
	Config() *config.Config
	WhoIsOnCall(ctx context.Context, team string, at time.Time) (routing.OnCall, error)
	Overrides(ctx context.Context) (*schedules.OverrideIndex, error)
}

// OverrideStore keeps overrides.
type OverrideStore interface {
	AddOverride(ctx context.Context, o schedules.Override, dir schedules.Directory) (schedules.Override, error)
	RemoveOverride(ctx context.Context, id int64, actor string) error
	ListOverrides(ctx context.Context) ([]schedules.Override, error)
}

// AuditLog is the audit log, read by its page; every store writes its own
// entries.
type AuditLog interface {
	ListPage(ctx context.Context, before, after int64, limit int) ([]audit.Entry, error)
}

// Announcer posts and lists announcements.
type Announcer interface {
	AddAnnouncement(ctx context.Context, message string, until time.Time, actor string) (announce.Announcement, error)
	ExpireAnnouncement(ctx context.Context, id int64, actor string) error
	ListAnnouncements(ctx context.Context, limit int) ([]announce.Announcement, error)
}

// SiteDeps is everything the manager pages are built from.
type SiteDeps struct {
	Log        zerolog.Logger
	Users      *Users
	Sessions   *Sessions
	Incidents  IncidentLog
	Schedules  Schedules
	Overrides  OverrideStore
	Audit      AuditLog
	Announce   Announcer
	Recordings *RecordingProxy
	// Guard checks sign-in passwords; share one with RequireAPIUser so the
	// form and the API count failures together. Nil makes one over Users
	// that believes no X-Forwarded-For.
	Guard *Guard
	// RotateCalendar makes a new secret calendar-feed link for a team or an
	// engineer (kind "team" or "engineer"), replacing the old one, and
	// returns its URL. Nil hides calendar feeds.
	RotateCalendar func(ctx context.Context, kind, id, actor string) (string, error)
	// PublicURL decides the cookie's Secure flag (https) and is trusted as
	// an origin for form posts.
	PublicURL string
	Now       func() time.Time
	// OptOuts says which engineers' numbers opted out of texts, shown on
	// the schedules page. Nil shows none.
	OptOuts TextOptOuts
	// Configs is the history of the configs served, shown on /config with
	// the calls each routed (ConfigCalls). Nil: /config says there is none.
	Configs     ConfigHistory
	ConfigCalls RevisionCalls
}

// TextOptOuts is what the site needs of the SMS outbox (notify.Outbox):
// the numbers that opted out of texts, each with why in words, e.g.
// "replied STOP on 2026-12-02".
type TextOptOuts interface {
	OptedOut(ctx context.Context) (map[string]string, error)
}

// Site is the manager web page: sign-in, the call log, incidents, stats,
// schedules, announcements, the audit log and accounts.
type Site struct {
	SiteDeps
	secure    bool
	downloads downloadLimits // of /calls.csv (calls.go)
	// liveTick and liveFor pace and bound /live/events (live.go).
	liveTick, liveFor time.Duration
}

// NewSite returns the site; Register wires its routes.
func NewSite(d SiteDeps) *Site {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Guard == nil {
		d.Guard = NewGuard(d.Users, GuardOptions{Now: d.Now, Log: d.Log})
	}
	u, _ := url.Parse(d.PublicURL)
	return &Site{SiteDeps: d, secure: u != nil && u.Scheme == "https", downloads: defaultDownloadLimits, liveTick: liveTick, liveFor: liveFor}
}

// Register adds the pages to r. Every form post goes through Go's
// cross-origin protection: a browser's cross-site POST gets 403, while
// clients that send neither Origin nor Sec-Fetch-Site are let through.
// Every page reads at most a url-encoded body of MaxBodyBytes (LimitBody).
func (s *Site) Register(r *mux.Router) {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(s.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	static, _ := fs.Sub(staticFS, "static")
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", cacheForever(http.FileServerFS(static)))).Methods(http.MethodGet, http.MethodHead)

	page := func(path string, h http.Handler, methods ...string) {
		r.Handle(path, LimitBody(cop.Handler(timed(h)))).Methods(methods...)
	}
	page("/login", s.handleLogin(), http.MethodGet, http.MethodPost)
	page("/logout", s.handleLogout(), http.MethodGet, http.MethodPost)

	auth := func(path string, h http.Handler, methods ...string) { page(path, s.requireUser(h, ""), methods...) }
	auth("/", s.handleCalls(), http.MethodGet)
	auth("/calls.csv", s.handleCallsCSV(), http.MethodGet)
	auth("/live", s.handleLive(), http.MethodGet)
	auth("/live/events", s.handleLiveEvents(), http.MethodGet)
	auth("/incidents/{id:[0-9]+}", s.handleIncident(), http.MethodGet)
	auth("/incidents/{id:[0-9]+}/note", s.handleNote(), http.MethodPost)
	auth("/incidents/{id:[0-9]+}/acknowledge", s.handleLifecycle(s.Incidents.Acknowledge), http.MethodPost)
	auth("/incidents/{id:[0-9]+}/resolve", s.handleLifecycle(s.Incidents.Resolve), http.MethodPost)
	auth("/incidents/{id:[0-9]+}/recording", s.handleRecording(), http.MethodGet)
	auth("/stats", s.handleStats(), http.MethodGet)
	auth("/schedules", s.handleSchedules(), http.MethodGet)
	auth("/schedules/overrides", s.handleAddOverride(), http.MethodPost)
	auth("/schedules/overrides/{id:[0-9]+}/remove", s.handleRemoveOverride(), http.MethodPost)
	auth("/schedules/calendar", s.handleRotateCalendar(), http.MethodPost)
	auth("/announcements", s.handleAnnouncements(), http.MethodGet, http.MethodPost)
	auth("/announcements/{id:[0-9]+}/expire", s.handleExpireAnnouncement(), http.MethodPost)
	auth("/audit", s.handleAudit(), http.MethodGet)
	auth("/config", s.handleConfig(), http.MethodGet)
	auth("/config/compare", s.handleConfigCompare(), http.MethodGet)
	auth("/config/{revision:[0-9a-f]{64}}", s.handleConfigRevision(), http.MethodGet)
	page("/users", s.requireUser(s.handleUsers(), RoleAdmin), http.MethodGet, http.MethodPost)
	page("/users/{action:remove|disable|enable}", s.requireUser(s.handleUserChange(), RoleAdmin), http.MethodPost)
}

// Page is what every page template gets: the signed-in user and the
// navigation state.
type Page struct {
	Title string
	Nav   string // the active navigation entry
	User  User
	Error string // shown above the content, e.g. a refused form
	Zone  string // the zone the page's times are in (hotline.timezone), said at its foot
}

// IsAdmin reports whether the page's user may manage accounts.
func (p Page) IsAdmin() bool { return p.User.Role == RoleAdmin }

// pageOf starts a page for the request's user.
func pageOf(r *http.Request, title, nav string) Page {
	u, _ := r.Context().Value(userKey{}).(User)
	zone, _ := r.Context().Value(zoneKey{}).(string)
	return Page{Title: title, Nav: nav, User: u, Zone: zone}
}

type zoneKey struct{}

// zoneName says a zone for a page's foot: "America/New_York (EST, UTC−05:00
// now)".
func zoneName(loc *time.Location, now time.Time) string {
	name, offset := now.In(loc).Zone()
	sign := "+"
	if offset < 0 {
		sign, offset = "−", -offset
	}
	return fmt.Sprintf("%s (%s, UTC%s%02d:%02d now)", loc, name, sign, offset/3600, offset%3600/60)
}

var pages = parsePages()

// parsePages parses every page with the layout once, at start, so a broken
// template stops the program at boot rather than on a manager's click.
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		out[base] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return out
}

// render executes a page into a buffer, then writes it: a template error
// becomes a clean 500 rather than half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.renderCSP(w, r, status, name, data, defaultCSP)
}

// renderCSP is render with another Content-Security-Policy (the live
// view's allows its script).
func (s *Site) renderCSP(w http.ResponseWriter, r *http.Request, status int, name string, data any, csp string) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		s.Log.Error().Err(err).Str("page", name).Msg("web: render")
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	serverTiming(w, r)
	secureHeaders(h)
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// defaultCSP allows no script at all, and no framing: even if an escaping
// mistake slipped in, a caller-supplied string could not run code.
const defaultCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders forbids script and framing (defaultCSP) and sniffing.
func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", defaultCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

type startKey struct{}

// timed notes when a request arrived, for the Server-Timing header.
func timed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now())))
	})
}

// serverTiming reports the time spent on the request so far, so benchmarks
// and browsers' developer tools can read the server's share.
func serverTiming(w http.ResponseWriter, r *http.Request) {
	if t, ok := r.Context().Value(startKey{}).(time.Time); ok {
		w.Header().Set("Server-Timing", "app;dur="+strconv.FormatFloat(float64(time.Since(t).Microseconds())/1000, 'f', 2, 64))
	}
}

func cacheForever(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// errorPage is a page that only says what went wrong.
type errorPage struct {
	Page
	Message string
}

func (s *Site) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := errorPage{Page: pageOf(r, http.StatusText(status), ""), Message: msg}
	s.render(w, r, status, "error.html", p)
}

// unavailable logs an internal error and shows a page that says so. A
// write the store refused because the database file is gone or replaced
// (store.ErrUnavailable) says that nothing was saved.
func (s *Site) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.Log.Error().Err(err).Str("path", r.URL.Path).Msg("web: " + what)
	msg := "The " + what + " is unavailable right now. Try again in a moment."
	switch {
	case errors.Is(err, store.ErrUnavailable) && what == "sign-in":
		msg = "The database is unavailable: you can't sign in right now. Try again in a moment."
	case errors.Is(err, store.ErrUnavailable):
		msg = "The database is unavailable: your change was not saved. Try again in a moment."
	}
	s.fail(w, r, http.StatusServiceUnavailable, msg)
}

// seeOther answers a successful form post (post/redirect/get).
func seeOther(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// actorOf names the signed-in user for the audit log.
func actorOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(User)
	return "web:" + u.Name
}

func (s *Site) loc() *time.Location {
	if l := s.Schedules.Config().Hotline.Location; l != nil {
		return l
	}
	return time.UTC
}

func pathID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id
}
