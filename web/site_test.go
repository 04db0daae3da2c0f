package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/revisions"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

const testConfig = `
hotline:
  number: "+18005550100"
  timezone: "America/New_York"
  greeting: "Hello."
menu:
  default: "1"
  options:
    - {digit: "1", label: "an outage", team: ops}
    - {digit: "2", label: "a question", team: desk}
teams:
  - id: ops
    name: Operations
    escalation:
      - rotation: ops-primary
      - engineer: bob
  - id: desk
    name: Service Desk
    escalation:
      - rotation: desk-day
engineers:
  - {id: alice, name: Alice Adams, phone: "+15555550101"}
  - {id: bob, name: Bob Brown, phone: "+15555550102"}
  - {id: carol, name: Carol Chen, phone: "+15555550103"}
rotations:
  - id: ops-primary
    members: [alice, bob]
    shift: weekly
    handoff: "Mon 09:00"
    start: "2026-11-02"
  - id: desk-day
    members: [carol]
    shift: daily
    handoff: "09:00"
    start: "2026-11-02"
    active: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
`

// site is a Site over a real database behind an httptest server.
type site struct {
	t         *testing.T
	srv       *httptest.Server
	db        *store.DB
	incidents *incident.Incidents
	overrides *schedules.Store
	revisions *revisions.Store
	now       time.Time
	// optedOut are the numbers the site is told opted out of texts.
	optedOut map[string]string
}

// OptedOut plays notify.Outbox for the site (SiteDeps.OptOuts).
func (s *site) OptedOut(context.Context) (map[string]string, error) { return s.optedOut, nil }

// newTestSite serves the site over the database at dsn (see
// storetest.Each); each of opts may change the Site before its routes are
// registered.
func newTestSite(t *testing.T, dsn, publicURL string, opts ...func(*Site)) *site {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, schedules.Migrate, incident.Migrate, announce.Migrate, revisions.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, db: db, now: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)}
	now := func() time.Time { return s.now }
	s.incidents = incident.NewIncidents(db)
	s.overrides = schedules.NewStore(db, now)
	s.revisions = revisions.New(db, now)
	users := NewUsers(db, now)
	for name, role := range map[string]string{"ann": RoleManager, "root": RoleAdmin} {
		if err := users.AddUser(ctx, name, role, "password-"+name, "test"); err != nil {
			t.Fatal(err)
		}
	}
	r := mux.NewRouter()
	ws := NewSite(SiteDeps{
		Log: zerolog.Nop(), Users: users, Sessions: NewSessions(db, now), Incidents: s.incidents,
		Schedules: routing.NewRouter(cfg, s.overrides), Overrides: s.overrides, Audit: audit.NewLog(db),
		Announce: announce.NewAnnouncements(db, now), PublicURL: publicURL, Now: now,
		Recordings: &RecordingProxy{AuthToken: "tok"}, OptOuts: s, Configs: s.revisions, ConfigCalls: s.incidents,
	})
	for _, o := range opts {
		o(ws)
	}
	ws.Register(r)
	s.srv = httptest.NewServer(r)
	t.Cleanup(s.srv.Close)
	return s
}

// client returns a cookie-keeping client that does not follow redirects.
// Its jar judges expiry by the site's clock (see clockJar).
func (s *site) client() *http.Client {
	jar := &clockJar{now: func() time.Time { return s.now }, cookies: map[string]jarCookie{}}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clockJar is a browser's cookie jar for the one host of a test site,
// judging Expires and Max-Age by the site's injected clock as a browser
// judges them by its own. net/http/cookiejar reads the real clock: against
// a pinned site clock it drops the session cookie once the real date passes
// the cookie's Expires, so every signed-in test would begin to fail on that
// day. Domain and Path are not matched (the site sets every cookie on "/"),
// and 127.0.0.1 is a secure origin, so Secure cookies are sent.
type clockJar struct {
	now     func() time.Time
	mu      sync.Mutex
	cookies map[string]jarCookie
}

// jarCookie is a kept cookie and the instant it expires (zero: with the
// browser session).
type jarCookie struct {
	value   string
	expires time.Time
}

// SetCookies keeps cs, replacing cookies of the same name; a cookie whose
// Max-Age is negative or whose Expires is not after now deletes its name.
func (j *clockJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	for _, c := range cs {
		exp := c.Expires
		if c.MaxAge > 0 {
			exp = now.Add(time.Duration(c.MaxAge) * time.Second)
		}
		if c.MaxAge < 0 || (!exp.IsZero() && !exp.After(now)) {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = jarCookie{value: c.Value, expires: exp}
	}
}

// Cookies returns the cookies not expired at now, by name.
func (j *clockJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	var out []*http.Cookie
	for name, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(now) {
			continue
		}
		out = append(out, &http.Cookie{Name: name, Value: c.value})
	}
	slices.SortFunc(out, func(a, b *http.Cookie) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *site) signIn(c *http.Client, name string) *http.Response {
	s.t.Helper()
	return s.post(c, "/login", url.Values{"username": {name}, "password": {"password-" + name}})
}

func (s *site) post(c *http.Client, path string, form url.Values, headers ...string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (s *site) get(c *http.Client, path string) (int, string, http.Header) {
	s.t.Helper()
	resp, err := c.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestSignInSessionCookie(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "https://hotline.example.com")
		c := s.client()
		if code, _, h := s.get(c, "/stats"); code != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Fstats" {
			t.Fatalf("signed out /stats: %d %s", code, h.Get("Location"))
		}
		resp := s.signIn(c, "ann")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) < 43 {
			t.Fatalf("session cookie %+v", cookie)
		}
		if !cookie.Expires.Equal(s.now.Add(SessionTTL)) {
			t.Errorf("session cookie expires %v, want %v (the session's end)", cookie.Expires, s.now.Add(SessionTTL))
		}
		var stored int
		if err := s.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, cookie.Value).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("the raw token is stored: %d %v", stored, err)
		}
		// Signing in again replaces the session: the old token dies (no fixation).
		u, _ := url.Parse(s.srv.URL)
		old := c.Jar.Cookies(u)[0].Value
		s.signIn(c, "ann")
		if now := c.Jar.Cookies(u)[0].Value; now == old {
			t.Errorf("sign-in kept the session token")
		}
		planted := s.client()
		planted.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: old}})
		if code, _, _ := s.get(planted, "/"); code != http.StatusSeeOther {
			t.Errorf("the replaced token still works: %d", code)
		}
		if code, body, _ := s.get(c, "/"); code != http.StatusOK || !strings.Contains(body, "No calls match") {
			t.Errorf("call log: %d", code)
		}
		// Sessions end after their lifetime: the browser drops the cookie,
		// and the server refuses the token even when it is sent anyway.
		live := c.Jar.Cookies(u)[0].Value
		s.now = s.now.Add(SessionTTL + time.Minute)
		if got := c.Jar.Cookies(u); len(got) != 0 {
			t.Errorf("the browser kept the cookie past its session: %v", got)
		}
		replayed := s.client()
		replayed.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: live}})
		if code, _, _ := s.get(replayed, "/"); code != http.StatusSeeOther {
			t.Errorf("expired session: %d", code)
		}
	})
}

func TestSignOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		c := s.client()
		s.signIn(c, "ann")
		if resp := s.post(c, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out: %d", resp.StatusCode)
		}
		var n int
		if err := s.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d sessions left", n)
		}
		if code, _, _ := s.get(c, "/"); code != http.StatusSeeOther {
			t.Errorf("signed out but / answered %d", code)
		}
	})
}

func TestSignInThrottled(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	c := s.client()
	bad := url.Values{"username": {"ann"}, "password": {"wrong password"}}
	for i := range 5 {
		if resp := s.post(c, "/login", bad); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	// The sixth failure locks the account out; even the right password waits.
	s.post(c, "/login", bad)
	resp := s.signIn(c, "ann")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("locked out sign-in: %d", resp.StatusCode)
	}
	s.now = s.now.Add(2 * time.Second)
	if resp := s.signIn(c, "ann"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lockout: %d", resp.StatusCode)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	c := s.client()
	s.signIn(c, "ann")
	form := url.Values{"message": {"Outage in us-east"}, "until": {"2026-11-24T18:00"}}
	if resp := s.post(c, "/announcements", form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", resp.StatusCode)
	}
	if resp := s.post(c, "/announcements", form, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin post without Sec-Fetch-Site: %d", resp.StatusCode)
	}
	if resp := s.post(c, "/login", url.Values{"username": {"ann"}, "password": {"password-ann"}}, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in (login CSRF): %d", resp.StatusCode)
	}
	if _, body, _ := s.get(c, "/announcements"); strings.Contains(body, "Outage in us-east") {
		t.Fatalf("a refused post was written")
	}
	// A script with neither header, and a same-origin browser, get through.
	if resp := s.post(c, "/announcements", form); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("post without Origin: %d", resp.StatusCode)
	}
	if resp := s.post(c, "/announcements", form, "Origin", s.srv.URL, "Sec-Fetch-Site", "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin post: %d", resp.StatusCode)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{"/stats?from=x": "/stats?from=x", "//evil.example": "", `/\evil`: "",
		"https://evil.example/": "", "stats": "", "": ""} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestZoneName: the zone a page's foot names has the abbreviation and
// offset of the moment, half hours included (TestPagesRender checks that
// every page shows it).
func TestZoneName(t *testing.T) {
	if got := zoneName(mustZone(t, "America/New_York"), time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)); got != "America/New_York (EDT, UTC−04:00 now)" {
		t.Errorf("in July: %q", got)
	}
	if got := zoneName(mustZone(t, "Asia/Kolkata"), time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)); got != "Asia/Kolkata (IST, UTC+05:30 now)" {
		t.Errorf("Kolkata: %q", got)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
