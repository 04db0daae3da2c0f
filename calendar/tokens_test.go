package calendar

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/store/storetest"
)

func TestTokenRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, utc(t, "2027-03-01T00:00:00Z"))
		ctx := context.Background()
		old, err := h.tokens.Rotate(ctx, KindEngineer, "alice", "manager")
		if err != nil {
			t.Fatal(err)
		}
		if len(old) != 43 || strings.ContainsAny(old, "+/=") {
			t.Fatalf("token %q: want 43 base64url characters", old)
		}
		if s, err := h.tokens.Lookup(ctx, old); err != nil || s != (Subject{KindEngineer, "alice"}) {
			t.Fatalf("Lookup = %v, %v", s, err)
		}
		if res, _ := h.get(t, "/calendar/"+old+".ics"); res.StatusCode != http.StatusOK {
			t.Fatalf("fresh token: %d", res.StatusCode)
		}

		// Rotating replaces the token: the old URL is gone at once.
		fresh, err := h.tokens.Rotate(ctx, KindEngineer, "alice", "manager")
		if err != nil || fresh == old {
			t.Fatalf("Rotate = %q, %v", fresh, err)
		}
		if _, err := h.tokens.Lookup(ctx, old); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old token: %v, want ErrNotFound", err)
		}
		if res, _ := h.get(t, "/calendar/"+old+".ics"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("old token: %d, want 404", res.StatusCode)
		}
		res, body := h.get(t, "/calendar/"+fresh+".ics")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("new token: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !strings.HasPrefix(string(body), "BEGIN:VCALENDAR\r\n") {
			t.Fatalf("body starts %q", body[:min(len(body), 40)])
		}

		// Only the hash is stored.
		var n int
		if err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM calendar_tokens WHERE token_hash IN (?, ?)`, old, fresh).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a token is stored in the clear (%d rows, %v)", n, err)
		}

		// A team's token is separate; List shows both without the tokens.
		if _, err := h.tokens.Rotate(ctx, KindTeam, "ops", "manager"); err != nil {
			t.Fatal(err)
		}
		list, err := h.tokens.List(ctx)
		if err != nil || len(list) != 2 || list[0].Subject != (Subject{KindEngineer, "alice"}) ||
			list[1].Subject != (Subject{KindTeam, "ops"}) || list[1].CreatedBy != "manager" || !list[1].CreatedAt.Equal(h.now) {
			t.Fatalf("List = %+v, %v", list, err)
		}

		if err := h.tokens.Revoke(ctx, KindEngineer, "alice", "manager"); err != nil {
			t.Fatal(err)
		}
		if res, _ := h.get(t, "/calendar/"+fresh+".ics"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("revoked token: %d, want 404", res.StatusCode)
		}
		if err := h.tokens.Revoke(ctx, KindEngineer, "alice", "manager"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second Revoke = %v, want ErrNotFound", err)
		}

		// Every change is in the audit log.
		entries, err := audit.NewLog(h.db).List(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action+" "+e.Detail)
		}
		want := []string{
			"calendar.revoke calendar feed of engineer alice",
			"calendar.rotate calendar feed of team ops",
			"calendar.rotate calendar feed of engineer alice",
			"calendar.rotate calendar feed of engineer alice",
		}
		if strings.Join(actions, "\n") != strings.Join(want, "\n") {
			t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestRotateRefusesBadRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, utc(t, "2027-03-01T00:00:00Z"))
		for _, tc := range []struct {
			kind      Kind
			id, actor string
		}{{"rotation", "ops-amer", "m"}, {KindTeam, "", "m"}, {KindTeam, "ops", ""}} {
			if _, err := h.tokens.Rotate(context.Background(), tc.kind, tc.id, tc.actor); !errors.Is(err, ErrInvalid) {
				t.Errorf("Rotate(%q, %q, %q) = %v, want ErrInvalid", tc.kind, tc.id, tc.actor, err)
			}
		}
	})
}

func TestHandlerRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := newHarness(t, dsn, utc(t, "2027-03-01T00:00:00Z"))
		ctx := context.Background()
		good, err := h.tokens.Rotate(ctx, KindTeam, "desk", "manager")
		if err != nil {
			t.Fatal(err)
		}
		gone, err := h.tokens.Rotate(ctx, KindEngineer, "zoe", "manager") // not in the config
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{
			"/calendar/" + strings.Repeat("A", 43) + ".ics", // well formed, unknown
			"/calendar/short.ics",
			"/calendar/" + good,         // no .ics
			"/calendar/" + good + ".ic", // wrong suffix
			"/calendar/" + gone + ".ics",
		} {
			if res, _ := h.get(t, path); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
			}
		}

		res, err := http.Head(h.srv.URL + "/calendar/" + good + ".ics")
		if err != nil || res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("HEAD: %v %v", res, err)
		}
		res, err = http.Post(h.srv.URL+"/calendar/"+good+".ics", "text/plain", nil)
		if err != nil || res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST: %v %v", res, err)
		}
	})
}
