package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestCalendarLinkFromWebPage makes a team's calendar link on the schedules
// page, reads the feed through it, and checks that a new link retires the
// old one. The post redirects to the schedules page, which shows the link
// again when reloaded, without making another (the link keeps working).
func TestCalendarLinkFromWebPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		link := regexp.MustCompile(`http://[^<"]+/calendar/[A-Za-z0-9_-]+\.ics`)
		rotate := func() string {
			resp, err := c.PostForm(h.base+"/schedules/calendar", url.Values{"feed": {"team:ops"}})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			u := link.FindString(string(body))
			if resp.Request.Method != http.MethodGet || resp.Request.URL.Path != "/schedules" {
				t.Fatalf("rotate ended on %s %s, want a redirect to GET /schedules", resp.Request.Method, resp.Request.URL.Path)
			}
			if resp.StatusCode != http.StatusOK || u == "" {
				t.Fatalf("rotate: %d, no link in the page", resp.StatusCode)
			}
			return u
		}
		get := func(u string) (int, string, string) {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
		}
		first := rotate()
		page := func() string {
			resp, err := c.Get(h.base + "/schedules")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return link.FindString(string(body))
		}
		for i := range 2 {
			if got := page(); got != first {
				t.Fatalf("reload %d of the schedules page shows %q, want the new link %q", i+1, got, first)
			}
		}
		code, ctype, body := get(first)
		if code != http.StatusOK || !strings.HasPrefix(ctype, "text/calendar") || !strings.Contains(body, "BEGIN:VCALENDAR") || !strings.Contains(body, "Bob Brown") {
			t.Fatalf("feed: %d %s\n%.400s", code, ctype, body)
		}
		second := rotate()
		if code, _, _ := get(first); code != http.StatusNotFound {
			t.Errorf("the old link still works: %d", code)
		}
		if code, _, _ := get(second); code != http.StatusOK {
			t.Errorf("the new link: %d", code)
		}
		if code, _, _ := get(h.base + "/calendar/not-a-token.ics"); code != http.StatusNotFound {
			t.Errorf("a made-up token: %d", code)
		}
		// A link cookie planted by someone else, naming another site's
		// feed, is not shown.
		site, _ := url.Parse(h.base + "/schedules")
		planted := base64.RawURLEncoding.EncodeToString([]byte("https://evil.example/calendar/AAAAAAAAAAAAAAAAAAAAAAAA.ics"))
		jar.SetCookies(site, []*http.Cookie{{Name: "hotline_calendar_link", Value: planted, Path: "/schedules"}})
		if got := page(); got != "" {
			t.Errorf("a planted link cookie shows %q", got)
		}
		if resp, err := c.Get(h.base + "/schedules"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "evil.example") {
				t.Errorf("a planted link cookie is shown")
			}
		}
	})
}
