package web

import (
	"net/http"
	"time"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// MaxStatsDays is the longest range the stats page computes at once.
const MaxStatsDays = 400

// statsPage is the reporting page.
type statsPage struct {
	Page
	From, To  string // the form's dates
	Range     string // the range in words
	Total     tallyRow
	PerDay    Chart
	Teams     []tallyRow
	Options   []tallyRow
	Engineers []engineerRow
	TeamChart Chart
	EngChart  Chart
}

// tallyRow is one line of a stats table.
type tallyRow struct {
	Name                                          string
	Calls, Answered, Voicemail, Missed, Abandoned int
	AnswerRate                                    float64
	Median, P90                                   string
}

// engineerRow is one engineer's line: their rings and how each ended, and
// the calls they took.
type engineerRow struct {
	Name                                                              string
	Rung, Accepted, Declined, NoKey, NoAnswer, Busy, Failed, Answered int
	AcceptRate                                                        float64
	Median, MedianToAccept                                            string
}

func engineerRowOf(name string, e incident.EngineerTally) engineerRow {
	r := engineerRow{Name: name, Rung: e.Rung, Accepted: e.Accepted, Declined: e.Declined, NoKey: e.NoKey,
		NoAnswer: e.NoAnswer, Busy: e.Busy, Failed: e.Failed, Answered: e.Answered, AcceptRate: e.AcceptRate(), Median: "–", MedianToAccept: "–"}
	if e.Answered > 0 {
		r.Median = formatDuration(e.MedianToAnswer)
	}
	if e.Accepted > 0 {
		r.MedianToAccept = formatDuration(e.MedianToAccept)
	}
	return r
}

func rowOf(name string, t incident.Tally) tallyRow {
	r := tallyRow{Name: name, Calls: t.Calls, Answered: t.Answered, Voicemail: t.Voicemail, Missed: t.Missed,
		Abandoned: t.Abandoned, AnswerRate: t.AnswerRate(), Median: "–", P90: "–"}
	if t.Answered > 0 {
		r.Median, r.P90 = formatDuration(t.MedianToAnswer), formatDuration(t.P90ToAnswer)
	}
	return r
}

// statsRange reads the from= and to= of /stats and /api/v1/stats: dates in
// the site's zone, to inclusive; the last 30 days by default. refused says
// why a range cannot be shown; fromText and toText are the form's values.
func (s *Site) statsRange(r *http.Request) (from, to time.Time, fromText, toText, refused string) {
	loc := s.loc()
	fromText, toText = r.FormValue("from"), r.FormValue("to")
	today := s.Now().In(loc)
	to = time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
	from = to.AddDate(0, 0, -30)
	var err error
	if toText != "" {
		if to, err = parseWhen(toText, loc, true); err != nil {
			refused = "To: " + err.Error()
		}
	}
	if fromText != "" && refused == "" {
		if from, err = parseWhen(fromText, loc, false); err != nil {
			refused = "From: " + err.Error()
		}
	}
	switch {
	case refused != "":
	case !to.After(from):
		refused = "The range is empty: To must be after From."
	case to.After(from.AddDate(0, 0, MaxStatsDays)): // days, not hours: a DST change is no longer range
		refused = "Pick a range of at most 400 days."
	}
	if fromText == "" {
		fromText = from.Format(dateLayout)
	}
	if toText == "" {
		toText = to.AddDate(0, 0, -1).Format(dateLayout)
	}
	return from, to, fromText, toText, refused
}

// hungUpInMenu names the calls that ended before a team was chosen, in the
// per-team and per-option tables.
const hungUpInMenu = "Hung up in the menu"

// teamLabel is a stats row's team name.
func teamLabel(cfg *config.Config, team string) string {
	if team == "" {
		return hungUpInMenu
	}
	return teamName(cfg, team)
}

// optionLabel is a stats row's menu option: "Option 1: a production outage".
func optionLabel(cfg *config.Config, digit string) string {
	if digit == "" {
		return hungUpInMenu
	}
	name := "Option " + digit
	if o, ok := cfg.Option(digit); ok {
		name += ": " + o.Label
	}
	return name
}

// handleStats serves /stats?from=&to=.
func (s *Site) handleStats() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.loc()
		cfg := s.Schedules.Config()
		p := statsPage{Page: pageOf(r, "Stats", "stats")}
		var from, to time.Time
		from, to, p.From, p.To, p.Error = s.statsRange(r)
		if p.Error != "" {
			s.render(w, r, http.StatusBadRequest, "stats.html", p)
			return
		}
		st, err := s.Incidents.Stats(r.Context(), from, to, loc)
		if err != nil {
			s.unavailable(w, r, "stats page", err)
			return
		}
		p.Range = from.Format("2 Jan 2006") + " to " + to.Add(-time.Nanosecond).Format("2 Jan 2006")
		p.Total = rowOf("All calls", st.Total)
		var labels []string
		series := []Series{{Class: "answered", Name: "answered"}, {Class: "voicemail", Name: "voicemail"},
			{Class: "missed", Name: "missed"}, {Class: "abandoned", Name: "abandoned"}, {Class: "in_progress", Name: "in progress"}}
		for _, d := range st.Days {
			labels = append(labels, d.Day.Format("Jan 2"))
			for i, v := range []int{d.Answered, d.Voicemail, d.Missed, d.Abandoned, d.InProgress} {
				series[i].Values = append(series[i].Values, v)
			}
		}
		p.PerDay = stackedBars("Calls per day by outcome", labels, series)
		var names []string
		var calls []int
		for _, g := range st.Teams {
			p.Teams = append(p.Teams, rowOf(teamLabel(cfg, g.Key), g.Tally))
			names, calls = append(names, teamLabel(cfg, g.Key)), append(calls, g.Calls)
		}
		p.TeamChart = hbars("Calls per team", names, calls, "answered")
		for _, g := range st.Options {
			p.Options = append(p.Options, rowOf(optionLabel(cfg, g.Key), g.Tally))
		}
		names, calls = nil, nil
		for _, g := range st.Engineers {
			p.Engineers = append(p.Engineers, engineerRowOf(engineerName(cfg, g.Key), g))
			names, calls = append(names, engineerName(cfg, g.Key)), append(calls, g.Answered)
		}
		p.EngChart = hbars("Calls answered per engineer", names, calls, "answered")
		s.render(w, r, http.StatusOK, "stats.html", p)
	})
}
