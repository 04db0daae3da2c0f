package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/routing"
	"github.com/hotline-dev/hotline/schedules"
)

// ScheduleDays is how far ahead the schedules page looks.
const ScheduleDays = 14

// schedulesPage shows who is on call now and over the next two weeks.
type schedulesPage struct {
	Page
	Now       string
	Teams     []teamSchedule
	Overrides []overrideRow
	Rotations []option
	Engineers []option
	Form      overrideForm
	// Filter is the engineer whose shifts alone are listed (?engineer=),
	// FilterName their name; Shown offers every engineer for it.
	Filter, FilterName string
	Shown              []option
	// Overlaps warns of overrides of one rotation that cover the same time.
	Overlaps []overlapNote
	// Calendars lists the feeds that can get a link ("team:ops", ...);
	// CalendarURL is a link just made, shown for calendarLinkTTL.
	Calendars   []option
	CalendarURL string
	// OptedOut are the engineers who get no texts, e.g. "Alice Smith:
	// opted out of texts (replied STOP on 2026-12-02)".
	OptedOut []string
}

// teamSchedule is one team: its chain now, its timeline and its gaps.
type teamSchedule struct {
	ID, Name string
	Now      []stepRow
	Timeline Chart
	Legend   []legendItem
	Shifts   []shiftLine // the upcoming shifts, of the filter's engineer only when one is chosen
	Segments []segmentRow
	Gaps     []segmentRow
}

// stepRow is one engineer of a chain; Texts says why they get no texts,
// empty when they do.
type stepRow struct{ Name, Phone, Source, Texts string }

// segmentRow is a stretch of time with one chain.
type segmentRow struct {
	From, To string
	Chain    string // names in ring order; empty in a gap
	Override bool
}

type overrideRow struct {
	ID                           int64
	Rotation, Engineer, From, To string
	Reason, CreatedBy            string
	Active                       bool
	Overlaps                     bool // another override of the rotation covers some of its time
}

type overrideForm struct{ Rotation, Engineer, From, To, Reason string }

// handleSchedules serves /schedules.
func (s *Site) handleSchedules() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.Now()
		loc := s.loc()
		form := overrideForm{From: now.In(loc).Format(inputLayout), To: now.In(loc).Add(24 * time.Hour).Format(inputLayout)}
		s.renderSchedules(w, r, http.StatusOK, form, "")
	})
}

func (s *Site) renderSchedules(w http.ResponseWriter, r *http.Request, status int, form overrideForm, refusal string) {
	ctx := r.Context()
	now := s.Now().Truncate(time.Minute)
	loc := s.loc()
	cfg := s.Schedules.Config()
	idx, err := s.Schedules.Overrides(ctx)
	if err != nil {
		s.unavailable(w, r, "schedule", err)
		return
	}
	list, err := s.Overrides.ListOverrides(ctx)
	if err != nil {
		s.unavailable(w, r, "schedule", err)
		return
	}
	optedOut := map[string]string{}
	if s.OptOuts != nil {
		// The schedule matters more than the tags: without them the page
		// still says who is on call.
		if optedOut, err = s.OptOuts.OptedOut(ctx); err != nil {
			s.Log.Error().Err(err).Msg("schedules: read text opt-outs")
			optedOut = map[string]string{}
		}
	}
	p := schedulesPage{Page: pageOf(r, "Schedules", "schedules"), Now: now.In(loc).Format(dateTimeLayout + " MST"), Form: form}
	p.Error = refusal
	if p.Filter = r.URL.Query().Get("engineer"); p.Filter != "" {
		if e, ok := cfg.Engineer(p.Filter); ok {
			p.FilterName = e.Name
		} else {
			status, p.Error, p.Filter = http.StatusBadRequest, "There is no engineer "+strconv.Quote(p.Filter)+": every engineer's shifts are shown.", ""
		}
	}
	p.Shown = append(p.Shown, option{Value: "", Label: "Every engineer", Selected: p.Filter == ""})
	for _, e := range cfg.Engineers {
		p.Shown = append(p.Shown, option{Value: e.ID, Label: e.Name, Selected: e.ID == p.Filter})
	}
	byID := map[int64]schedules.Override{}
	for _, o := range list {
		byID[o.ID] = o
	}
	var marked map[int64]bool
	p.Overlaps, marked = overlaps(cfg, list, now, loc)
	end := now.Add(ScheduleDays * 24 * time.Hour)
	for _, t := range cfg.Teams {
		ts, err := s.teamSchedule(cfg, idx, t, now, end, p.Filter)
		if err != nil {
			s.unavailable(w, r, "schedule", err)
			return
		}
		if ts.Shifts, err = shiftLines(cfg, idx, byID, t.ID, p.Filter, loc, now, end); err != nil {
			s.unavailable(w, r, "schedule", err)
			return
		}
		for i, st := range ts.Now {
			if why, ok := optedOut[st.Phone]; ok {
				ts.Now[i].Texts = textsOff(why)
			}
		}
		p.Teams = append(p.Teams, ts)
	}
	for _, e := range cfg.Engineers {
		if why, ok := optedOut[e.Phone]; ok {
			p.OptedOut = append(p.OptedOut, e.Name+": "+textsOff(why))
		}
	}
	for _, o := range list {
		if !o.To.After(now) {
			continue // history is in the audit log
		}
		p.Overrides = append(p.Overrides, overrideRow{ID: o.ID, Rotation: o.Rotation, Engineer: engineerName(cfg, o.Engineer),
			From: o.From.In(loc).Format(dateTimeLayout), To: o.To.In(loc).Format(dateTimeLayout),
			Reason: o.Reason, CreatedBy: o.CreatedBy, Active: !o.From.After(now), Overlaps: marked[o.ID]})
	}
	for _, rot := range cfg.Rotations {
		p.Rotations = append(p.Rotations, option{Value: rot.ID, Label: rot.ID, Selected: rot.ID == form.Rotation})
	}
	for _, e := range cfg.Engineers {
		p.Engineers = append(p.Engineers, option{Value: e.ID, Label: e.Name, Selected: e.ID == form.Engineer})
	}
	if s.RotateCalendar != nil {
		for _, t := range cfg.Teams {
			p.Calendars = append(p.Calendars, option{Value: "team:" + t.ID, Label: "Team " + t.Name})
		}
		for _, e := range cfg.Engineers {
			p.Calendars = append(p.Calendars, option{Value: "engineer:" + e.ID, Label: e.Name})
		}
		p.CalendarURL = s.calendarURL(r)
	}
	s.render(w, r, status, "schedules.html", p)
}

// textsOff says that an engineer gets no texts, and why.
func textsOff(why string) string { return "opted out of texts (" + why + ")" }

// calendarCookie carries a calendar link just made from the POST that
// made it to the schedules page it redirects to, so the page shows it, and
// a reload shows it again instead of posting again (which would make
// another link and retire this one). It lives calendarLinkTTL, on
// /schedules only, never readable by script.
const (
	calendarCookie  = "hotline_calendar_link"
	calendarLinkTTL = 15 * time.Minute
)

var calendarToken = regexp.MustCompile(`^[A-Za-z0-9_-]{16,}$`)

// calendarURL is the link in the request's calendar cookie, or "" when
// there is none or it is not a feed link of this site (a cookie planted
// by someone else shows nothing).
func (s *Site) calendarURL(r *http.Request) string {
	c, err := r.Cookie(calendarCookie)
	if err != nil {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	link := string(b)
	rest, ours := strings.CutPrefix(link, strings.TrimSuffix(s.PublicURL, "/")+"/calendar/")
	token, feed := strings.CutSuffix(rest, ".ics")
	if !ours || !feed || !calendarToken.MatchString(token) {
		return ""
	}
	return link
}

// handleRotateCalendar makes a new calendar-feed link for a team or an
// engineer (the old one stops working) and redirects to the schedules
// page, which shows it for calendarLinkTTL, reloads included.
func (s *Site) handleRotateCalendar() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, id, ok := strings.Cut(r.PostFormValue("feed"), ":")
		cfg := s.Schedules.Config()
		_, team := cfg.Team(id)
		_, eng := cfg.Engineer(id)
		if s.RotateCalendar == nil || !ok || !(kind == "team" && team || kind == "engineer" && eng) {
			s.renderSchedules(w, r, http.StatusBadRequest, overrideForm{}, "Choose a team or an engineer for the calendar link.")
			return
		}
		link, err := s.RotateCalendar(r.Context(), kind, id, actorOf(r))
		if err != nil {
			s.unavailable(w, r, "calendar", err)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: calendarCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(link)), Path: "/schedules",
			MaxAge: int(calendarLinkTTL.Seconds()), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
		})
		seeOther(w, r, "/schedules#calendar")
	})
}

// teamSchedule resolves a team's chain over [from, to) once per stretch in
// which no rotation, window or override of the team changes its answer.
// When mine names an engineer, the stretches in which someone else is rung
// first are drawn grey, so theirs stand out.
func (s *Site) teamSchedule(cfg *config.Config, idx *schedules.OverrideIndex, t config.Team, from, to time.Time, mine string) (teamSchedule, error) {
	loc := s.loc()
	ts := teamSchedule{ID: t.ID, Name: t.Name}
	chain, err := routing.ResolveChain(cfg, idx, t.ID, from)
	if err != nil {
		return ts, err
	}
	for _, st := range chain {
		ts.Now = append(ts.Now, stepRow{Name: st.Name, Phone: st.Phone, Source: st.Source})
	}
	segs, err := routing.Segments(cfg, idx, t.ID, from, to)
	if err != nil {
		return ts, err
	}
	// The timeline colours each stretch by who is rung first.
	const w, h, left = 900.0, 58.0, 0.0
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return left + (w-left)*t.Sub(from).Seconds()/span }
	ts.Timeline = Chart{Title: "On call for " + t.Name + " over the next 14 days", W: w, H: h}
	colour := map[string]int{}
	var outlined, gap bool
	for _, sg := range segs {
		row := segmentRow{From: sg.From.In(loc).Format("Mon 2 Jan 15:04"), To: sg.To.In(loc).Format("Mon 2 Jan 15:04")}
		var names []string
		for _, st := range sg.Chain {
			names = append(names, st.Name)
			row.Override = row.Override || strings.HasPrefix(st.Source, "override:")
		}
		row.Chain = strings.Join(names, " → ")
		class, label, textClass := "gap", "nobody", ""
		if len(sg.Chain) > 0 {
			first := sg.Chain[0].Engineer
			if _, ok := colour[first]; !ok {
				colour[first] = len(colour) % 6
				if mine == "" || first == mine {
					ts.Legend = append(ts.Legend, legendItem{Class: fmt.Sprintf("p%d", colour[first]), Label: sg.Chain[0].Name})
				}
			}
			class, label = fmt.Sprintf("p%d", colour[first]), sg.Chain[0].Name
			if mine != "" && first != mine {
				class, textClass = "other", "other"
			}
			if strings.HasPrefix(sg.Chain[0].Source, "override:") {
				class += " override"
				outlined = true
			}
		} else {
			gap = true
		}
		tip := row.From + " – " + row.To + ": " + label
		ts.Timeline.Bars = append(ts.Timeline.Bars, Rect{X: x(sg.From), Y: 4, W: x(sg.To) - x(sg.From), H: 30, Class: class, Tip: tip})
		// A label gets about 10 units a character, its width at the
		// enlarged size of a phone's layout (web/static/site.css); a
		// stretch too narrow for one is in the legend and the list.
		if x(sg.To)-x(sg.From) > 60 {
			ts.Timeline.Labels = append(ts.Timeline.Labels, Text{X: x(sg.From) + 4, Y: 24, Anchor: "start", Text: clip(label, int((x(sg.To)-x(sg.From))/10)), Class: textClass})
		}
		ts.Segments = append(ts.Segments, row)
	}
	if mine != "" {
		ts.Legend = append(ts.Legend, legendItem{Class: "other", Label: "someone else"})
	}
	if outlined {
		ts.Legend = append(ts.Legend, legendItem{Class: "override", Label: "outlined: an override"})
	}
	if gap {
		ts.Legend = append(ts.Legend, legendItem{Class: "gap", Label: "nobody (gap)"})
	}
	for d := 0; d <= ScheduleDays; d++ {
		day := from.In(loc)
		mid := time.Date(day.Year(), day.Month(), day.Day()+d, 0, 0, 0, 0, loc)
		if mid.Before(from) || !mid.Before(to) {
			continue
		}
		ts.Timeline.Lines = append(ts.Timeline.Lines, Line{X1: x(mid), Y1: 0, X2: x(mid), Y2: 40})
		// A day's label is centred on its midnight, so none is drawn
		// where half of it would fall off the timeline's ends.
		if (d%2 == 1 || ScheduleDays <= 7) && x(mid) > 32 && x(mid) < w-32 {
			ts.Timeline.Labels = append(ts.Timeline.Labels, Text{X: x(mid), Y: 54, Anchor: "middle", Text: mid.Format("Mon 2")})
		}
	}
	gaps, err := routing.Gaps(cfg, idx, t.ID, from, to)
	if err != nil {
		return ts, err
	}
	for _, g := range gaps {
		ts.Gaps = append(ts.Gaps, segmentRow{From: g.From.In(loc).Format("Mon 2 Jan 15:04"), To: g.To.In(loc).Format("Mon 2 Jan 15:04")})
	}
	return ts, nil
}

// handleAddOverride adds an override from the form (audited by the store).
// Control characters and bytes that are not UTF-8 in the reason are
// replaced (cleanInput), as in a note.
func (s *Site) handleAddOverride() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.loc()
		form := overrideForm{Rotation: r.PostFormValue("rotation"), Engineer: r.PostFormValue("engineer"),
			From: r.PostFormValue("from"), To: r.PostFormValue("to"), Reason: cleanInput(strings.TrimSpace(r.PostFormValue("reason")))}
		o := schedules.Override{Rotation: form.Rotation, Engineer: form.Engineer, Reason: form.Reason, CreatedBy: actorOf(r)}
		var err error
		if o.From, err = parseWhen(form.From, loc, false); err != nil {
			s.renderSchedules(w, r, http.StatusBadRequest, form, "From: "+err.Error())
			return
		}
		if o.To, err = parseWhen(form.To, loc, false); err != nil {
			s.renderSchedules(w, r, http.StatusBadRequest, form, "To: "+err.Error())
			return
		}
		_, err = s.Overrides.AddOverride(r.Context(), o, s.Schedules.Config())
		if msg, invalid := problem.Of(err, problem.Invalid); invalid {
			s.renderSchedules(w, r, http.StatusBadRequest, form, "The override was not added: "+msg)
			return
		}
		if err != nil {
			s.unavailable(w, r, "schedule", err)
			return
		}
		seeOther(w, r, "/schedules")
	})
}

// handleRemoveOverride removes an override (audited by the store).
func (s *Site) handleRemoveOverride() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.Overrides.RemoveOverride(r.Context(), pathID(r), actorOf(r))
		if errors.Is(err, schedules.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "That override does not exist (any more).")
			return
		}
		if err != nil {
			s.unavailable(w, r, "schedule", err)
			return
		}
		seeOther(w, r, "/schedules")
	})
}
