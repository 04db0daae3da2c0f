package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

var (
	rowNumber = regexp.MustCompile(`class="number">(?:\+|&#43;)([0-9]+)<`)
	pagerLink = regexp.MustCompile(`<a href="([^"]*)"[^>]*>([^<]*)</a>`)
)

// pager reads a page's rows (the caller numbers, in order) and its pager
// links by their text.
func pager(t *testing.T, body string) (rows []string, links map[string]string) {
	t.Helper()
	for _, m := range rowNumber.FindAllStringSubmatch(body, -1) {
		rows = append(rows, "+"+m[1])
	}
	links = map[string]string{}
	nav := body[strings.Index(body, `<nav class="pager"`):]
	nav = nav[:strings.Index(nav, "</nav>")]
	for _, m := range pagerLink.FindAllStringSubmatch(nav, -1) {
		links[m[2]] = html.UnescapeString(m[1])
	}
	return rows, links
}

// callNumber is the caller number of the i-th call addCalls wrote (0 the
// oldest).
func callNumber(i int) string { return fmt.Sprintf("+1555000%04d", i) }

// addCalls writes n calls a minute apart, the last a minute before now;
// every tenth has "needle" in its transcript.
func (s *site) addCalls(n int) {
	for i := range n {
		transcript := "nothing to see"
		if i%10 == 0 {
			transcript = "a needle in the haystack"
		}
		s.addCall(fmt.Sprintf("CA%04d", i), callNumber(i), "Caller", transcript, s.now.Add(time.Duration(i-n)*time.Minute))
	}
}

func TestCallLogPagesBothWays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		s.addCalls(120)
		c := s.client()
		s.signIn(c, "ann")
		visit := func(path string) ([]string, map[string]string, string) {
			t.Helper()
			code, body, _ := s.get(c, path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", path, code)
			}
			rows, links := pager(t, body)
			return rows, links, body
		}
		span := func(rows []string) string {
			if len(rows) == 0 {
				return "none"
			}
			return fmt.Sprintf("%d rows %s…%s", len(rows), rows[0], rows[len(rows)-1])
		}
		want := func(name string, rows []string, newest, oldest int) {
			t.Helper()
			if w := fmt.Sprintf("%d rows %s…%s", newest-oldest+1, callNumber(newest), callNumber(oldest)); span(rows) != w {
				t.Errorf("%s: %s, want %s", name, span(rows), w)
			}
		}
		rows, first, body := visit("/")
		want("first page", rows, 119, 70)
		if !strings.Contains(body, "120 calls") {
			t.Error("the first page does not say 120 calls")
		}
		if first["‹ Newer calls"] != "" || first["« Newest"] != "" || first["Older calls ›"] == "" {
			t.Errorf("first page links %v", first)
		}
		rows, second, body := visit(first["Older calls ›"])
		want("second page", rows, 69, 20)
		if !strings.Contains(body, "120 calls") || second["« Newest"] != "/" || second["‹ Newer calls"] == "" {
			t.Errorf("second page: links %v", second)
		}
		rows, third, _ := visit(second["Older calls ›"])
		want("third page", rows, 19, 0)
		if third["Older calls ›"] != "" || third["‹ Newer calls"] == "" {
			t.Errorf("last page links %v", third)
		}
		// Newer from the last page is the second page again, and from
		// there the first, which has nothing newer.
		rows, back, _ := visit(third["‹ Newer calls"])
		want("newer than the last page", rows, 69, 20)
		if back["‹ Newer calls"] == "" || back["Older calls ›"] != second["Older calls ›"] {
			t.Errorf("the second page reached by Newer links %v, want %v", back, second)
		}
		rows, top, _ := visit(back["‹ Newer calls"])
		want("newer than the second page", rows, 119, 70)
		if top["‹ Newer calls"] != "" || top["Older calls ›"] != first["Older calls ›"] {
			t.Errorf("the first page reached by Newer links %v", top)
		}
		// First (« Newest) from anywhere.
		rows, _, _ = visit(third["« Newest"])
		want("newest", rows, 119, 70)

		// The links keep the filters, and the count counts the filtered.
		rows, links, body := visit("/?q=needle")
		if len(rows) != 12 || rows[0] != callNumber(110) || !strings.Contains(body, "12 calls match") || links["Older calls ›"] != "" {
			t.Errorf("q=needle: %s, count shown: %v, links %v", span(rows), strings.Contains(body, "12 calls match"), links)
		}
		_, links, body = visit("/?team=ops&status=voicemail")
		if !strings.Contains(body, "120 calls match") || !strings.Contains(links["Older calls ›"], "team=ops") || !strings.Contains(links["Older calls ›"], "status=voicemail") {
			t.Errorf("filtered pages: links %v", links)
		}
		// A damaged cursor says so and shows the newest page.
		rows, _, body = visit("/?after=garbage")
		if !strings.Contains(body, "The page link is damaged") {
			t.Error("a damaged after= link is not reported")
		}
		want("after=garbage", rows, 119, 70)
	})
}

func TestCallCountWording(t *testing.T) {
	for _, c := range []struct {
		n     int
		exact bool
		want  string
	}{
		{0, true, "0 calls"}, {1, true, "1 call"}, {1234, true, "1,234 calls"}, {10000, true, "10,000 calls"},
		{10001, false, "More than 10,000 calls"}, {6789, false, "At least 6,789 calls"},
	} {
		if got := callCount(c.n, c.exact); got != c.want {
			t.Errorf("callCount(%d, %v) = %q, want %q", c.n, c.exact, got, c.want)
		}
	}
}

func TestAPIIncidentsCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		s.addCalls(25)
		api := HandleAPIIncidents(s.incidents, zerolog.Nop())
		get := func(query string) (int, map[string]json.RawMessage) {
			t.Helper()
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/incidents?"+query, nil))
			var out map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s: %v in %s", query, err, rec.Body)
			}
			return rec.Code, out
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("the cursor never ends")
			}
			q := url.Values{"limit": {"10"}, "status": {"voicemail"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			code, out := get(q.Encode())
			var list []struct {
				From string `json:"from"`
			}
			var next *string
			if err := json.Unmarshal(out["incidents"], &list); err != nil || code != http.StatusOK {
				t.Fatalf("page %d: %d %v", pages, code, err)
			}
			if err := json.Unmarshal(out["next_cursor"], &next); err != nil {
				t.Fatalf("next_cursor: %v in %s", err, out["next_cursor"])
			}
			for _, in := range list {
				seen = append(seen, in.From)
			}
			if next == nil {
				if len(list) != 5 {
					t.Errorf("last page has %d incidents, want 5", len(list))
				}
				break
			}
			if len(list) != 10 {
				t.Errorf("page %d has %d incidents, want 10", pages, len(list))
			}
			cursor = *next
		}
		if len(seen) != 25 || seen[0] != callNumber(24) || seen[24] != callNumber(0) {
			t.Errorf("walked %d incidents, %v…", len(seen), seen[:min(len(seen), 3)])
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Errorf("not newest first at %d: %s then %s", i, seen[i-1], seen[i])
			}
		}
		for query, word := range map[string]string{
			"status=bogus": "status", "state=bogus": "state", "kind=bogus": "kind",
			"cursor=nope": "cursor", "status=Voicemail": "status",
		} {
			code, out := get(query)
			var msg string
			_ = json.Unmarshal(out["error"], &msg)
			if code != http.StatusBadRequest || !strings.HasPrefix(msg, word+":") {
				t.Errorf("%s: %d %q, want 400 naming %s", query, code, msg, word)
			}
		}
	})
}

func TestAuditLogPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		ctx := context.Background()
		for i := range 230 {
			err := s.db.InTx(ctx, func(tx *store.Tx) error {
				return audit.Record(ctx, tx, s.now, "test", "test.entry", fmt.Sprintf("note number %03d", i))
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		c := s.client()
		s.signIn(c, "ann")
		entry := regexp.MustCompile(`note number ([0-9]{3})`)
		visit := func(path string) (string, map[string]string) {
			t.Helper()
			code, body, _ := s.get(c, path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", path, code)
			}
			var notes []string
			for _, m := range entry.FindAllStringSubmatch(body, -1) {
				notes = append(notes, m[1])
			}
			_, links := pager(t, body)
			if len(notes) == 0 {
				return "none", links
			}
			return fmt.Sprintf("%d %s…%s", len(notes), notes[0], notes[len(notes)-1]), links
		}
		// The sign-in and account entries are older than every note.
		got, first := visit("/audit")
		if got != "100 229…130" || first["Older entries ›"] == "" || first["‹ Newer entries"] != "" {
			t.Errorf("first page %s, links %v", got, first)
		}
		got, second := visit(first["Older entries ›"])
		if got != "100 129…030" || second["‹ Newer entries"] == "" || second["« Newest"] != "/audit" {
			t.Errorf("second page %s, links %v", got, second)
		}
		got, third := visit(second["Older entries ›"])
		if !strings.HasPrefix(got, "30 029…000") || third["Older entries ›"] != "" {
			t.Errorf("last page %s, links %v", got, third)
		}
		if got, _ := visit(third["‹ Newer entries"]); got != "100 129…030" {
			t.Errorf("newer than the last page: %s", got)
		}
		if got, top := visit(second["‹ Newer entries"]); got != "100 229…130" || top["‹ Newer entries"] != "" {
			t.Errorf("newer than the second page: %s, links %v", got, top)
		}
	})
}
