package main

import (
	"fmt"
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
// stats page and /api/v1/stats: an engineer who declines a ring has a lower
// acceptance rate than one who accepts every ring, though both took one
// call; a caller who hangs up in the menu is a row "Hung up in the menu";
// the API's figures are the page's.
func TestStatsCountEachRing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := startHotline(t, dsn)
		h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Accept}})
		declined := h.call(sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{alice: sim.Decline, bob: sim.Accept}})
		wantStatus(t, h.incident(declined.CallSid), "answered", "bob")
		h.call(sim.Script{HangupAfter: "menu"})

		page := h.page("/stats")
		for name, want := range map[string]string{
			// rung, accepted, rate, declined, no key, no answer, busy, failed, calls taken
			"Alice Adams": "2 1 50.0% 1 0 0 0 0 1",
			"Bob Brown":   "1 1 100.0% 0 0 0 0 0 1",
		} {
			row := regexp.MustCompile(`<tr><th scope="row">` + name + `</th>((?:<td[^>]*>[^<]*</td>)+)</tr>`).FindStringSubmatch(page)
			if row == nil {
				t.Errorf("the stats page has no row for %s", name)
				continue
			}
			cells := strings.Fields(regexp.MustCompile(`</?td[^>]*>`).ReplaceAllString(row[1], " "))
			if got := strings.Join(cells[:min(9, len(cells))], " "); got != want {
				t.Errorf("%s: %s, want %s", name, got, want)
			}
		}
		if !regexp.MustCompile(`<th scope="row">Hung up in the menu</th><td[^>]*>1</td>`).MatchString(page) {
			t.Errorf("the stats page has no row of 1 call that hung up in the menu")
		}

		var api struct {
			Timezone string `json:"timezone"`
			Total    struct {
				Calls      int     `json:"calls"`
				Answered   int     `json:"answered"`
				Abandoned  int     `json:"abandoned"`
				AnswerRate float64 `json:"answer_rate"`
				Median     float64 `json:"median_to_answer_s"`
			} `json:"total"`
			Teams []struct {
				Team  string `json:"team"`
				Name  string `json:"name"`
				Calls int    `json:"calls"`
			} `json:"teams"`
			Engineers []struct {
				Engineer       string   `json:"engineer"`
				Rung           int      `json:"rung"`
				Accepted       int      `json:"accepted"`
				Declined       int      `json:"declined"`
				AcceptanceRate float64  `json:"acceptance_rate"`
				MedianToAccept *float64 `json:"median_to_accept_s"`
				Answered       int      `json:"answered"`
			} `json:"engineers"`
		}
		h.getJSON("/api/v1/stats", &api)
		if api.Timezone != "America/New_York" || api.Total.Calls != 3 || api.Total.Answered != 2 || api.Total.Abandoned != 1 {
			t.Errorf("API total %+v in %q; want 3 calls, 2 answered, 1 abandoned in America/New_York", api.Total, api.Timezone)
		}
		if tile := fmt.Sprintf(`<span class="big">%.1f%%</span> answer rate`, 100*api.Total.AnswerRate); !strings.Contains(page, tile) {
			t.Errorf("the page's answer rate is not the API's %.3f", api.Total.AnswerRate)
		}
		menu := false
		for _, team := range api.Teams {
			menu = menu || team.Team == "" && team.Name == "Hung up in the menu" && team.Calls == 1
		}
		if !menu {
			t.Errorf("API teams %+v: no hung-up-in-the-menu row", api.Teams)
		}
		got := map[string]string{}
		for _, e := range api.Engineers {
			got[e.Engineer] = fmt.Sprintf("%d %d %.1f%% %d %d %t", e.Rung, e.Accepted, 100*e.AcceptanceRate, e.Declined, e.Answered, e.MedianToAccept != nil)
		}
		for id, want := range map[string]string{"alice": "2 1 50.0% 1 1 true", "bob": "1 1 100.0% 0 1 true"} {
			if got[id] != want {
				t.Errorf("API %s: %q, want %q (rung, accepted, rate, declined, taken, a time to accept)", id, got[id], want)
			}
		}
		// A range the page refuses is a 400 saying why.
		req, _ := http.NewRequest(http.MethodGet, h.base+"/api/v1/stats?from=2026-12-10&to=2026-12-01", nil)
		req.SetBasicAuth(testUser, testPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "To must be after From") {
			t.Errorf("an empty range: %d %s", resp.StatusCode, body)
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
