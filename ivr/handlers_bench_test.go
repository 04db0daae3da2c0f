package ivr

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/store"
)

// benchFlow is the production stack minus HTTP: signature check, handlers,
// the group-commit writer and SQLite with synchronous=FULL.
type benchFlow struct {
	srv    http.Handler
	writer *incident.Writer
	state  string // the query of a routed call's dial URLs: its sealed state
}

func newBenchFlow(b *testing.B) *benchFlow {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	if err := incident.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	w, err := incident.NewWriter(incident.NewIncidents(db), path+".spool", 400*time.Millisecond, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(); db.Close() })
	cfg, err := config.ParseConfig("flow.yaml", []byte(flowConfig))
	if err != nil {
		b.Fatal(err)
	}
	f := NewFlow(FlowDeps{Router: routing.NewRouter(cfg, nil), Incidents: w, PublicURL: "https://hotline.example.com", AuthToken: "bench-token", Now: time.Now, Log: zerolog.Nop()})
	st := callState{Team: "ops", From: "+15555550123", Chain: []routing.Step{
		{Engineer: "alice", Phone: "+15555550101", Timeout: 15 * time.Second},
		{Engineer: "bob", Phone: "+15555550102", Timeout: 20 * time.Second},
	}}
	return &benchFlow{srv: signedMux(f), writer: w, state: stateQuery(f, st)}
}

func signedMux(f *Flow) http.Handler {
	mux := http.NewServeMux()
	sig := RequireSignature("bench-token", "https://hotline.example.com", zerolog.Nop(), nil)
	for path, h := range map[string]http.Handler{
		"/twilio/voice": f.HandleIncoming(), "/twilio/menu": f.HandleMenu(), "/twilio/whisper": f.HandleWhisper(),
		"/twilio/whisper/answer": f.HandleWhisperAnswer(), "/twilio/dial": f.HandleDialDone(), "/twilio/status": f.HandleStatus(),
	} {
		mux.Handle(path, sig(h))
	}
	return mux
}

func (bf *benchFlow) post(b *testing.B, target string, form url.Values) {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sign("bench-token", "https://hotline.example.com"+target, form))
	rr := httptest.NewRecorder()
	bf.srv.ServeHTTP(rr, req)
	if rr.Code != http.StatusOK {
		b.Fatalf("%s: %d", target, rr.Code)
	}
}

func callForm(sid string, extra ...string) url.Values {
	v := url.Values{"CallSid": {sid}, "From": {"+15555550123"}, "To": {"+18005550100"}, "AccountSid": {"AC00000000000000000000000000000000"}, "CallStatus": {"in-progress"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// step names one webhook of a call, built for the i-th call.
type step struct {
	name   string
	target func(bf *benchFlow) string
	form   func(sid string) url.Values
}

var callSteps = []step{
	{"voice", func(*benchFlow) string { return "/twilio/voice" }, func(sid string) url.Values { return callForm(sid, "CallStatus", "ringing") }},
	{"menu", func(*benchFlow) string { return "/twilio/menu?attempt=1&plays=1" }, func(sid string) url.Values { return callForm(sid, "Digits", "1") }},
	{"whisper", func(bf *benchFlow) string { return "/twilio/whisper?" + bf.state }, func(sid string) url.Values {
		return callForm(sid+"c", "ParentCallSid", sid, "Direction", "outbound-dial")
	}},
	{"whisper_answer", func(bf *benchFlow) string { return "/twilio/whisper/answer?" + bf.state }, func(sid string) url.Values {
		return callForm(sid+"c", "ParentCallSid", sid, "Digits", "1")
	}},
	{"dial", func(bf *benchFlow) string { return "/twilio/dial?" + bf.state }, func(sid string) url.Values {
		return callForm(sid, "DialCallStatus", "completed", "DialBridged", "true", "DialCallSid", sid+"c")
	}},
	{"status", func(*benchFlow) string { return "/twilio/status" }, func(sid string) url.Values {
		return callForm(sid, "CallStatus", "completed", "CallDuration", "75")
	}},
}

// BenchmarkWebhook measures each hot handler on its own: every iteration is
// a new call whose earlier steps were played before the timer started, so
// each measured webhook does its real write.
func BenchmarkWebhook(b *testing.B) {
	for i, s := range callSteps {
		b.Run(s.name, func(b *testing.B) {
			bf := newBenchFlow(b)
			for n := range b.N {
				for _, prev := range callSteps[:i] {
					bf.post(b, prev.target(bf), prev.form(fmt.Sprintf("CA%d", n)))
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				bf.post(b, s.target(bf), s.form(fmt.Sprintf("CA%d", n)))
			}
		})
	}
}

// BenchmarkCall plays a whole answered call (six webhooks) per iteration,
// from 32 goroutines per core, so group commit has company to batch.
func BenchmarkCall(b *testing.B) {
	bf := newBenchFlow(b)
	b.ReportAllocs()
	b.SetParallelism(32)
	var seq int64
	var mu = make(chan struct{}, 1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu <- struct{}{}
			seq++
			sid := fmt.Sprintf("CA%d", seq)
			<-mu
			for _, s := range callSteps {
				bf.post(b, s.target(bf), s.form(sid))
			}
		}
	})
}
