package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/store/storetest"
)

// nastyNext are sign-in destinations a browser would read as another host,
// or as script, once http.Redirect has cleaned them (or as the browser
// cleans them: tabs and newlines dropped, a backslash read as a slash).
var nastyNext = []string{
	"//evil.com",
	`/\evil.com`,
	`/\/evil.com`,
	"/%5Cevil.com",
	"/%2F%2Fevil.com",
	"/x/../%5Cevil.com",
	`/x/../\evil.com`,
	`/x/../%5C%5Cevil`,
	"/%2e%2e/%5Cevil.com",
	"https://evil.com",
	"HTTPS://evil.com/",
	"\thttps://evil.com",
	"/\t/evil.com",
	"/\n/evil.com",
	"/\r\n/evil.com",
	"/%09/evil.com",
	"/\x00/evil.com",
	"javascript:alert(1)",
	"javascript://%0Aalert(1)",
	"data:text/html,<script>alert(1)</script>",
	" /evil",
	"evil.com",
	"",
}

// TestLocalPathRefusesOtherHosts: every nasty destination is refused
// (localPath returns "", and sign-in goes to /), while a real local page
// keeps its path and query.
func TestLocalPathRefusesOtherHosts(t *testing.T) {
	for _, in := range nastyNext {
		if got := localPath(in); got != "" {
			t.Errorf("localPath(%q) = %q, want it refused", in, got)
		}
	}
	for in, want := range map[string]string{
		"/":                       "/",
		"/stats?from=2026-11-01":  "/stats?from=2026-11-01",
		"/incidents/12":           "/incidents/12",
		"/x/../stats":             "/stats",
		"/x/..//evil.com":         "/evil.com", // a page of this site
		"/./x/../..//evil.com":    "/evil.com",
		"/schedules/":             "/schedules/",
		"/?q=%2F%2Fevil.com":      "/?q=%2F%2Fevil.com", // the query names no host
		"/incidents/12#note":      "/incidents/12#note",
		"/calls.csv?caller=%2B15": "/calls.csv?caller=%2B15",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

var hiddenNext = regexp.MustCompile(`name="next" value="([^"]*)"`)

// TestSignInRedirectStaysLocal performs the attack end to end: a link to
// /login?next=<nasty> is opened, the form is submitted with whatever it
// carries (and, separately, with the nasty value posted directly), and the
// redirect after a good password must go to /, never elsewhere.
func TestSignInRedirectStaysLocal(t *testing.T) {
	s := newTestSite(t, storetest.SQLite(t), "")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(next string) string {
		t.Helper()
		form := url.Values{"username": {"ann"}, "password": {"password-ann"}}
		if next != "" {
			form.Set("next", next)
		}
		resp := s.post(c, "/login", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in with next %q: %d", next, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	for _, nasty := range nastyNext {
		code, body, _ := s.get(c, "/login?next="+url.QueryEscape(nasty))
		if code != http.StatusOK {
			t.Fatalf("login form for %q: %d", nasty, code)
		}
		carried := ""
		if m := hiddenNext.FindStringSubmatch(body); m != nil {
			carried = html.UnescapeString(m[1])
		}
		if carried != "" {
			t.Errorf("the form carries next %q for %q", carried, nasty)
			if loc := signIn(carried); loc != "/" {
				t.Errorf("round trip of %q redirects to %q, want /", nasty, loc)
			}
		}
		if loc := signIn(nasty); loc != "/" {
			t.Errorf("posting next %q redirects to %q, want /", nasty, loc)
		}
	}
	// The raw query of the reported attack, exactly as a link would carry it.
	_, body, _ := s.get(c, "/login?next=/x/../%5Cevil.com")
	if strings.Contains(body, `name="next"`) {
		t.Errorf("the form carries the reported attack's next")
	}
	// The legitimate round trip: signed out, a page sends you to sign in
	// and back to it.
	_, _, h := s.get(c, "/stats?from=2026-11-01")
	_, body, _ = s.get(c, h.Get("Location"))
	m := hiddenNext.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the sign-in form lost the page to return to")
	}
	if loc := signIn(html.UnescapeString(m[1])); loc != "/stats?from=2026-11-01" {
		t.Errorf("back from sign-in to %q, want /stats?from=2026-11-01", loc)
	}
	if loc := signIn("/x/../incidents/1"); loc != "/incidents/1" {
		t.Errorf("a dotted local path redirects to %q, want /incidents/1", loc)
	}
}
