package ivr

import (
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// LogWebhooks logs one line per webhook (call, step, status, latency) and
// observes its latency in m (which may be nil). Phone numbers never appear
// at info level.
func LogWebhooks(log zerolog.Logger, m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			latency := time.Since(start)
			m.observe(r, sw.status, latency)
			ev := log.Info()
			if sw.status >= 400 {
				ev = log.Warn()
			}
			ev.Str("call_sid", r.PostForm.Get("CallSid")).
				Str("step", strings.TrimPrefix(r.URL.Path, "/twilio/")).
				Int("status", sw.status).
				Dur("latency", latency).
				Msg("webhook")
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
