package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	recGood     = "RE00000000000000000000000000000001"
	recToHost   = "RE00000000000000000000000000000002"
	recToPath   = "RE00000000000000000000000000000003"
	recToHTTP   = "RE00000000000000000000000000000004"
	recToMedia  = "RE00000000000000000000000000000005"
	recordings  = "/2010-04-01/Accounts/" + testAccount + "/Recordings/"
)

// hit is one request a fake server received.
type hit struct{ server, uri, auth string }

// hits collects the requests of every fake server of a test.
type hits struct {
	mu  sync.Mutex
	all []hit
}

func (h *hits) add(server string, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, hit{server, r.RequestURI, r.Header.Get("Authorization")})
}

func (h *hits) take() []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.all
	h.all = nil
	return out
}

// TestRecordingProxyKeepsCredentialsOnRecordings performs the attacks a
// stored recording URL (it comes from a webhook) or a redirect could make:
// point the proxy at another resource of the account (calls, messages),
// at plain http, or redirect it to another host, another path or http.
// The account's credentials must reach only the recording's own URL on
// the Twilio origin; every other request must carry none.
func TestRecordingProxyKeepsCredentialsOnRecordings(t *testing.T) {
	var seen hits
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add("evil", r)
		if strings.HasPrefix(r.URL.Path, "/media/") {
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = w.Write([]byte("ID3 from storage"))
			return
		}
		_, _ = w.Write([]byte("thanks for the token"))
	}))
	defer evil.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add("plain", r)
		w.Header().Set("Content-Type", "audio/x-wav")
		_, _ = w.Write([]byte("RIFF over http"))
	}))
	defer plain.Close()
	twilio := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add("twilio", r)
		switch r.URL.Path {
		case recordings + recGood, recordings + recGood + ".mp3":
			w.Header().Set("Content-Type", "audio/x-wav")
			_, _ = w.Write([]byte("RIFF"))
		case recordings + recToHost:
			http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
		case recordings + recToPath:
			http.Redirect(w, r, "/2010-04-01/Accounts/"+testAccount+"/Calls.json", http.StatusFound)
		case recordings + recToHTTP:
			http.Redirect(w, r, plain.URL+recordings+recGood, http.StatusTemporaryRedirect)
		case recordings + recToMedia:
			http.Redirect(w, r, evil.URL+"/media/"+recToMedia+".mp3?sig=x", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"calls": ["the account's call log"]}`))
		}
	}))
	defer twilio.Close()

	urls := map[int64]string{
		1:  twilio.URL + recordings + recGood,
		2:  twilio.URL + recordings + recGood + ".mp3",
		3:  twilio.URL + "/2010-04-01/Accounts/" + testAccount + "/Calls.json",
		4:  twilio.URL + recordings + recGood + "/../../Messages",
		5:  twilio.URL + recordings + recGood + "%2F..%2F..%2FMessages.json",
		6:  twilio.URL + recordings + recGood + ".json",
		7:  twilio.URL + recordings + recGood + "?PageSize=1000",
		8:  twilio.URL + recordings + "../Calls.json?x=" + recGood,
		9:  "http://" + strings.TrimPrefix(twilio.URL, "https://") + recordings + recGood,
		10: plain.URL + recordings + recGood,
		11: "https://user:pass@" + strings.TrimPrefix(twilio.URL, "https://") + recordings + recGood,
		12: twilio.URL + recordings + recToHost,
		13: twilio.URL + recordings + recToPath,
		14: twilio.URL + recordings + recToHTTP,
		15: twilio.URL + recordings + recToMedia,
		16: twilio.URL + "/2010-04-01/Accounts/" + testAccount + "/Recordings.json",
		17: twilio.URL + "/2010-04-01/Accounts/AC0123/Recordings/" + recGood,
	}
	serve := func(p *RecordingProxy, id int64) (int, string) {
		site := &Site{SiteDeps: SiteDeps{Log: zerolog.Nop(), Recordings: p, Incidents: fakeLog(urls)}}
		r := mux.NewRouter()
		r.Handle("/incidents/{id}/recording", site.handleRecording())
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/incidents/"+itoa(id)+"/recording", nil))
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, string(body)
	}
	// Credentials may reach exactly these request URIs, on the fake Twilio.
	allowed := map[string]bool{recordings + recGood: true, recordings + recGood + ".mp3": true,
		recordings + recToHost: true, recordings + recToPath: true, recordings + recToHTTP: true, recordings + recToMedia: true}
	p := &RecordingProxy{AuthToken: "tok", Base: twilio.URL, Client: twilio.Client()}
	for id, want := range map[int64]struct {
		code  int
		body  string
		reach []string // the servers that must see a request, in order
	}{
		1:  {200, "RIFF", []string{"twilio"}},
		2:  {200, "RIFF", []string{"twilio"}},
		3:  {502, "", nil},
		4:  {502, "", nil},
		5:  {502, "", nil},
		6:  {502, "", nil},
		7:  {502, "", nil},
		8:  {502, "", nil},
		9:  {502, "", nil},
		10: {502, "", nil},
		11: {502, "", nil},
		12: {200, "thanks for the token", []string{"twilio", "evil"}},
		13: {200, `{"calls": ["the account's call log"]}`, []string{"twilio", "twilio"}},
		14: {502, "", []string{"twilio"}},
		15: {200, "ID3 from storage", []string{"twilio", "evil"}},
		16: {502, "", nil},
		17: {502, "", nil},
	} {
		code, body := serve(p, id)
		if code != want.code || want.body != "" && body != want.body {
			t.Errorf("recording %d (%s): %d %q, want %d %q", id, urls[id], code, body, want.code, want.body)
		}
		got := seen.take()
		var servers []string
		for i, h := range got {
			servers = append(servers, h.server)
			withAuth := h.auth != ""
			if withAuth && (i > 0 || h.server != "twilio" || !allowed[h.uri]) {
				t.Errorf("recording %d: the credentials reached %s %s", id, h.server, h.uri)
			}
			if i == 0 && h.server == "twilio" && !withAuth {
				t.Errorf("recording %d: the first request to Twilio carries no credentials", id)
			}
		}
		if strings.Join(servers, ",") != strings.Join(want.reach, ",") {
			t.Errorf("recording %d: requests reached %v, want %v", id, got, want.reach)
		}
	}
	// A proxy configured with a plain-http origin that is not loopback
	// sends nothing at all.
	urls[18] = "http://recordings.example.com" + recordings + recGood
	urls[19] = "https://api.twilio.com" + recordings + recGood
	for _, base := range []string{"http://recordings.example.com", "http://10.0.0.1", "http://127.0.0.1.example.com"} {
		insecure := &RecordingProxy{AuthToken: "tok", Base: base}
		for _, id := range []int64{18, 19} {
			if code, _ := serve(insecure, id); code != http.StatusBadGateway {
				t.Errorf("recording %d through the plain-http origin %s: %d, want 502", id, base, code)
			}
		}
	}
	if got := seen.take(); len(got) != 0 {
		t.Errorf("a plain-http origin was sent %v", got)
	}
	// HOTLINE_TWILIO_API_URL at a local fake over http: a recording stored
	// at api.twilio.com, as Twilio gives it, is fetched from the fake at
	// its path, with the credentials; one stored elsewhere is not.
	local := &RecordingProxy{AuthToken: "tok", Base: strings.Replace(plain.URL, "127.0.0.1", "localhost", 1) + "/"}
	if code, body := serve(local, 19); code != http.StatusOK || body != "RIFF over http" {
		t.Errorf("a recording on api.twilio.com through a loopback API URL: %d %q, want the fake's", code, body)
	}
	if got := seen.take(); len(got) != 1 || got[0].server != "plain" || got[0].uri != recordings+recGood || got[0].auth == "" {
		t.Errorf("through a loopback API URL the requests were %v, want one to the fake with the credentials", got)
	}
	for _, id := range []int64{1, 9, 18} {
		if code, _ := serve(local, id); code != http.StatusBadGateway {
			t.Errorf("recording %d (%s) through a loopback API URL: %d, want 502", id, urls[id], code)
		}
	}
	if got := seen.take(); len(got) != 0 {
		t.Errorf("recordings stored elsewhere reached %v", got)
	}
	// The injected client's own redirect policy does not loosen the proxy's.
	loose := twilio.Client()
	loose.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
	if code, _ := serve(&RecordingProxy{AuthToken: "tok", Base: twilio.URL, Client: loose}, 14); code != http.StatusBadGateway {
		t.Errorf("a redirect to http through a permissive client: %d, want 502", code)
	}
	for _, h := range seen.take() {
		if h.server != "twilio" {
			t.Errorf("a permissive client followed to %s %s", h.server, h.uri)
		}
	}
	if u, _ := url.Parse(urls[1]); u.Scheme != "https" {
		t.Fatalf("the fake Twilio is not https: %s", urls[1])
	}
}
