package calendar

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST tables must not depend on the host's zoneinfo

	ics "github.com/arran4/golang-ical"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// harness is a database with overrides, a router and a feed server.
type harness struct {
	db     *store.DB
	sched  *schedules.Store
	router *routing.Router
	tokens *Tokens
	now    time.Time
	srv    *httptest.Server
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// newHarness loads testdata/dst.yaml, stores the overrides and serves the
// feeds as of now. The database is the one at dsn (see storetest.Each).
func newHarness(t testing.TB, dsn string, now time.Time, overrides ...schedules.Override) *harness {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, schedules.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.LoadConfig(filepath.Join("testdata", "dst.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, now: now}
	h.sched = schedules.NewStore(db, func() time.Time { return h.now })
	for _, o := range overrides {
		o.CreatedBy = "test"
		if _, err := h.sched.AddOverride(ctx, o, cfg); err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(time.Second) // later overrides win
	}
	h.now = now
	h.router = routing.NewRouter(cfg, h.sched)
	h.tokens = NewTokens(db, func() time.Time { return h.now })
	h.srv = httptest.NewServer(Handler(h.router, h.tokens, func() time.Time { return h.now }, zerolog.Nop()))
	t.Cleanup(h.srv.Close)
	return h
}

// get fetches a path of the feed server.
func (h *harness) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(h.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// feed rotates a token for subject and fetches and parses its feed.
func (h *harness) feed(t testing.TB, kind Kind, id string) []parsed {
	t.Helper()
	token, err := h.tokens.Rotate(context.Background(), kind, id, "manager")
	if err != nil {
		t.Fatal(err)
	}
	res, body := h.get(t, "/calendar/"+token+".ics")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("%s %s: %d %q", kind, id, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return parse(t, body)
}

// parsed is one VEVENT as a calendar app reads it.
type parsed struct {
	UID, Summary, Description string
	Start, End, Stamp         time.Time
}

// parse reads a feed with golang-ical after checking the framing RFC 5545
// asks of it: CRLF line ends, no line over 75 octets.
func parse(t testing.TB, body []byte) []parsed {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatal("the feed does not end with CRLF")
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n") {
		if len(l) > 75 || strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d is %d octets or has a bare line end: %q", i+1, len(l), l)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("golang-ical cannot parse the feed: %v\n%s", err, body)
	}
	var out []parsed
	seen := map[string]bool{}
	for _, ev := range cal.Events() {
		var p parsed
		for prop, dst := range map[ics.ComponentProperty]*string{
			ics.ComponentPropertyUniqueId: &p.UID, ics.ComponentPropertySummary: &p.Summary,
			ics.ComponentPropertyDescription: &p.Description,
		} {
			if v := ev.GetProperty(prop); v != nil {
				*dst = ics.FromText(v.Value)
			}
		}
		if p.Start, err = ev.GetStartAt(); err != nil {
			t.Fatal(err)
		}
		if p.End, err = ev.GetEndAt(); err != nil {
			t.Fatal(err)
		}
		if p.Stamp, err = ev.GetDtStampTime(); err != nil {
			t.Fatal(err)
		}
		if p.UID == "" || seen[p.UID] || !p.End.After(p.Start) {
			t.Fatalf("event %+v: missing or repeated UID, or empty", p)
		}
		seen[p.UID] = true
		out = append(out, p)
	}
	return out
}

// place is a position in a team's chain as a feed states it.
type place struct {
	Team, Engineer string // display names
	Position       int
}

var (
	teamSummary     = regexp.MustCompile(`^(.+) \((primary|secondary|step \d+)\): (.+)$`)
	engineerSummary = regexp.MustCompile(`^On call: (.+) \((primary|secondary|step \d+)\)$`)
)

// position reads "primary", "secondary" or "step N".
func position(t testing.TB, s string) int {
	switch s {
	case "primary":
		return 1
	case "secondary":
		return 2
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "step "))
	if err != nil {
		t.Fatalf("position %q", s)
	}
	return n
}

// covering returns the places the events of a feed state at instant at.
func covering(t testing.TB, events []parsed, kind Kind, who string, at time.Time) []place {
	t.Helper()
	var out []place
	for _, ev := range events {
		if at.Before(ev.Start) || !at.Before(ev.End) {
			continue
		}
		if kind == KindTeam {
			m := teamSummary.FindStringSubmatch(ev.Summary)
			if m == nil {
				t.Fatalf("team summary %q", ev.Summary)
			}
			out = append(out, place{Team: m[1], Position: position(t, m[2]), Engineer: m[3]})
			continue
		}
		m := engineerSummary.FindStringSubmatch(ev.Summary)
		if m == nil {
			t.Fatalf("engineer summary %q", ev.Summary)
		}
		out = append(out, place{Team: m[1], Position: position(t, m[2]), Engineer: who})
	}
	return out
}
