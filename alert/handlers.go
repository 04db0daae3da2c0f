package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/problem"
)

// MaxBody is the largest alert request accepted.
const MaxBody = 1 << 20

// Incidents is what the alert endpoints write: alert incidents opened,
// repeated and resolved.
type Incidents interface {
	OpenAlert(ctx context.Context, a incident.Alert) (id int64, created bool, err error)
	OpenAlertByKey(ctx context.Context, dedupKey string) (int64, error)
	Resolve(ctx context.Context, id int64, by, how string, at time.Time) error
}

// Handlers serve the alert endpoints.
type Handlers struct {
	Integrations *Integrations
	Incidents    Incidents
	// Opened is told of each new alert incident, to page its team; nil
	// pages nobody.
	Opened func(ctx context.Context, id int64, team string, at time.Time)
	Now    func() time.Time
	Log    zerolog.Logger
}

// trigger is the body of POST /api/v1/alerts.
type trigger struct {
	Summary  string `json:"summary"`
	Details  string `json:"details"`
	DedupKey string `json:"dedup_key"`
	Action   string `json:"action"` // trigger (default) or resolve
}

// answer is what an accepted alert request gets (202).
type answer struct {
	IncidentID int64  `json:"incident_id"`
	State      string `json:"state"`
}

// HandleAlert serves POST /api/v1/alerts: a trigger opens an incident (or,
// with the dedup_key of an open one, adds an alert event to it and pages
// nobody again); a resolve resolves the open one with that key, as the
// integration.
func (h *Handlers) HandleAlert() http.Handler {
	return h.authenticated(func(w http.ResponseWriter, r *http.Request, in Integration, body []byte) {
		var t trigger
		dec := json.NewDecoder(strings.NewReader(string(body)))
		if err := dec.Decode(&t); err != nil {
			writeError(w, http.StatusBadRequest, "the body is not JSON of the alert's shape: "+err.Error())
			return
		}
		switch t.Action {
		case "", "trigger":
			h.trigger(w, r, in, incident.Alert{Team: in.Team, Summary: strings.TrimSpace(t.Summary), Details: t.Details,
				DedupKey: t.DedupKey, Source: in.Name, At: h.Now()})
		case "resolve":
			if t.DedupKey == "" {
				writeError(w, http.StatusBadRequest, "dedup_key: required to resolve an alert")
				return
			}
			h.resolve(w, r, in, t.DedupKey)
		default:
			writeError(w, http.StatusBadRequest, `action: "trigger" or "resolve"`)
		}
	})
}

// alertmanager is the part of Alertmanager's webhook (version 4) hotline
// reads.
type alertmanager struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"` // firing or resolved
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	Alerts            []json.RawMessage `json:"alerts"`
	ExternalURL       string            `json:"externalURL"`
}

// HandleAlertmanager serves POST /api/v1/alerts/alertmanager: one incident
// per groupKey; firing triggers it, resolved resolves it.
func (h *Handlers) HandleAlertmanager() http.Handler {
	return h.authenticated(func(w http.ResponseWriter, r *http.Request, in Integration, body []byte) {
		var m alertmanager
		if err := json.Unmarshal(body, &m); err != nil {
			writeError(w, http.StatusBadRequest, "the body is not Alertmanager's webhook JSON: "+err.Error())
			return
		}
		if m.GroupKey == "" {
			writeError(w, http.StatusBadRequest, "groupKey: required")
			return
		}
		key := "alertmanager:" + m.GroupKey
		switch m.Status {
		case "firing":
			summary := m.CommonAnnotations["summary"]
			if summary == "" {
				summary = fmt.Sprintf("%s (%d alerts)", m.CommonLabels["alertname"], len(m.Alerts))
				if m.CommonLabels["alertname"] == "" {
					summary = fmt.Sprintf("%d alerts firing", len(m.Alerts))
				}
			}
			details := m.CommonAnnotations["description"]
			if m.ExternalURL != "" {
				details = strings.TrimSpace(details + "\n" + m.ExternalURL)
			}
			h.trigger(w, r, in, incident.Alert{Team: in.Team, Summary: summary, Details: details, DedupKey: key, Source: in.Name, At: h.Now()})
		case "resolved":
			h.resolve(w, r, in, key)
		default:
			writeError(w, http.StatusBadRequest, `status: "firing" or "resolved"`)
		}
	})
}

func (h *Handlers) trigger(w http.ResponseWriter, r *http.Request, in Integration, a incident.Alert) {
	id, created, err := h.Incidents.OpenAlert(r.Context(), a)
	if msg, invalid := problem.Of(err, problem.Invalid); invalid {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if err != nil {
		h.Log.Error().Err(err).Str("integration", in.Name).Msg("alert: open")
		writeError(w, http.StatusServiceUnavailable, "alerts cannot be recorded now; retry")
		return
	}
	if created && h.Opened != nil {
		h.Opened(r.Context(), id, in.Team, a.At)
	}
	writeJSON(w, http.StatusAccepted, answer{IncidentID: id, State: incident.StateOpen})
}

func (h *Handlers) resolve(w http.ResponseWriter, r *http.Request, in Integration, key string) {
	id, err := h.Incidents.OpenAlertByKey(r.Context(), key)
	if errors.Is(err, incident.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no open alert has that dedup_key")
		return
	}
	if err == nil {
		err = h.Incidents.Resolve(r.Context(), id, in.Name, "integration", h.Now())
	}
	if err != nil {
		h.Log.Error().Err(err).Str("integration", in.Name).Msg("alert: resolve")
		writeError(w, http.StatusServiceUnavailable, "alerts cannot be recorded now; retry")
		return
	}
	writeJSON(w, http.StatusAccepted, answer{IncidentID: id, State: incident.StateResolved})
}

// authenticated reads the integration's secret (Authorization: Bearer, or
// ?token=) and a body of at most MaxBody, then runs serve; a request
// without a known secret is 401 and reads nothing further.
func (h *Handlers) authenticated(serve func(w http.ResponseWriter, r *http.Request, in Integration, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			secret = r.URL.Query().Get("token")
		}
		in, err := h.Integrations.Authenticate(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, ErrUnknownSecret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hotline"`)
			writeError(w, http.StatusUnauthorized, "send an integration's secret (hotline integration add) as Authorization: Bearer SECRET or ?token=SECRET")
			return
		}
		if err != nil {
			h.Log.Error().Err(err).Msg("alert: authenticate")
			writeError(w, http.StatusServiceUnavailable, "integrations are unavailable; retry")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", MaxBody))
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "the body could not be read")
			return
		}
		serve(w, r, in, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
