package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store/storetest"
)

// syncBuffer is a log sink the server's goroutines may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newAttackSite is newTestSite served again with a captured log, the JSON
// API mounted and one Guard for both, believing X-Forwarded-For from
// trusted, the way cmd/hotline wires them.
func newAttackSite(t *testing.T, dsn string, trusted ...netip.Prefix) (*site, *syncBuffer) {
	t.Helper()
	s := newTestSite(t, dsn, "")
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	now := func() time.Time { return s.now }
	users := NewUsers(s.db, now)
	sessions := NewSessions(s.db, now)
	router := routing.NewRouter(mustConfig(t), s.overrides)
	guard := NewGuard(users, GuardOptions{TrustedProxies: trusted, Now: now, Log: log, RefusalPause: -1})
	r := mux.NewRouter()
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(LimitBody, RequireAPIUser(guard, sessions, log))
	api.Handle("/oncall", HandleAPIOnCall(router, now, log)).Methods(http.MethodGet)
	NewSite(SiteDeps{
		Log: log, Users: users, Sessions: sessions, Incidents: s.incidents,
		Schedules: router, Overrides: s.overrides, Audit: audit.NewLog(s.db),
		Announce: announce.NewAnnouncements(s.db, now), Now: now,
		Recordings: &RecordingProxy{AuthToken: "tok"}, Guard: guard,
	}).Register(r)
	s.srv.Close()
	s.srv = httptest.NewServer(r)
	t.Cleanup(s.srv.Close)
	return s, logs
}

// TestFailedSignInLogsNoSecret fails to sign in on the form and on the API:
// once with a real account and a wrong password, once with a password typed
// into the user name field. The log names the real account and the client,
// and never holds either typed secret.
func TestFailedSignInLogsNoSecret(t *testing.T) {
	s, logs := newAttackSite(t, storetest.SQLite(t))
	const typedPassword, passwordAsName = "Tr0ub4dor&3-typed", "Sup3r-s3cret-in-the-name-field"
	s.post(s.client(), "/login", url.Values{"username": {"ann"}, "password": {typedPassword}})
	s.post(s.client(), "/login", url.Values{"username": {passwordAsName}, "password": {typedPassword}})
	for _, name := range []string{"ann", passwordAsName} {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/oncall", nil)
		req.SetBasicAuth(name, typedPassword)
		if resp := do(t, http.DefaultClient, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API with a wrong password for %q: %d", name, resp.StatusCode)
		}
	}
	out := logs.String()
	for _, secret := range []string{typedPassword, passwordAsName, passwordAsName[:12]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the typed secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"user":"ann"`, `"addr":"127.0.0.1"`, "unknown account"} {
		if strings.Count(out, want) < 2 {
			t.Errorf("the log lacks %s on both the form and the API:\n%s", want, out)
		}
	}
}

// TestProxiedGuesserCannotLockOutManager: behind a trusted reverse proxy,
// an attacker's client fails 100 times for ann on the form and on the API;
// ann, signing in from another client through the same proxy with the
// right password, gets in on both. The attacker's own client stays locked
// out, even with the right password, and one that forges X-Forwarded-For
// itself gains nothing: the proxy's entry is the one believed.
func TestProxiedGuesserCannotLockOutManager(t *testing.T) {
	proxy := netip.MustParsePrefix("127.0.0.1/32") // the test server sees every request from here
	s, _ := newAttackSite(t, storetest.SQLite(t), proxy)
	const attacker, ann = "203.0.113.9", "198.51.100.20"
	login := func(client, password string) *http.Response {
		form := url.Values{"username": {"ann"}, "password": {password}}
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", client)
		return do(t, s.client(), req)
	}
	api := func(client, password string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/oncall", nil)
		req.SetBasicAuth("ann", password)
		req.Header.Set("X-Forwarded-For", client)
		return do(t, http.DefaultClient, req)
	}
	var refused, throttled int
	for i := range 100 {
		// The attacker forges entries of its own to the left of the proxy's.
		client := fmt.Sprintf("10.%d.0.1, %s", i, attacker)
		for _, resp := range []*http.Response{login(client, "guess "+strconv.Itoa(i)), api(client, "guess "+strconv.Itoa(i))} {
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				refused++
			case http.StatusTooManyRequests:
				throttled++
				if resp.Header.Get("Retry-After") == "" {
					t.Fatalf("429 without Retry-After")
				}
			default:
				t.Fatalf("guess %d: %d", i, resp.StatusCode)
			}
		}
	}
	if refused != 5 || throttled != 195 {
		t.Errorf("200 guesses: %d refused after a check, %d throttled; want 5 and 195", refused, throttled)
	}
	if resp := login(attacker, "password-ann"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password from the attacker's client: %d, want 429", resp.StatusCode)
	}
	if resp := login(ann, "password-ann"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("ann from her own client: %d %s, want signed in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := api(ann, "password-ann"); resp.StatusCode != http.StatusOK {
		t.Errorf("ann's API client: %d, want 200", resp.StatusCode)
	}
}

// TestForgedForwardedForIsIgnored: with no trusted proxy, a guesser that
// sends a fresh X-Forwarded-For with every try is still one client.
func TestForgedForwardedForIsIgnored(t *testing.T) {
	s, logs := newAttackSite(t, storetest.SQLite(t))
	var last int
	for i := range 10 {
		form := url.Values{"username": {"ann"}, "password": {"guess"}}
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		last = do(t, s.client(), req).StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 10th guess with a forged address: %d, want 429", last)
	}
	if strings.Contains(logs.String(), "203.0.113.") {
		t.Errorf("the log believed a forged address:\n%s", logs)
	}
}
