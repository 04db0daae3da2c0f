package ivr

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/routing"
)

// fuzzServer routes every webhook through the signature check, as in
// production, to a flow with an in-memory recorder.
func fuzzServer(t testing.TB) http.Handler {
	f, _ := newTestFlow(t.(*testing.T))
	return flowServer(f, "fuzz-token")
}

// flowServer serves f's webhooks as routes.go does, behind the signature
// check with token.
func flowServer(f *Flow, token string) http.Handler {
	r := mux.NewRouter()
	tw := r.PathPrefix("/twilio").Subrouter()
	tw.Use(RequireSignature(token, "https://hotline.example.com", zerolog.Nop(), nil))
	for path, h := range map[string]http.Handler{
		"/voice": f.HandleIncoming(), "/fallback": f.HandleFallback(), "/status": f.HandleStatus(),
		"/menu": f.HandleMenu(), "/pin": f.HandlePIN(), "/dial": f.HandleDialDone(), "/whisper": f.HandleWhisper(),
		"/whisper/answer": f.HandleWhisperAnswer(), "/recorded": f.HandleRecorded(),
		"/no-message": f.HandleNoMessage(), "/transcript": f.HandleTranscript(),
	} {
		tw.Handle(path, h).Methods(http.MethodPost)
	}
	return r
}

// FuzzWebhooks sends correctly signed webhooks with arbitrary fields and
// query strings to every handler: none may answer 5xx, panic, or send
// anything but well-formed TwiML under 64 kB.
func FuzzWebhooks(f *testing.F) {
	sealer, _ := newTestFlow(&testing.T{})
	seedQuery := stateQuery(sealer, callState{Team: "ops", From: "+15555550123", Chain: []routing.Step{{Engineer: "alice", Phone: "+15555550101", Timeout: 20 * time.Second}}})
	legacyQuery := "team=ops&c=alice%7C%2B15555550101%7C20&step=0&pass=0&from=%2B15555550123"
	for _, seed := range []struct{ path, query, body string }{
		{"/twilio/voice", "", "CallSid=CA1&From=%2B15555550123&To=%2B18005550100&CallerName=Bob"},
		{"/twilio/menu", "attempt=1&plays=1", "CallSid=CA1&Digits=1"},
		{"/twilio/menu", "attempt=9&plays=99", "CallSid=CA1&Digits=%2A"},
		{"/twilio/dial", seedQuery, "CallSid=CA1&DialCallStatus=completed&DialBridged=false&CallStatus=in-progress"},
		{"/twilio/dial", "step=-1&pass=x&c=%7C%7C", "CallSid=CA1&DialBridged=true"},
		{"/twilio/whisper", seedQuery, "CallSid=CA2&ParentCallSid=CA1"},
		{"/twilio/whisper/answer", seedQuery, "CallSid=CA2&ParentCallSid=CA1&Digits=1"},
		{"/twilio/recorded", seedQuery, "CallSid=CA1&RecordingUrl=https%3A%2F%2Fx&RecordingDuration=abc"},
		{"/twilio/transcript", "", "CallSid=CA1&TranscriptionText=%ff%fe%00"},
		{"/twilio/status", "", "CallSid=CA1&CallStatus=completed&CallDuration=-5"},
		{"/twilio/fallback", "", "CallSid=CA1&ErrorCode=11200"},
		{"/twilio/pin", "try=2", "CallSid=CA1&Digits=1234"},
		{"/twilio/menu", "attempt=1&plays=1&lang=es-MX&cust=globex", "CallSid=CA1&Digits=9"},
		{"/twilio/no-message", seedQuery, "CallSid=CA1"},
		{"/twilio/dial", legacyQuery, "CallSid=CA1&DialCallStatus=no-answer&CallStatus=in-progress"},
		{"/twilio/whisper", legacyQuery + "&lang=es-MX", "CallSid=CA2&ParentCallSid=CA1"},
		{"/twilio/dial", "s=" + strings.Repeat("A", 80), "CallSid=CA1&DialCallStatus=busy&CallStatus=in-progress"},
		{"/twilio/whisper/answer", seedQuery[:len(seedQuery)-4] + "AAAA", "CallSid=CA2&ParentCallSid=CA1&Digits=1"},
	} {
		f.Add(seed.path, seed.query, seed.body)
	}
	srv := fuzzServer(&testing.T{})
	f.Fuzz(func(t *testing.T, path, query, body string) {
		if !strings.HasPrefix(path, "/twilio/") || strings.ContainsAny(path, "?#% \t\r\n") {
			return
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return // malformed encodings are refused before any handler; see TestRequireSignature
		}
		target := path
		if query != "" {
			if _, err := url.ParseQuery(query); err != nil || strings.ContainsAny(query, " \t\r\n#") {
				return
			}
			target += "?" + query
		}
		u, err := url.Parse("https://hotline.example.com" + target)
		if err != nil || u.RequestURI() != target {
			return
		}
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sign("fuzz-token", "https://hotline.example.com"+target, form))
		rr := httptest.NewRecorder()
		srv.ServeHTTP(rr, req)
		if rr.Code >= 500 {
			t.Fatalf("%s: %d", target, rr.Code)
		}
		if rr.Code != http.StatusOK {
			return
		}
		if rr.Body.Len() >= 64<<10 {
			t.Fatalf("%s: TwiML of %d bytes", target, rr.Body.Len())
		}
		var doc node
		if err := xml.Unmarshal(rr.Body.Bytes(), &doc); err != nil || doc.XMLName.Local != "Response" {
			t.Fatalf("%s: not TwiML: %v\n%s", target, err, rr.Body.String())
		}
	})
}
