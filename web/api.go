package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/routing"
)

// IncidentReader is what the pages and the API read of the incident log.
type IncidentReader interface {
	FindIncidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error)
	Incident(ctx context.Context, id int64) (incident.Incident, error)
}

// OnCallReader answers who is on call.
type OnCallReader interface {
	WhoIsOnCall(ctx context.Context, team string, at time.Time) (routing.OnCall, error)
}

// Authenticator checks credentials.
type Authenticator interface {
	Authenticate(ctx context.Context, name, password string) (User, error)
}

type userKey struct{}

// SessionReader finds the user of a session cookie.
type SessionReader interface {
	SessionUser(ctx context.Context, token string) (User, error)
}

// RequireAPIUser lets a request through with the session cookie of a
// signed-in manager or valid HTTP Basic credentials of a web account,
// checked by guard as the sign-in form's are: a throttled client gets 429
// with Retry-After (nothing hashed), and 503 when every password check is
// busy.
func RequireAPIUser(guard *Guard, sessions SessionReader, log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := r.Cookie(sessionCookie); err == nil {
				u, err := sessions.SessionUser(r.Context(), c.Value)
				if err == nil {
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
					return
				}
				if !errors.Is(err, ErrNoSession) {
					log.Error().Err(err).Msg("api: session")
				}
			}
			name, password, ok := r.BasicAuth()
			if ok {
				u, err := guard.SignIn(r, "api", name, password)
				var throttled *ThrottledError
				switch {
				case err == nil:
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
					return
				case errors.As(err, &throttled):
					retryAfter(w, throttled.Wait)
					writeJSONError(w, http.StatusTooManyRequests, "too many failed sign-ins from this address; wait for Retry-After")
					return
				case errors.Is(err, ErrBusy):
					retryAfter(w, time.Second)
					writeJSONError(w, http.StatusServiceUnavailable, "too many sign-ins at once; try again in a moment")
					return
				case !errors.Is(err, ErrBadLogin):
					log.Error().Err(err).Msg("api: authenticate")
					writeJSONError(w, http.StatusServiceUnavailable, "accounts are unavailable")
					return
				}
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="hotline", charset="UTF-8"`)
			writeJSONError(w, http.StatusUnauthorized, "sign in with a hotline account (HTTP Basic)")
		})
	}
}

// HandleAPIIncidents serves GET /api/v1/incidents: newest first, filtered by
// status, state (open, acknowledged, resolved), kind (call, alert), team,
// from, to (RFC 3339) and limit; events left out. A page that is not the
// last carries next_cursor, which cursor= takes to read the next one.
func HandleAPIIncidents(incidents IncidentReader, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := incident.Filter{Status: q.Get("status"), Team: q.Get("team"), Caller: q.Get("caller"), Customer: q.Get("customer"),
			State: q.Get("state"), Kind: q.Get("kind")}
		if f.Status != "" && statusLabel(f.Status) == f.Status {
			writeJSONError(w, http.StatusBadRequest, "status: in_progress, answered, voicemail, abandoned or missed")
			return
		}
		if !slices.Contains([]string{"", incident.StateOpen, incident.StateAcknowledged, incident.StateResolved}, f.State) {
			writeJSONError(w, http.StatusBadRequest, "state: open, acknowledged or resolved")
			return
		}
		if !slices.Contains([]string{"", incident.KindCall, incident.KindAlert}, f.Kind) {
			writeJSONError(w, http.StatusBadRequest, "kind: call or alert")
			return
		}
		var err error
		if f.From, err = optionalTime(q.Get("from")); err != nil {
			writeJSONError(w, http.StatusBadRequest, "from: "+err.Error())
			return
		}
		if f.To, err = optionalTime(q.Get("to")); err != nil {
			writeJSONError(w, http.StatusBadRequest, "to: "+err.Error())
			return
		}
		limit := 50
		if s := q.Get("limit"); s != "" {
			if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
				writeJSONError(w, http.StatusBadRequest, "limit: a whole number from 1 to 1000")
				return
			}
		}
		if s := q.Get("cursor"); s != "" {
			c, err := incident.ParseCursor(s)
			if err != nil {
				writeJSONError(w, http.StatusBadRequest, "cursor: not a next_cursor this API gave")
				return
			}
			f.Before = &c
		}
		f.Limit = limit + 1 // one more tells whether there is a next page
		list, err := incidents.FindIncidents(r.Context(), f)
		if err != nil {
			log.Error().Err(err).Msg("api: find incidents")
			writeJSONError(w, http.StatusServiceUnavailable, "the call log is unavailable")
			return
		}
		var next *string
		if len(list) > limit {
			list = list[:limit]
			c := incident.CursorOf(list[limit-1]).String()
			next = &c
		}
		writeJSON(w, http.StatusOK, struct {
			Incidents  []incident.Incident `json:"incidents"`
			NextCursor *string             `json:"next_cursor"`
		}{list, next})
	})
}

// HandleAPIIncident serves GET /api/v1/incidents/{id} with its events.
func HandleAPIIncident(incidents IncidentReader, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err != nil {
			writeJSONError(w, http.StatusNotFound, "no such incident")
			return
		}
		in, err := incidents.Incident(r.Context(), id)
		if errors.Is(err, incident.ErrNotFound) {
			writeJSONError(w, http.StatusNotFound, "no such incident")
			return
		}
		if err != nil {
			log.Error().Err(err).Int64("id", id).Msg("api: incident")
			writeJSONError(w, http.StatusServiceUnavailable, "the call log is unavailable")
			return
		}
		writeJSON(w, http.StatusOK, in)
	})
}

// HandleAPIOnCall serves GET /api/v1/oncall?team=&at=.
func HandleAPIOnCall(oncall OnCallReader, now func() time.Time, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at, err := optionalTime(r.URL.Query().Get("at"))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "at: "+err.Error())
			return
		}
		if at.IsZero() {
			at = now()
		}
		out, err := oncall.WhoIsOnCall(r.Context(), r.URL.Query().Get("team"), at)
		if errors.Is(err, routing.ErrUnknownTeam) {
			writeJSONError(w, http.StatusNotFound, "no such team")
			return
		}
		if err != nil {
			log.Error().Err(err).Msg("api: oncall")
			writeJSONError(w, http.StatusServiceUnavailable, "schedules are unavailable")
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func optionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time such as 2026-11-29T03:00:00Z")
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// HandleAPILifecycle serves POST /api/v1/incidents/{id}/acknowledge and
// /resolve: change, as the signed-in account (the store audits it), then
// the incident's JSON. A change the incident's state refuses (acknowledging
// a resolved incident) is 409 with the reason.
func HandleAPILifecycle(incidents IncidentReader, change func(ctx context.Context, id int64, by, how string, at time.Time) error, now func() time.Time, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err != nil {
			writeJSONError(w, http.StatusNotFound, "no such incident")
			return
		}
		err = change(r.Context(), id, actorOf(r), "api", now())
		if msg, refused := problem.Of(err, problem.Invalid); refused {
			writeJSONError(w, http.StatusConflict, msg)
			return
		}
		if err == nil {
			HandleAPIIncident(incidents, log).ServeHTTP(w, r)
			return
		}
		if errors.Is(err, incident.ErrNotFound) {
			writeJSONError(w, http.StatusNotFound, "no such incident")
			return
		}
		log.Error().Err(err).Int64("id", id).Msg("api: change incident")
		writeJSONError(w, http.StatusServiceUnavailable, "the call log is unavailable")
	})
}
