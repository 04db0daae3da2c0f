package ivr

import (
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// LogWebhooks logs one line per webhook: call, step, status and latency.
// Phone numbers never appear at info level.
func LogWebhooks(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			ev := log.Info()
			if sw.status >= 400 {
				ev = log.Warn()
			}
			ev.Str("call_sid", r.PostForm.Get("CallSid")).
				Str("step", strings.TrimPrefix(r.URL.Path, "/twilio/")).
				Int("status", sw.status).
				Dur("latency", time.Since(start)).
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

// MaskNumber keeps the last four digits of a phone number for logs.
func MaskNumber(n string) string {
	if len(n) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
