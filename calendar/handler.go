package calendar

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/schedules"
)

// Source is where feeds come from; *routing.Router is one.
type Source interface {
	Config() *config.Config
	Overrides(ctx context.Context) (*schedules.OverrideIndex, error)
}

// Resolver finds the subject of a token; *Tokens is one.
type Resolver interface {
	Lookup(ctx context.Context, token string) (Subject, error)
}

// Handler serves GET /calendar/{token}.ics: the feed of the token's
// subject as text/calendar. The token is the last element of the path,
// so the handler works under any prefix. An unknown, rotated-away or
// revoked token, or one whose subject left the config, gets 404. Tokens
// are never logged.
func Handler(src Source, tokens Resolver, now func() time.Time, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		token, ok := strings.CutSuffix(path.Base(r.URL.Path), ".ics")
		if !ok {
			http.NotFound(w, r)
			return
		}
		subject, err := tokens.Lookup(r.Context(), token)
		if err != nil {
			notFoundOr(w, r, err, log)
			return
		}
		idx, err := src.Overrides(r.Context())
		if err != nil {
			log.Error().Err(err).Str("kind", string(subject.Kind)).Str("subject", subject.ID).Msg("calendar feed")
			http.Error(w, "schedules unavailable, try again later", http.StatusServiceUnavailable)
			return
		}
		feed, err := Build(src.Config(), idx, subject, now())
		if err != nil {
			notFoundOr(w, r, err, log)
			return
		}
		var buf bytes.Buffer
		if _, err := feed.WriteTo(&buf); err != nil {
			log.Error().Err(err).Msg("calendar feed")
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/calendar; charset=utf-8")
		h.Set("Cache-Control", "private, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(buf.Bytes())
		log.Debug().Str("kind", string(subject.Kind)).Str("subject", subject.ID).
			Int("events", len(feed.Events)).Msg("calendar feed")
	})
}

// notFoundOr answers 404 for ErrNotFound, 503 for anything else.
func notFoundOr(w http.ResponseWriter, r *http.Request, err error, log zerolog.Logger) {
	if errors.Is(err, ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	log.Error().Err(err).Msg("calendar feed")
	http.Error(w, "try again later", http.StatusServiceUnavailable)
}
