package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// LiveReader reads the live view of the incident log: the calls in
// progress and the incidents waiting for someone.
type LiveReader interface {
	Live(ctx context.Context, askPIN bool) (incident.Live, error)
}

// ConfigSource gives the config in force.
type ConfigSource interface {
	Config() *config.Config
}

// How /live/events streams: it reads the view every liveTick and sends it
// when it changed, a comment every liveKeepAlive when it did not (so
// proxies keep the connection), and ends after liveFor; the browser's
// EventSource then reconnects on its own, which checks the session again.
const (
	liveTick      = time.Second
	liveKeepAlive = 15 * time.Second
	liveFor       = 5 * time.Minute
	// liveWriteWait is how long one write of the stream may wait on a
	// client, beyond the server's WriteTimeout.
	liveWriteWait = 10 * time.Second
)

// liveScriptCSP is the policy of /live: the site's, plus its one script
// from this origin (no inline script) and its event stream.
const liveScriptCSP = defaultCSP + "; script-src 'self'; connect-src 'self'"

// asksPIN reports whether the line asks callers for a customer PIN.
func asksPIN(cfg *config.Config) bool {
	return cfg.Hotline.Identify == config.IdentifyPIN || cfg.Hotline.Identify == config.IdentifyCallerIDOrPIN
}

// livePage is /live.
type livePage struct {
	Page
	liveView
}

// liveView is what the live tables show; the page and each event of the
// stream render it with the same template ("live-tables").
type liveView struct {
	Calls        []liveRow
	Waiting      []waitingRow
	WaitingTotal int
}

type liveRow struct {
	Link, CallerName, CallerNumber, Customer, Team string
	Started, Duration                              string
	Stage, StageText, StageFor                     string
}

type waitingRow struct {
	Link, Kind, What, Team, Started, Age string
	Status, StatusLabel                  string
	LastPaged                            string // "Alice Adams, 3 min 02 s ago"; "" when nobody was paged
}

// view reads the live view and writes it for people, at now.
func (s *Site) view(ctx context.Context) (liveView, error) {
	cfg := s.Schedules.Config()
	live, err := s.Incidents.Live(ctx, asksPIN(cfg))
	if err != nil {
		return liveView{}, err
	}
	now, loc := s.Now(), s.loc()
	v := liveView{WaitingTotal: live.OpenTotal}
	for _, c := range live.Calls {
		row := liveRow{
			Link: "/incidents/" + strconv.FormatInt(c.IncidentID, 10), CallerName: shownText(c.CallerName), CallerNumber: shownText(c.From),
			Started: c.StartedAt.In(loc).Format("15:04:05"), Duration: formatDuration(now.Sub(c.StartedAt)),
			Stage: string(c.Stage), StageText: stageText(cfg, c), StageFor: formatDuration(now.Sub(c.StageSince)),
		}
		if c.Team != "" {
			row.Team = teamName(cfg, c.Team)
		}
		if c.Customer != nil {
			row.Customer = *c.Customer
			if cu, ok := cfg.Customer(*c.Customer); ok {
				row.Customer = cu.Name
			}
		}
		v.Calls = append(v.Calls, row)
	}
	for _, w := range live.Waiting {
		row := waitingRow{
			Link: "/incidents/" + strconv.FormatInt(w.IncidentID, 10), Kind: w.Kind, Team: teamName(cfg, w.Team),
			Started: w.StartedAt.In(loc).Format(dateTimeLayout), Age: formatDuration(now.Sub(w.StartedAt)),
			Status: w.Status, StatusLabel: statusLabel(w.Status),
		}
		switch {
		case w.Kind == incident.KindAlert:
			row.What = shownText(w.Summary)
		case w.CallerName != "":
			row.What = shownText(w.CallerName) + " " + shownText(w.From)
		default:
			row.What = shownText(w.From)
		}
		if p := w.LastPaged; p != nil {
			name := p.EngineerName
			if name == "" {
				name = engineerName(cfg, p.Engineer)
			}
			row.LastPaged = name + ", " + formatDuration(now.Sub(p.At)) + " ago"
		}
		v.Waiting = append(v.Waiting, row)
	}
	return v, nil
}

// stageText says where a call is: "in the menu", "ringing Alice Adams
// (step 1, pass 1)", "connected to Alice Adams".
func stageText(cfg *config.Config, c incident.LiveCall) string {
	who := c.EngineerName
	if who == "" && c.Engineer != nil {
		who = engineerName(cfg, *c.Engineer)
	}
	if who == "" {
		who = "an engineer"
	}
	var where string
	if c.Step != nil && c.Pass != nil {
		where = fmt.Sprintf(" (step %d, pass %d)", *c.Step, *c.Pass)
	}
	switch c.Stage {
	case incident.StageIdentifying:
		return "identifying: asked for the PIN"
	case incident.StageRinging:
		return "ringing " + who + where
	case incident.StageConnected:
		return "connected to " + who + where
	case incident.StageVoicemail:
		return "leaving a voicemail"
	}
	return "in the menu"
}

// handleLive serves /live: the calls in progress and the incidents waiting
// for someone. Its script (static/live.js) replaces the tables with each
// event of /live/events; without JavaScript the page refreshes itself.
func (s *Site) handleLive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.view(r.Context())
		if err != nil {
			s.unavailable(w, r, "live view", err)
			return
		}
		s.renderCSP(w, r, http.StatusOK, "live.html", livePage{Page: pageOf(r, "Live", "live"), liveView: v}, liveScriptCSP)
	})
}

// handleLiveEvents serves /live/events, a stream of server-sent events:
// each "live" event carries the live tables as HTML, sent when they
// change (read every second, so within a second or two of each webhook),
// for at most liveFor, and stops as soon as the client goes.
func (s *Site) handleLiveEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		write := func(b []byte) bool {
			// A writer without deadlines keeps the server's WriteTimeout.
			_ = rc.SetWriteDeadline(time.Now().Add(liveWriteWait))
			if _, err := w.Write(b); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		// The browser reconnects a second after the stream ends.
		if !write([]byte("retry: 1000\n\n")) {
			return
		}
		end := time.NewTimer(s.liveFor)
		defer end.Stop()
		tick := time.NewTicker(s.liveTick)
		defer tick.Stop()
		var last []byte
		quiet := time.Now()
		failing := false // logged once until the view reads again
		for {
			var buf bytes.Buffer
			v, err := s.view(ctx)
			if err == nil {
				err = pages["live.html"].ExecuteTemplate(&buf, "live-tables", v)
			}
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				// The page keeps what it shows; the next tick tries again.
				if !failing {
					s.Log.Error().Err(err).Msg("web: live view")
				}
			case !bytes.Equal(buf.Bytes(), last):
				last = buf.Bytes()
				quiet = time.Now()
				if !write(sseEvent("live", last)) {
					return
				}
			case time.Since(quiet) >= liveKeepAlive:
				quiet = time.Now()
				if !write([]byte(": still here\n\n")) {
					return
				}
			}
			failing = err != nil
			select {
			case <-ctx.Done():
				return
			case <-end.C:
				return
			case <-tick.C:
			}
		}
	})
}

// sseEvent frames data as one server-sent event, each of its lines a
// data line (the browser joins them with newlines).
func sseEvent(name string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("event: " + name + "\n")
	// CR, LF and CRLF all end a line of the stream: a CR in a caller's
	// name must not end the field early.
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(strings.TrimRight(string(data), "\r\n"))
	for _, line := range strings.Split(text, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	return b.Bytes()
}

// HandleAPILive serves GET /api/v1/live: {"calls": [...], "waiting":
// [...], "waiting_total": N}, each call with its stage (menu, identifying,
// ringing, connected, voicemail) and, ringing or connected, the engineer,
// step and pass.
func HandleAPILive(live LiveReader, cfg ConfigSource, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := live.Live(r.Context(), asksPIN(cfg.Config()))
		if err != nil {
			log.Error().Err(err).Msg("api: live")
			writeJSONError(w, http.StatusServiceUnavailable, "the call log is unavailable")
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}
