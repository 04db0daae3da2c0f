package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/problem"
)

// incidentPage is one call with its timeline.
type incidentPage struct {
	Page
	Call       callRow
	CallSid    string
	MenuDigit  string
	Revision   string // the first 12 digits of the config revision that routed it
	ConfigLink string // its page on /config; empty for a call without one (an alert)
	Events     []eventRow
	Recording  string // the proxied audio URL; empty without a recording
	Transcript string
	Note       string
	MaxNote    int
}

// eventRow is one line of the timeline.
type eventRow struct {
	Offset, Time, Type, Label, Engineer, Detail string
}

// handleIncident serves /incidents/{id}.
func (s *Site) handleIncident() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := pathID(r)
		in, err := s.Incidents.Incident(r.Context(), id)
		if errors.Is(err, incident.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "There is no call "+strconv.FormatInt(id, 10)+".")
			return
		}
		if err != nil {
			s.unavailable(w, r, "call log", err)
			return
		}
		s.render(w, r, http.StatusOK, "incident.html", s.incidentPage(r, in, in.Note))
	})
}

func (s *Site) incidentPage(r *http.Request, in incident.Incident, note string) incidentPage {
	cfg := s.Schedules.Config()
	loc := s.loc()
	p := incidentPage{
		Page: pageOf(r, "Call "+strconv.FormatInt(in.ID, 10), "calls"),
		Call: s.callRow(cfg, loc, in), CallSid: in.CallSid, MenuDigit: in.MenuDigit, Revision: in.ConfigRevision,
		Note: shownText(note), MaxNote: incident.MaxNote,
	}
	if p.Revision != "" {
		p.ConfigLink = "/config/" + p.Revision
	}
	p.Revision = short(p.Revision)
	for _, e := range in.Events {
		row := eventRow{Offset: offset(e.At.Sub(in.StartedAt)), Time: e.At.In(loc).Format("15:04:05"),
			Type: string(e.Type), Label: e.Type.Label(), Detail: shownText(e.Detail), Engineer: e.EngineerName}
		if row.Engineer == "" && e.Engineer != "" {
			row.Engineer = engineerName(cfg, e.Engineer)
		}
		p.Events = append(p.Events, row)
	}
	if in.RecordingURL != nil {
		p.Recording = p.Call.Link + "/recording"
	}
	if in.Transcript != nil {
		p.Transcript = shownText(*in.Transcript)
	}
	return p
}

// handleNote saves the manager's note (audited) and shows the call again.
// Control characters in it are replaced (cleanInput): PostgreSQL refuses a
// NUL in text, which would otherwise turn the save into a 503.
func (s *Site) handleNote() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := pathID(r)
		note := cleanInput(r.PostFormValue("note"))
		err := s.Incidents.SetNote(r.Context(), id, note, actorOf(r), s.Now())
		switch {
		case errors.Is(err, incident.ErrNotFound):
			s.fail(w, r, http.StatusNotFound, "There is no call "+strconv.FormatInt(id, 10)+".")
		case isProblem(err, problem.Invalid):
			in, gerr := s.Incidents.Incident(r.Context(), id)
			if gerr != nil {
				s.unavailable(w, r, "call log", gerr)
				return
			}
			p := s.incidentPage(r, in, note)
			msg, _ := problem.Of(err, problem.Invalid)
			p.Error = "The note was not saved: " + msg
			s.render(w, r, http.StatusBadRequest, "incident.html", p)
		case err != nil:
			s.unavailable(w, r, "call log", err)
		default:
			seeOther(w, r, "/incidents/"+strconv.FormatInt(id, 10)+"#note")
		}
	})
}

// isProblem reports whether err is a refusal of kind code.
func isProblem(err error, code problem.Code) bool {
	_, ok := problem.Of(err, code)
	return ok
}

// handleLifecycle acknowledges or resolves the incident (change), as the
// signed-in account, and shows it again; the store audits it.
func (s *Site) handleLifecycle(change func(ctx context.Context, id int64, by, how string, at time.Time) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := pathID(r)
		err := change(r.Context(), id, actorOf(r), "web", s.Now())
		switch {
		case errors.Is(err, incident.ErrNotFound):
			s.fail(w, r, http.StatusNotFound, "There is no call "+strconv.FormatInt(id, 10)+".")
		case isProblem(err, problem.Invalid):
			msg, _ := problem.Of(err, problem.Invalid)
			s.fail(w, r, http.StatusConflict, "Nothing changed: "+msg+".")
		case err != nil:
			s.unavailable(w, r, "call log", err)
		default:
			seeOther(w, r, "/incidents/"+strconv.FormatInt(id, 10))
		}
	})
}
