package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/store/storetest"
)

// TestFormTextWithNULIsStored posts an announcement and an override whose
// free text carries a NUL (PostgreSQL refuses the byte in text), another
// control character and a byte that is not UTF-8 (as is an announcement in
// Latin-1): each is saved with them replaced by U+FFFD, not refused with 503. A user name on /users and at
// sign-in with a NUL is refused as a bad name (400, 401), never 503.
func TestFormTextWithNULIsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newLiveSite(t, dsn)
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) string { return s.now.Add(d).In(loc).Format(inputLayout) }
		c := s.client()
		s.signIn(c, "ann")
		ctx := context.Background()

		if resp := s.post(c, "/announcements", url.Values{"message": {"outage\x00 in\x07 us-east \xff"}, "until": {at(2 * time.Hour)}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("announcement with NUL: %d, want 303", resp.StatusCode)
		}
		if resp := s.post(c, "/announcements", url.Values{"message": {"caf\xe9 closed"}, "until": {at(2 * time.Hour)}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("announcement in Latin-1: %d, want 303", resp.StatusCode)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT message FROM announcements ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var messages []string
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				t.Fatal(err)
			}
			messages = append(messages, m)
		}
		rows.Close()
		if want := []string{"outage\ufffd in\ufffd us-east \ufffd", "caf\ufffd closed"}; !slices.Equal(messages, want) {
			t.Errorf("stored announcements %q, want %q", messages, want)
		}

		form := url.Values{"rotation": {"ops-primary"}, "engineer": {"carol"}, "from": {at(time.Hour)}, "to": {at(3 * time.Hour)},
			"reason": {"alice\x00 at the\x1b dentist \xff"}}
		if resp := s.post(c, "/schedules/overrides", form); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("override with NUL in its reason: %d, want 303", resp.StatusCode)
		}
		var reason string
		if err := s.db.QueryRowContext(ctx, `SELECT reason FROM overrides`).Scan(&reason); err != nil {
			t.Errorf("override: %v", err)
		} else if want := "alice\ufffd at the\ufffd dentist \ufffd"; reason != want {
			t.Errorf("stored reason %q, want %q", reason, want)
		}

		if resp := s.post(s.client(), "/login", url.Values{"username": {"ann\x00"}, "password": {"password-ann"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("sign-in as ann\\x00: %d, want 401", resp.StatusCode)
		}
		// HTTP Basic on the API goes through the same guard.
		guard := NewGuard(NewUsers(s.db, func() time.Time { return s.now }), GuardOptions{RefusalPause: -1})
		basic := httptest.NewRequest(http.MethodGet, "/api/v1/oncall", nil)
		if _, err := guard.SignIn(basic, "api", "ann\x00", "password-ann"); !errors.Is(err, ErrBadLogin) {
			t.Errorf("API sign-in as ann\\x00: %v, want a wrong name or password", err)
		}
		admin := s.client()
		s.signIn(admin, "root")
		if resp := s.post(admin, "/users", url.Values{"username": {"eve\x00"}, "role": {RoleManager}, "password": {"a long password"}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("account eve\\x00: %d, want 400", resp.StatusCode)
		}
	})
}
