package sim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

const (
	testToken  = "test-auth-token"
	testPublic = "https://ivr.example.com"
)

// hit is one request the fake server received.
type hit struct {
	method string
	uri    string // path and query
	path   string
	form   url.Values
	token  string
}

// route answers a request with TwiML verbs, wrapped in <Response>.
type route func(form url.Values) string

// fake is a scripted TwiML server that checks every request the way a
// careful Twilio webhook does, signature first.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	routes map[string]route
	raw    map[string]func(w http.ResponseWriter) // overrides for error tests
	mu     sync.Mutex
	hits   []hit
}

var tokenRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func newFake(t *testing.T, routes map[string]route) *fake {
	f := &fake{t: t, routes: routes, raw: map[string]func(http.ResponseWriter){}}
	rv := client.NewRequestValidator(testToken)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("%s: parse form: %v", r.URL, err)
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		params := map[string]string{}
		form := r.Form
		if r.Method == http.MethodPost {
			form = r.PostForm
			for k, v := range r.PostForm {
				params[k] = v[0]
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("%s: Content-Type %q", r.URL, ct)
			}
		}
		if !rv.Validate(testPublic+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
			t.Errorf("%s %s: invalid signature", r.Method, r.URL)
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		if ua := r.Header.Get("User-Agent"); ua != "TwilioProxy/1.1" {
			t.Errorf("%s: User-Agent %q", r.URL, ua)
		}
		tok := r.Header.Get("I-Twilio-Idempotency-Token")
		if !tokenRE.MatchString(tok) {
			t.Errorf("%s: idempotency token %q", r.URL, tok)
		}
		f.mu.Lock()
		f.hits = append(f.hits, hit{method: r.Method, uri: r.URL.RequestURI(), path: r.URL.Path, form: form, token: tok})
		rawFn, isRaw := f.raw[r.URL.Path]
		fn, ok := f.routes[r.URL.Path]
		f.mu.Unlock()
		if isRaw {
			rawFn(w)
			return
		}
		body := ""
		if ok {
			body = fn(form)
		} else if !strings.HasPrefix(r.URL.Path, "/cb/") && r.URL.Path != "/twilio/status" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response>` + body + `</Response>`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) twilio() *Twilio {
	return &Twilio{BaseURL: f.srv.URL, PublicURL: testPublic, AuthToken: testToken,
		Now: func() time.Time { return time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) }}
}

// call places a call that must produce no protocol error.
func (f *fake) call(s Script) *Result {
	f.t.Helper()
	res, err := f.twilio().Call(context.Background(), s)
	if err != nil {
		f.t.Fatalf("Call: %v\n%s", err, res.Transcript())
	}
	return res
}

// find returns the hits on a path, in order.
func (f *fake) find(path string) []hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []hit
	for _, h := range f.hits {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// one returns the only hit on a path.
func (f *fake) one(path string) hit {
	f.t.Helper()
	hs := f.find(path)
	if len(hs) != 1 {
		f.t.Fatalf("%d requests to %s, want 1 (all: %v)", len(hs), path, f.paths())
	}
	return hs[0]
}

// paths lists the paths requested, in order.
func (f *fake) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, h := range f.hits {
		out = append(out, h.path)
	}
	return out
}

// index is the position of the first request to path, -1 if none.
func (f *fake) index(path string) int {
	for i, p := range f.paths() {
		if p == path {
			return i
		}
	}
	return -1
}

func wantParams(t *testing.T, where string, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if vs, ok := got[k]; !ok || vs[0] != v {
			t.Errorf("%s: %s = %q (present %t), want %q", where, k, got.Get(k), ok, v)
		}
	}
}
