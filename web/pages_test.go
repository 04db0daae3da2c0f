package web

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/store/storetest"
)

const evilName = `<img src=x onerror=alert(1)>`

// addCall writes one finished call the way the call flow would.
func (s *site) addCall(sid, from, name, transcript string, at time.Time) int64 {
	s.t.Helper()
	ctx := context.Background()
	id, _, err := s.incidents.StartIncident(ctx, incident.Incident{CallSid: sid, From: from, CallerName: name, To: "+18005550100",
		StartedAt: at, ConfigRevision: "rev"}, incident.Event{At: at, Type: "incoming", Detail: "call from " + from, Key: "incoming"})
	if err != nil {
		s.t.Fatal(err)
	}
	upd := incident.Update{Team: "ops", MenuDigit: "1", Status: incident.StatusVoicemail, EndedAt: at.Add(time.Minute),
		RecordingURL: "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE1", Transcript: transcript}
	if _, err := s.incidents.Record(ctx, sid, upd, incident.Event{At: at.Add(30 * time.Second), Type: "voicemail", Detail: "message of 20 s", Key: "voicemail"}); err != nil {
		s.t.Fatal(err)
	}
	return id
}

func TestPagesRender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		if _, err := s.incidents.Seed(context.Background(), mustConfig(t), incident.SeedOptions{N: 300, End: s.now, Days: 20, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		id := s.addCall("CAevil", "+15555550199", evilName, "<script>alert(2)</script> call me", s.now.Add(-time.Minute))
		admin := s.client()
		s.signIn(admin, "root")
		for path, want := range map[string][]string{
			"/":                                    {"Calls", "Download CSV", "Older calls", "&lt;img src=x onerror=alert(1)&gt;"},
			"/?team=desk&status=missed":            {"Service Desk"},
			"/?q=VPN":                              {"Voicemail"},
			"/incidents/" + itoa(id):               {"Timeline", "Call came in", "&lt;script&gt;alert(2)&lt;/script&gt; call me", "<audio", "Manager's note", "note-text"},
			"/stats":                               {"answer rate", "Calls per day", "Per engineer", "Operations"},
			"/stats?from=2026-11-01&to=2026-11-24": {"1 Nov 2026 to 24 Nov 2026"},
			"/schedules":                           {"On call now", "Alice Adams", "Coverage gaps", "Add an override"},
			"/announcements":                       {"Post announcement"},
			"/audit":                               {"Audit log"},
			"/users":                               {"root", "admin", "Add a user"},
		} {
			code, body, h := s.get(admin, path)
			if code != http.StatusOK {
				t.Errorf("%s: %d", path, code)
				continue
			}
			for _, w := range append(want, "Times are in America/New_York (E") {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", path, w)
				}
			}
			if strings.Contains(body, evilName) || strings.Contains(body, "<script>") {
				t.Errorf("%s carries unescaped caller text", path)
			}
			if h.Get("Server-Timing") == "" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s headers %v", path, h)
			}
		}
		for path, code := range map[string]int{"/?from=yesterday": 400, "/stats?from=2026-11-10&to=2026-11-01": 400,
			"/incidents/999999": 404, "/?before=garbage": 200} {
			if got, _, _ := s.get(admin, path); got != code {
				t.Errorf("%s: %d, want %d", path, got, code)
			}
		}
		manager := s.client()
		s.signIn(manager, "ann")
		if code, _, _ := s.get(manager, "/users"); code != http.StatusForbidden {
			t.Errorf("a manager reached /users: %d", code)
		}
		if resp := s.post(manager, "/users", url.Values{"username": {"mallory"}, "role": {"admin"}, "password": {"12345678"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a manager added a user: %d", resp.StatusCode)
		}
		if resp := s.post(admin, "/users", url.Values{"username": {"newbie"}, "role": {"manager"}, "password": {"long enough"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("admin adds a user: %d", resp.StatusCode)
		}
		if _, body, _ := s.get(admin, "/audit"); !strings.Contains(body, "newbie as manager") {
			t.Errorf("adding a user is not audited")
		}
	})
}

func TestNoteAndOverrideForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		id := s.addCall("CA1", "+15555550123", "Globex", "", s.now.Add(-time.Hour))
		c := s.client()
		s.signIn(c, "ann")
		if resp := s.post(c, "/incidents/"+itoa(id)+"/note", url.Values{"note": {"Called back <b>twice</b>"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("note: %d", resp.StatusCode)
		}
		if _, body, _ := s.get(c, "/incidents/"+itoa(id)); !strings.Contains(body, "Called back &lt;b&gt;twice&lt;/b&gt;") {
			t.Errorf("note not shown escaped")
		}
		form := url.Values{"rotation": {"ops-primary"}, "engineer": {"carol"}, "from": {"2026-11-24T09:00"}, "to": {"2026-11-24T12:00"}, "reason": {"alice at the dentist"}}
		if resp := s.post(c, "/schedules/overrides", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("override: %d", resp.StatusCode)
		}
		_, body, _ := s.get(c, "/schedules")
		if !strings.Contains(body, "Carol Chen</strong>") || !strings.Contains(body, "override:1") {
			t.Errorf("the override does not show as on call now")
		}
		form.Set("engineer", "nobody")
		if resp := s.post(c, "/schedules/overrides", form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown engineer: %d", resp.StatusCode)
		}
		if resp := s.post(c, "/schedules/overrides/1/remove", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("remove: %d", resp.StatusCode)
		}
		_, body, _ = s.get(c, "/audit")
		for _, w := range []string{"incident.note", "override.add", "override.rm", "web:ann"} {
			if !strings.Contains(body, w) {
				t.Errorf("audit lacks %q", w)
			}
		}
	})
}

func TestCallsCSV(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		s := newTestSite(t, dsn, "")
		s.addCall("CA1", "+15555550123", "=HYPERLINK(\"http://evil\")", "-2+3", s.now.Add(-time.Hour))
		s.addCall("CA2", "+15555550124", "Initech", "", s.now.Add(-2*time.Hour))
		c := s.client()
		s.signIn(c, "ann")
		code, body, h := s.get(c, "/calls.csv?caller=%2B15555550123")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", code, h.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("csv rows %d %v:\n%s", len(recs), err, body)
		}
		row := recs[1]
		if row[2] != "+15555550123" || row[3] != `'=HYPERLINK("http://evil")` || row[11] != "'-2+3" || row[6] != "voicemail" {
			t.Errorf("csv row %q", row)
		}
	})
}

func TestRecordingProxy(t *testing.T) {
	var gotAuth, gotRange string
	twilio := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		gotAuth, gotRange = user+":"+pass, r.Header.Get("Range")
		if r.URL.Path == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE00000000000000000000000000000001" {
			w.Header().Set("Content-Type", "audio/x-wav")
			w.Header().Set("Content-Range", "bytes 0-3/4")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write([]byte("RIFF"))
			return
		}
		http.NotFound(w, r)
	}))
	defer twilio.Close()
	p := &RecordingProxy{AuthToken: "tok", Base: twilio.URL, Client: twilio.Client()}
	site := &Site{SiteDeps: SiteDeps{Log: zerolog.Nop(), Recordings: p, Incidents: fakeLog{
		1: twilio.URL + "/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE00000000000000000000000000000001",
		2: "https://elsewhere.example/steal",
		3: twilio.URL + "/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE00000000000000000000000000000404",
	}}}
	r := mux.NewRouter()
	r.Handle("/incidents/{id}/recording", site.handleRecording())
	for id, want := range map[string]int{"1": 206, "2": 502, "3": 404, "4": 404} {
		req := httptest.NewRequest(http.MethodGet, "/incidents/"+id+"/recording", nil)
		req.Header.Set("Range", "bytes=0-")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("recording %s: %d, want %d", id, rec.Code, want)
		}
		if id == "1" {
			body, _ := io.ReadAll(rec.Body)
			if string(body) != "RIFF" || rec.Header().Get("Content-Type") != "audio/x-wav" || rec.Header().Get("Content-Range") != "bytes 0-3/4" {
				t.Errorf("proxied %q %v", body, rec.Header())
			}
			if gotAuth != "AC00000000000000000000000000000000:tok" || gotRange != "bytes=0-" {
				t.Errorf("upstream auth %q range %q", gotAuth, gotRange)
			}
		}
	}
}

// fakeLog is an incident log holding only recording URLs by id.
type fakeLog map[int64]string

func (f fakeLog) Incident(_ context.Context, id int64) (incident.Incident, error) {
	u, ok := f[id]
	if !ok {
		return incident.Incident{}, incident.ErrNotFound
	}
	return incident.Incident{ID: id, RecordingURL: &u}, nil
}

func (fakeLog) FindIncidents(context.Context, incident.Filter) ([]incident.Incident, error) {
	return nil, nil
}
func (fakeLog) EachIncident(context.Context, incident.Filter, func(incident.Incident) error) error {
	return nil
}
func (fakeLog) CountMatching(context.Context, incident.Filter, int) (int, bool, error) {
	return 0, false, nil
}
func (fakeLog) Stats(context.Context, time.Time, time.Time, *time.Location) (incident.Stats, error) {
	return incident.Stats{}, nil
}
func (fakeLog) SetNote(context.Context, int64, string, string, time.Time) error { return nil }
func (fakeLog) Acknowledge(context.Context, int64, string, string, time.Time) error {
	return nil
}
func (fakeLog) Resolve(context.Context, int64, string, string, time.Time) error { return nil }
func (fakeLog) Live(context.Context, bool) (incident.Live, error)               { return incident.Live{}, nil }

func mustConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
