package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/audit"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

// alerts is the alert endpoints over a real database, with the pages they
// would ask for counted.
type alerts struct {
	srv    *httptest.Server
	db     *store.DB
	inc    *incident.Incidents
	secret string
	paged  []int64
}

func newAlerts(t *testing.T, dsn string) *alerts {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dsn)
	for _, m := range []func(context.Context, *store.DB) error{audit.Migrate, incident.Migrate, Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	a := &alerts{db: db, inc: incident.NewIncidents(db)}
	ints := NewIntegrations(db, func() time.Time { return now })
	var err error
	if _, a.secret, err = ints.Add(ctx, "ops", "prometheus", "cli:root"); err != nil {
		t.Fatal(err)
	}
	h := &Handlers{Integrations: ints, Incidents: a.inc, Now: func() time.Time { now = now.Add(time.Second); return now }, Log: zerolog.Nop(),
		Opened: func(_ context.Context, id int64, team string, _ time.Time) {
			if team != "ops" {
				t.Errorf("paged team %q", team)
			}
			a.paged = append(a.paged, id)
		}}
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/alerts", h.HandleAlert())
	mux.Handle("POST /api/v1/alerts/alertmanager", h.HandleAlertmanager())
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// post sends body with auth ("" for none) and returns the status and the
// decoded answer.
func (a *alerts) post(t *testing.T, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (a *alerts) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := a.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM incidents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAlertLifecycle: a trigger opens one incident and pages it; the same
// dedup_key while it is open adds an alert event and pages nobody; resolve
// resolves it as the integration; the key then opens a new incident.
func TestAlertLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a := newAlerts(t, dsn)
		bearer := "Bearer " + a.secret
		code, first := a.post(t, "/api/v1/alerts", bearer, `{"summary": "disk full on db-1", "details": "97%", "dedup_key": "db-1/disk"}`)
		if code != http.StatusAccepted || first["state"] != "open" {
			t.Fatalf("trigger: %d %v", code, first)
		}
		id := int64(first["incident_id"].(float64))
		if code, again := a.post(t, "/api/v1/alerts?token="+a.secret, "", `{"summary": "disk full on db-1", "dedup_key": "db-1/disk"}`); code != http.StatusAccepted || int64(again["incident_id"].(float64)) != id {
			t.Errorf("repeat: %d %v; want incident %d again", code, again, id)
		}
		if len(a.paged) != 1 || a.paged[0] != id {
			t.Errorf("paged %v; want %d once", a.paged, id)
		}
		in, err := a.inc.Incident(context.Background(), id)
		if err != nil || in.Kind != incident.KindAlert || in.Summary != "disk full on db-1" || in.Details != "97%" || in.DedupKey != "db-1/disk" || in.Team != "ops" {
			t.Fatalf("incident %+v %v", in, err)
		}
		if n := len(in.Events); n != 2 || in.Events[1].Type != incident.EventAlert || !strings.Contains(in.Events[1].Detail, "prometheus") {
			t.Errorf("events %+v; want the trigger and its repeat", in.Events)
		}
		if code, body := a.post(t, "/api/v1/alerts", bearer, `{"dedup_key": "db-1/disk", "action": "resolve"}`); code != http.StatusAccepted || body["state"] != "resolved" {
			t.Errorf("resolve: %d %v", code, body)
		}
		if in, _ := a.inc.Incident(context.Background(), id); in.State != incident.StateResolved || *in.ResolvedBy != "prometheus" {
			t.Errorf("after resolve: %q by %v", in.State, in.ResolvedBy)
		}
		if code, next := a.post(t, "/api/v1/alerts", bearer, `{"summary": "disk full on db-1", "dedup_key": "db-1/disk"}`); code != http.StatusAccepted || int64(next["incident_id"].(float64)) == id {
			t.Errorf("after resolve the key opened %v; want a new incident", next)
		}
		if len(a.paged) != 2 {
			t.Errorf("paged %v; want the new incident paged too", a.paged)
		}
	})
}

// TestAlertmanager: firing opens one incident per groupKey, summarised by
// commonAnnotations.summary or the alertname and count; firing again pages
// nobody; resolved resolves it.
func TestAlertmanager(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a := newAlerts(t, dsn)
		bearer := "Bearer " + a.secret
		firing := `{"version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "status": "firing", "receiver": "hotline",
			"commonLabels": {"alertname": "HighLatency"}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
			"alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "instance": "a"}}, {"status": "firing", "labels": {"alertname": "HighLatency", "instance": "b"}}]}`
		code, body := a.post(t, "/api/v1/alerts/alertmanager", bearer, firing)
		if code != http.StatusAccepted {
			t.Fatalf("firing: %d %v", code, body)
		}
		id := int64(body["incident_id"].(float64))
		if in, _ := a.inc.Incident(context.Background(), id); in.Summary != "HighLatency (2 alerts)" || !strings.Contains(in.Details, "alertmanager:9093") {
			t.Errorf("summary %q details %q", in.Summary, in.Details)
		}
		a.post(t, "/api/v1/alerts/alertmanager", bearer, firing)
		if len(a.paged) != 1 {
			t.Errorf("paged %v; want once for the group", a.paged)
		}
		resolved := strings.Replace(firing, `"status": "firing", "receiver"`, `"status": "resolved", "receiver"`, 1)
		if code, body := a.post(t, "/api/v1/alerts/alertmanager", bearer, resolved); code != http.StatusAccepted || body["state"] != "resolved" {
			t.Errorf("resolved: %d %v", code, body)
		}
		if in, _ := a.inc.Incident(context.Background(), id); in.State != incident.StateResolved {
			t.Errorf("state %q after resolved", in.State)
		}
	})
}

// TestBadAlertsWriteNothing: an unknown or missing secret is 401, malformed
// JSON or a missing summary 400 naming what is wrong, a body over 1 MiB
// 413; none of them writes an incident or pages.
func TestBadAlertsWriteNothing(t *testing.T) {
	a := newAlerts(t, storetest.SQLite(t))
	bearer := "Bearer " + a.secret
	for _, c := range []struct {
		name, path, auth, body string
		code                   int
		says                   string
	}{
		{"no secret", "/api/v1/alerts", "", `{"summary": "x"}`, http.StatusUnauthorized, "Bearer"},
		{"wrong secret", "/api/v1/alerts", "Bearer nope", `{"summary": "x"}`, http.StatusUnauthorized, "Bearer"},
		{"basic auth", "/api/v1/alerts", "Basic " + a.secret, `{"summary": "x"}`, http.StatusUnauthorized, "Bearer"},
		{"malformed", "/api/v1/alerts", bearer, `{"summary": `, http.StatusBadRequest, "not JSON"},
		{"no summary", "/api/v1/alerts", bearer, `{"details": "x"}`, http.StatusBadRequest, "summary"},
		{"bad action", "/api/v1/alerts", bearer, `{"summary": "x", "action": "page"}`, http.StatusBadRequest, "action"},
		{"resolve without key", "/api/v1/alerts", bearer, `{"action": "resolve"}`, http.StatusBadRequest, "dedup_key"},
		{"resolve unknown key", "/api/v1/alerts", bearer, `{"action": "resolve", "dedup_key": "never"}`, http.StatusNotFound, "no open alert"},
		{"too big", "/api/v1/alerts", bearer, `{"summary": "` + strings.Repeat("x", MaxBody) + `"}`, http.StatusRequestEntityTooLarge, "over"},
		{"alertmanager no group", "/api/v1/alerts/alertmanager", bearer, `{"status": "firing"}`, http.StatusBadRequest, "groupKey"},
		{"alertmanager bad status", "/api/v1/alerts/alertmanager", bearer, `{"groupKey": "g", "status": "silenced"}`, http.StatusBadRequest, "status"},
	} {
		code, body := a.post(t, c.path, c.auth, c.body)
		if code != c.code || !strings.Contains(body["error"].(string), c.says) {
			t.Errorf("%s: %d %v; want %d saying %q", c.name, code, body, c.code, c.says)
		}
	}
	if n := a.count(t); n != 0 || len(a.paged) != 0 {
		t.Errorf("bad requests wrote %d incidents and paged %v", n, a.paged)
	}
}
