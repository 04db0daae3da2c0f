package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/store/storetest"
)

// TestStatsCountEachRing places calls the way Twilio would and reads the
// stats page: an engineer who declines a ring has a lower acceptance rate
// than one who accepts every ring, though both took one call.
func TestStatsCountEachRing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		declined := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Decline, bob: sim.Accept}})
		wantStatus(t, h.incident(declined.CallSid), "answered", "bob")

		page := h.page("/stats")
		for name, want := range map[string]string{
			// rung, accepted, rate, declined, no key, no answer, busy, failed, calls taken
			"Alice Adams": "2 1 50.0% 1 0 0 0 0 1",
			"Bob Brown":   "1 1 100.0% 0 0 0 0 0 1",
		} {
			row := regexp.MustCompile(`<tr><th scope="row">` + name + `</th>((?:<td>[^<]*</td>)+)</tr>`).FindStringSubmatch(page)
			if row == nil {
				t.Errorf("the stats page has no row for %s", name)
				continue
			}
			cells := strings.Fields(strings.NewReplacer("<td>", " ", "</td>", " ").Replace(row[1]))
			if got := strings.Join(cells[:min(9, len(cells))], " "); got != want {
				t.Errorf("%s: %s, want %s", name, got, want)
			}
		}
	})
}

// page signs in as the test manager and returns a page's HTML.
func (h *hotline) page(path string) string {
	h.t.Helper()
	h.waitReady()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(h.base+"/login", url.Values{"username": {testUser}, "password": {testPassword}})
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(h.base + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != path {
		h.t.Fatalf("GET %s: %d at %s", path, resp.StatusCode, resp.Request.URL.Path)
	}
	return string(body)
}
