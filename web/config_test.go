package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store/storetest"
)

// shownDiff is the diff a page shows after marker, as Diff.Text prints it:
// each heading with a colon, each line indented by two spaces; or the
// no-change line.
func shownDiff(t *testing.T, page, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, marker)
	if !ok {
		t.Fatalf("no %q on the page:\n%s", marker, page)
	}
	rest, _, _ = strings.Cut(rest, `class="hint"`)
	if _, none, ok := strings.Cut(rest, `<p class="diff none">`); ok {
		none, _, _ = strings.Cut(none, "</p>")
		return none + "\n"
	}
	var b strings.Builder
	for _, m := range regexp.MustCompile(`<h4>(.*?)</h4>|<li>(.*?)</li>`).FindAllStringSubmatch(rest, -1) {
		if m[1] != "" {
			b.WriteString(html.UnescapeString(m[1]) + ":\n")
		} else {
			b.WriteString("  " + html.UnescapeString(m[2]) + "\n")
		}
	}
	return b.String()
}

// TestConfigPages: on a pinned clock, three revisions went live days
// apart (the middle one beaten for until the reload) (the newest one a file today's hotline refuses). /config lists
// them newest first with their calls, and each diff is DiffConfigs of the
// stored files over the 14 days from when the newer went live, not from
// now; any two compare over the 14 days from the later one's start; an
// unknown revision is 404; the incident page links its revision; the API
// answers the four fields of each, newest first.
func TestConfigPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		ctx := context.Background()
		swapped := strings.Replace(testConfig, "members: [alice, bob]", "members: [bob, alice]", 1)
		broken := "hotline:\n  bogus: 1\n"
		a, b := config.RevisionOf([]byte(testConfig)), config.RevisionOf([]byte(swapped))
		c := config.RevisionOf([]byte(broken))
		aLive := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		bLive := time.Date(2026, 11, 22, 14, 30, 20, 0, time.UTC)
		for _, r := range []struct {
			at        time.Time
			rev, text string
		}{{aLive, a, testConfig}, {bLive, b, swapped}, {bLive.Add(24*time.Hour - 30*time.Second), b, swapped}, {bLive.Add(24 * time.Hour), c, broken}} {
			s.now = r.at
			if err := s.revisions.Live(ctx, "web-1:8080", r.rev, []byte(r.text)); err != nil {
				t.Fatal(err)
			}
		}
		s.now = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
		var callID int64
		for i, rev := range []string{a, a, b} {
			id, _, err := s.incidents.StartIncident(ctx, incident.Incident{CallSid: "CA" + string(rune('a'+i)), From: "+15555550123", To: "+18005550100",
				StartedAt: aLive.Add(time.Duration(i) * 24 * time.Hour), ConfigRevision: rev}, incident.Event{At: aLive, Type: "incoming", Key: "incoming"})
			if err != nil {
				t.Fatal(err)
			}
			callID = id
		}

		cl := s.client()
		s.signIn(cl, "ann")
		code, page, _ := s.get(cl, "/config")
		if code != http.StatusOK {
			t.Fatalf("/config: %d\n%s", code, page)
		}
		ia, ib, ic := strings.Index(page, `id="r-`+a[:12]), strings.Index(page, `id="r-`+b[:12]), strings.Index(page, `id="r-`+c[:12])
		if ic < 0 || ic > ib || ib > ia {
			t.Errorf("revisions not newest first: %s at %d, %s at %d, %s at %d", c[:12], ic, b[:12], ib, a[:12], ia)
		}
		if !strings.Contains(page[ib:ia], `class="routed">1<`) || !strings.Contains(page[ia:], `class="routed">2<`) {
			t.Errorf("calls routed: want 1 for %s and 2 for %s", b[:12], a[:12])
		}
		parse := func(name, text string) *config.Config {
			cfg, err := config.ParseConfig(name, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			return cfg
		}
		from := bLive.Truncate(time.Minute)
		d, err := routing.DiffConfigs(parse("a", testConfig), parse("b", swapped), from, from.AddDate(0, 0, DiffDays))
		if err != nil {
			t.Fatal(err)
		}
		want := d.Text()
		if got := shownDiff(t, page, `id="r-`+b[:12]); got != want || !strings.Contains(want, "Alice Adams → Bob Brown") {
			t.Errorf("the diff of %s:\n%s\nwant, over 14 days from %s:\n%s", b[:12], got, from, want)
		}
		if !strings.Contains(page, "--at 2026-11-22T14:30:00Z --days 14") {
			t.Errorf("the page does not give the diff's span as --at 2026-11-22T14:30:00Z")
		}
		if _, after, _ := strings.Cut(page, `id="r-`+c[:12]); !strings.Contains(after, "could not be made: revision "+c[:12]+":1: menu: required") ||
			!strings.Contains(after[:strings.Index(after, "</section>")], "hotline.bogus") {
			t.Errorf("the unparseable revision's diff does not say why:\n%s", after)
		}

		code, one, _ := s.get(cl, "/config/"+b)
		if code != http.StatusOK || shownDiff(t, one, `id="r-`+b[:12]) != want || !strings.Contains(html.UnescapeString(one), "members: [bob, alice]") {
			t.Errorf("/config/%.12s: %d, the diff or the file missing:\n%s", b, code, one)
		}
		if code, body, _ := s.get(cl, "/config/"+strings.Repeat("0", 64)); code != http.StatusNotFound || !strings.Contains(body, "No config revision 000000000000 is recorded") {
			t.Errorf("an unknown revision: %d\n%s", code, body)
		}
		back, err := routing.DiffConfigs(parse("b", swapped), parse("a", testConfig), from, from.AddDate(0, 0, DiffDays))
		if err != nil {
			t.Fatal(err)
		}
		code, cmp, _ := s.get(cl, "/config/compare?from="+b+"&to="+a)
		if got := shownDiff(t, cmp, "<h3>"); code != http.StatusOK || got != back.Text() {
			t.Errorf("compare %.12s → %.12s: %d\n%s\nwant\n%s", b, a, code, got, back.Text())
		}
		if code, _, _ := s.get(cl, "/config/compare?from="+b); code != http.StatusNotFound {
			t.Errorf("compare with one revision: %d, want 404", code)
		}
		if _, in, _ := s.get(cl, "/incidents/"+itoa(callID)); !strings.Contains(in, `<a href="/config/`+b+`"><code>`+b[:12]+`</code></a>`) {
			t.Errorf("the incident page does not link its revision:\n%s", in)
		}

		rec := httptest.NewRecorder()
		HandleAPIRevisions(s.revisions, s.incidents, zerolog.Nop()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/config/revisions", nil))
		var api struct {
			Revisions []map[string]any `json:"revisions"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &api); err != nil || rec.Code != http.StatusOK || len(api.Revisions) != 3 {
			t.Fatalf("API: %d %s", rec.Code, rec.Body)
		}
		got := api.Revisions[1]
		if len(got) != 4 || got["revision"] != b || got["first_live"] != "2026-11-22T14:30:20Z" || got["last_live"] != "2026-11-23T14:30:20Z" || got["calls"] != 1.0 {
			t.Errorf("API's second revision: %v; want %.12s, live from 2026-11-22T14:30:20Z to 2026-11-23T14:30:20Z, 1 call", got, b)
		}
	})
}
