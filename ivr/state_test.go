package ivr

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
	"github.com/hotline-dev/hotline/routing"
)

const (
	aliceNumber   = "+15555550101"
	bobNumber     = "+15555550102"
	callerNumber  = "+15555550123"
	supportNumber = "+18005550100"
	callerName    = "Globex Ops"
	simToken      = "sim-auth-token"
)

// newFlowWith is newTestFlow keyed by token and writing to rec.
func newFlowWith(t *testing.T, token string, rec *fakeRecorder) *Flow {
	t.Helper()
	cfg, err := config.ParseConfig("flow.yaml", []byte(flowConfig))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	return NewFlow(FlowDeps{Router: routing.NewRouter(cfg, nil), Incidents: rec, PublicURL: "https://hotline.example.com", AuthToken: token, Now: now, Log: zerolog.Nop()})
}

// encodings are the forms s could take in a URL or its log line: as it is,
// query- and path-escaped, its digits alone, the national number and the
// subscriber number, hex, and base64 (four alphabets, at each of the three
// alignments it could have inside a longer value).
func encodings(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), hex.EncodeToString([]byte(s))}
	if digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s); len(digits) >= 10 {
		out = append(out, digits, digits[len(digits)-10:], digits[len(digits)-7:])
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		for pad := range 3 {
			e := enc.EncodeToString([]byte(strings.Repeat("\x00", pad) + s))
			skip := (pad*8 + 5) / 6 // characters that mix in the padding bytes
			out = append(out, e[skip:len(e)-3])
		}
	}
	return out
}

// assertNoSecrets fails when any URL of the call (requested, or named in
// its TwiML) holds a phone number or the caller's name in any encoding.
func assertNoSecrets(t *testing.T, res *sim.Result) {
	t.Helper()
	urls := res.URLs()
	if len(urls) < 5 {
		t.Fatalf("only %d URLs in the call: the check would prove nothing", len(urls))
	}
	for _, secret := range []string{aliceNumber, bobNumber, callerNumber, supportNumber, callerName} {
		for _, enc := range encodings(secret) {
			for _, u := range urls {
				if strings.Contains(u, enc) {
					t.Errorf("URL %q holds %q (%q)", u, secret, enc)
				}
			}
		}
	}
}

// dialled lists the numbers each <Dial> of the call rang, in order.
func dialled(res *sim.Result) []string {
	var out []string
	for _, l := range res.Heard {
		if rest, ok := strings.CutPrefix(l.Text, "dial +"); ok && l.Kind == "dial" {
			out = append(out, "+"+strings.Fields(rest)[0])
		}
	}
	return out
}

// simCall plays a call against srv with the simulator, signing with
// simToken, and fails on any protocol error (a 5xx among them).
func simCall(t *testing.T, srv http.Handler, s sim.Script) *sim.Result {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tw := &sim.Twilio{BaseURL: ts.URL, PublicURL: "https://hotline.example.com", AuthToken: simToken}
	s.From, s.To, s.CallerName = callerNumber, supportNumber, callerName
	res, err := tw.Call(context.Background(), s)
	if err != nil {
		t.Fatalf("call: %v\n%s", err, res.Transcript())
	}
	for _, r := range res.Requests {
		if r.Status != http.StatusOK {
			t.Errorf("%s %s answered %d", r.Kind, r.Path, r.Status)
		}
	}
	return res
}

func TestStateSealsEveryField(t *testing.T) {
	f := newFlowWith(t, testToken, &fakeRecorder{})
	st := callState{
		Team: "ops", Step: 1, Pass: 2, Restart: 1, From: callerNumber, Call: "CA0123456789abcdef0123456789abcdef",
		caller: caller{Lang: "es-MX", Customer: "globex"},
		Chain: []routing.Step{
			{Engineer: "alice", Name: "Alice Adams", Phone: aliceNumber, Timeout: 15 * time.Second},
			{Name: "emergency line", Phone: "+15555550199", Timeout: 30 * time.Second},
		},
	}
	a, b := f.stateURL("/twilio/dial", f.sealState(st)), f.stateURL("/twilio/dial", f.sealState(st))
	if a == b {
		t.Errorf("two URLs of one state are alike: each needs its own nonce")
	}
	for _, u := range []string{a, b} {
		v, ok := strings.CutPrefix(u, "https://hotline.example.com/twilio/dial?s=")
		if !ok || strings.ContainsAny(v, "&=%+/") {
			t.Fatalf("URL %q: want one base64url value s", u)
		}
		got, ok := f.openState(v)
		if !ok || !reflect.DeepEqual(got, st) {
			t.Errorf("opened %+v, %t; want %+v", got, ok, st)
		}
		for _, secret := range []string{aliceNumber, "+15555550199", callerNumber, "Alice Adams", "globex", "emergency"} {
			for _, enc := range encodings(secret) {
				if strings.Contains(u, enc) {
					t.Errorf("URL %q holds %q as %q", u, secret, enc)
				}
			}
		}
	}
	if len(a) > 400 {
		t.Errorf("a two-step state takes %d bytes of URL", len(a))
	}
}

// TestStateSealedBeforeCallSidStillOpens: a state sealed before the
// caller's CallSid travelled in it (it ends after the chain) opens, with no
// Call, so a call in progress during the upgrade keeps its chain.
func TestStateSealedBeforeCallSidStillOpens(t *testing.T) {
	st := callState{Team: "ops", From: callerNumber,
		Chain: []routing.Step{{Engineer: "alice", Phone: aliceNumber, Timeout: 15 * time.Second}}}
	got, ok := decodeState(string(appendState(nil, st)))
	if !ok || !reflect.DeepEqual(got, st) {
		t.Errorf("opened %+v, %t; want %+v", got, ok, st)
	}
	st.Call = "CA1"
	if got, ok := decodeState(string(appendState(nil, st)) + "x"); ok {
		t.Errorf("a state with a byte after its Call opened: %+v", got)
	}
}

// TestStateUnreadable opens values that must not open: another token's,
// any byte flipped, truncated, another version, not base64.
func TestStateUnreadable(t *testing.T) {
	f := newFlowWith(t, testToken, &fakeRecorder{})
	st := callState{Team: "ops", From: callerNumber, Chain: []routing.Step{{Engineer: "alice", Phone: aliceNumber, Timeout: 15 * time.Second}}}
	good := strings.TrimPrefix(stateQuery(f, st), "s=")
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"another token": strings.TrimPrefix(stateQuery(newFlowWith(t, "rotated-token", &fakeRecorder{}), st), "s="),
		"truncated":     good[:len(good)-6],
		"empty":         "",
		"not base64":    good[:10] + "!*" + good[12:],
		"padded":        good + "==",
	}
	for i := range raw {
		flipped := slices.Clone(raw)
		flipped[i] ^= 0x20
		bad[fmt.Sprintf("byte %d flipped", i)] = base64.RawURLEncoding.EncodeToString(flipped)
	}
	v2 := slices.Clone(raw)
	v2[0] = stateVersion + 1
	bad["version 2"] = base64.RawURLEncoding.EncodeToString(v2)
	for name, v := range bad {
		if got, ok := f.openState(v); ok {
			t.Errorf("%s: opened %+v", name, got)
		}
	}
	if _, ok := f.openState(good); !ok {
		t.Fatalf("the untouched value does not open")
	}
}

// TestUnreadableStateFailsOpen sends each state-carrying webhook a state it
// cannot read: each answers TwiML that keeps the call going, never a 5xx
// (post fails on anything but 200 and TwiML).
func TestUnreadableStateFailsOpen(t *testing.T) {
	other := newFlowWith(t, "rotated-token", &fakeRecorder{})
	st := callState{Team: "ops", From: callerNumber, Chain: []routing.Step{
		{Engineer: "alice", Phone: aliceNumber, Timeout: 15 * time.Second},
		{Engineer: "bob", Phone: bobNumber, Timeout: 20 * time.Second},
	}, Step: 1}
	sealed := stateQuery(other, st)
	for name, query := range map[string]string{
		"another token's state": sealed,
		"tampered state":        sealed[:20] + strings.Map(func(r rune) rune { return r ^ 1 }, sealed[20:24]) + sealed[24:],
		"garbage":               "s=" + strings.Repeat("A", 90),
		"no state at all":       "",
		"old format, malformed": "team=ops&step=x&c=%7C%7C",
	} {
		t.Run(name, func(t *testing.T) {
			rec := &fakeRecorder{}
			f := newFlowWith(t, testToken, rec)
			target := func(path string) string {
				if query == "" {
					return path
				}
				return path + "?" + query
			}
			doc := post(t, f.HandleDialDone(), target("/twilio/dial"), url.Values{"CallSid": {"CA1"}, "From": {callerNumber}, "CallStatus": {"in-progress"}, "DialCallStatus": {"no-answer"}})
			dial, ok := doc.find("Dial")
			if !ok || doc.Children[0].XMLName.Local != "Say" || !strings.Contains(doc.Children[0].Text, "We are sorry") {
				t.Fatalf("dial action: %v, want the sorry prompt and the default chain rung again", doc.verbs())
			}
			if num, _ := dial.find("Number"); strings.TrimSpace(num.Text) != aliceNumber {
				t.Errorf("fail-open rings %q, want the default team's first engineer", num.Text)
			}
			next, ok := f.openState(strings.TrimPrefix(relative(t, dial.attr("action")), "/twilio/dial?s="))
			if !ok || next.Restart != 1 || next.Step != 0 || next.From != callerNumber || len(next.Chain) != 2 {
				t.Errorf("the restarted chain's state %+v, %t", next, ok)
			}
			if !slices.ContainsFunc(rec.events, func(e incident.Event) bool { return e.Key == "route:unreadable" }) ||
				!slices.ContainsFunc(rec.events, func(e incident.Event) bool { return e.Key == "ring:r1:p0:s0" }) {
				t.Errorf("events %+v: want the restart and its ring, with keys of their own", rec.events)
			}

			bridged := post(t, f.HandleDialDone(), target("/twilio/dial"), url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"completed"}, "DialBridged": {"true"}})
			if got := strings.Join(bridged.verbs(), ","); got != "Hangup" {
				t.Errorf("a bridged call without its state: %s, want the call ended, not rung again", got)
			}
			if !slices.ContainsFunc(rec.updates, func(u incident.Update) bool { return u.Status == incident.StatusAnswered }) {
				t.Errorf("a bridged call without its state is not answered: %+v", rec.updates)
			}

			whisper := post(t, f.HandleWhisper(), target("/twilio/whisper"), url.Values{"CallSid": {"CA2"}, "ParentCallSid": {"CA1"}})
			if got := strings.Join(whisper.verbs(), ","); got != "Gather,Gather,Hangup" {
				t.Fatalf("whisper: %s, want the engineer still screened", got)
			}
			answer := relative(t, whisper.Children[0].attr("action"))
			accept := post(t, f.HandleWhisperAnswer(), answer, url.Values{"CallSid": {"CA2"}, "ParentCallSid": {"CA1"}, "Digits": {"1"}})
			if _, hung := accept.find("Hangup"); hung {
				t.Errorf("1 in a whisper without state must still bridge: %v", accept.verbs())
			}
			decline := post(t, f.HandleWhisperAnswer(), target("/twilio/whisper/answer"), url.Values{"CallSid": {"CA2"}, "ParentCallSid": {"CA1"}, "Digits": {"2"}})
			if _, hung := decline.find("Hangup"); !hung {
				t.Errorf("2 in a whisper without state must hang the leg up: %v", decline.verbs())
			}
			for path, h := range map[string]http.Handler{"/twilio/recorded": f.HandleRecorded(), "/twilio/no-message": f.HandleNoMessage()} {
				doc := post(t, h, target(path), url.Values{"CallSid": {"CA1"}, "RecordingUrl": {"https://api.twilio.com/x"}, "RecordingDuration": {"4"}})
				if got := strings.Join(doc.verbs(), ","); got != "Say,Hangup" {
					t.Errorf("%s: %s", path, got)
				}
			}
		})
	}
}

// TestCallURLsCarryNoNumbers plays whole calls through the signature check
// with the simulator and looks at every URL Twilio would request or was
// told to: no engineer's number, no caller's number or name, no support
// number, in any encoding; and the engineers are still rung in order.
func TestCallURLsCarryNoNumbers(t *testing.T) {
	for _, c := range []struct {
		name    string
		script  sim.Script
		dialled []string
		heard   string // on the caller's leg
	}{
		{"escalation to the second engineer", sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{aliceNumber: sim.NoAnswer, bobNumber: sim.Accept}},
			[]string{aliceNumber, bobNumber}, "connected to " + bobNumber},
		{"declined, then a personal voicemail, then a message", sim.Script{Presses: []string{"1"}, Engineers: map[string]sim.Behaviour{aliceNumber: sim.Decline, bobNumber: sim.Voicemail}, Voicemail: "Our VPN is down."},
			[]string{aliceNumber, bobNumber}, "Thank you"},
		{"nobody answers, an empty message", sim.Script{Presses: []string{"", "", ""}},
			[]string{aliceNumber, bobNumber}, "We did not receive a message"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			res := simCall(t, flowServer(newFlowWith(t, simToken, rec), simToken), c.script)
			assertNoSecrets(t, res)
			if got := dialled(res); !slices.Equal(got, c.dialled) {
				t.Errorf("rang %v, want %v\n%s", got, c.dialled, res.Transcript())
			}
			if !slices.ContainsFunc(res.Heard, func(l sim.Line) bool { return l.Leg == "caller" && strings.Contains(l.Text, c.heard) }) {
				t.Errorf("the caller did not get %q:\n%s", c.heard, res.Transcript())
			}
			var whispered bool
			for _, l := range res.Heard {
				whispered = whispered || strings.Contains(l.Text, "Support call for Operations from 1 5 5 5 5 5 5 0 1 2 3")
			}
			if c.script.Engineers != nil && !whispered {
				t.Errorf("the whisper does not name the caller's number, carried in the sealed state:\n%s", res.Transcript())
			}
		})
	}
}

// TestTokenRotatedMidCall switches hotline to a new auth token in the
// middle of simulated calls, as a restart with a rotated TWILIO_AUTH_TOKEN
// would: the URLs sealed before cannot be opened, and the call still
// reaches an engineer.
func TestTokenRotatedMidCall(t *testing.T) {
	for _, c := range []struct {
		name      string
		rotateAt  string // the first path served with the new key
		engineers map[string]sim.Behaviour
		dialled   []string
		bridgedTo string
		keys      []string // event keys the call must have
	}{
		{"before the dial action: the chain starts over", "/twilio/dial",
			map[string]sim.Behaviour{aliceNumber: sim.NoAnswer, bobNumber: sim.Accept},
			[]string{aliceNumber, aliceNumber, bobNumber}, bobNumber,
			[]string{"route:unreadable", "ring:r1:p0:s0", "dial:r1:p0:s0", "ring:r1:p0:s1", "whisper:r1:p0:s1", "dial:r1:p0:s1"}},
		{"before the whisper: the engineer is screened without names", "/twilio/whisper",
			map[string]sim.Behaviour{aliceNumber: sim.Accept},
			[]string{aliceNumber}, aliceNumber,
			[]string{"ring:p0:s0", "whisper:unreadable", "dial:unreadable"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			before := flowServer(newFlowWith(t, "token-before", rec), simToken)
			after := flowServer(newFlowWith(t, "token-after", rec), simToken)
			var rotated atomic.Bool
			srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == c.rotateAt {
					rotated.Store(true)
				}
				if rotated.Load() {
					after.ServeHTTP(w, r)
					return
				}
				before.ServeHTTP(w, r)
			})
			res := simCall(t, srv, sim.Script{Presses: []string{"1"}, Engineers: c.engineers})
			if !rotated.Load() {
				t.Fatalf("the call never reached %s", c.rotateAt)
			}
			assertNoSecrets(t, res)
			if got := dialled(res); !slices.Equal(got, c.dialled) {
				t.Errorf("rang %v, want %v\n%s", got, c.dialled, res.Transcript())
			}
			if !slices.ContainsFunc(res.Heard, func(l sim.Line) bool { return l.Kind == "bridge" && strings.Contains(l.Text, c.bridgedTo) }) {
				t.Errorf("the caller was not put through to %s:\n%s", c.bridgedTo, res.Transcript())
			}
			var keys []string
			for _, e := range rec.events {
				keys = append(keys, e.Key)
			}
			for _, k := range c.keys {
				if !slices.Contains(keys, k) {
					t.Errorf("no event %q among %v", k, keys)
				}
			}
			if !slices.ContainsFunc(rec.updates, func(u incident.Update) bool { return u.Status == incident.StatusAnswered }) {
				t.Errorf("the call is not answered: %+v", rec.updates)
			}
		})
	}
}

// TestOldFormatURLsStillRing plays the dial action of a call routed by a
// hotline before sealed states: the next engineer is rung from the plain
// query, and the URLs written from then on are sealed.
func TestOldFormatURLsStillRing(t *testing.T) {
	f := newFlowWith(t, testToken, &fakeRecorder{})
	old := "team=ops&c=alice%7C%2B15555550101%7C15&c=bob%7C%2B15555550102%7C20&step=0&pass=0&from=%2B15555550123"
	doc := post(t, f.HandleDialDone(), "/twilio/dial?"+old, url.Values{"CallSid": {"CA1"}, "CallStatus": {"in-progress"}, "DialCallStatus": {"no-answer"}})
	dial, ok := doc.find("Dial")
	if !ok {
		t.Fatalf("verbs %v, want bob rung", doc.verbs())
	}
	num, _ := dial.find("Number")
	if strings.TrimSpace(num.Text) != bobNumber || dial.attr("timeout") != "20" {
		t.Errorf("rings %q for %s s, want bob for 20", num.Text, dial.attr("timeout"))
	}
	for _, u := range []string{dial.attr("action"), num.attr("url")} {
		if !strings.Contains(u, "?s=") || strings.Contains(u, "5555") {
			t.Errorf("URL %q is not sealed", u)
		}
	}
	whisper := post(t, f.HandleWhisper(), "/twilio/whisper?"+old, url.Values{"CallSid": {"CA2"}, "ParentCallSid": {"CA1"}})
	if got := strings.Join(texts(whisper.Children[0]), " "); !strings.HasPrefix(got, "Support call for Operations from 1 5 5 5") {
		t.Errorf("an old-format whisper says %q", got)
	}
}

// BenchmarkState is one seal and one open of a two-step call's state.
func BenchmarkState(b *testing.B) {
	f := NewFlow(FlowDeps{PublicURL: "https://hotline.example.com", AuthToken: "bench-token", Now: time.Now, Log: zerolog.Nop()})
	st := callState{Team: "ops", From: callerNumber, Chain: []routing.Step{
		{Engineer: "alice", Name: "Alice Adams", Phone: aliceNumber, Timeout: 15 * time.Second},
		{Engineer: "bob", Name: "Bob Brown", Phone: bobNumber, Timeout: 20 * time.Second},
	}}
	b.ReportAllocs()
	for b.Loop() {
		u := f.stateURL("/twilio/dial", f.sealState(st))
		if _, ok := f.openState(u[len("https://hotline.example.com/twilio/dial?s="):]); !ok {
			b.Fatal("does not open")
		}
	}
}
