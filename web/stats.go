package web

import (
	"net/http"
	"time"

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
	Median                                                            string
}

func engineerRowOf(name string, e incident.EngineerTally) engineerRow {
	r := engineerRow{Name: name, Rung: e.Rung, Accepted: e.Accepted, Declined: e.Declined, NoKey: e.NoKey,
		NoAnswer: e.NoAnswer, Busy: e.Busy, Failed: e.Failed, Answered: e.Answered, AcceptRate: e.AcceptRate(), Median: "–"}
	if e.Answered > 0 {
		r.Median = formatDuration(e.MedianToAnswer)
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

// handleStats serves /stats?from=&to= (dates, to inclusive; the last 30
// days by default).
func (s *Site) handleStats() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.loc()
		cfg := s.Schedules.Config()
		p := statsPage{Page: pageOf(r, "Stats", "stats"), From: r.FormValue("from"), To: r.FormValue("to")}
		today := s.Now().In(loc)
		to := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
		from := to.AddDate(0, 0, -30)
		var err error
		if p.To != "" {
			if to, err = parseWhen(p.To, loc, true); err != nil {
				p.Error = "To: " + err.Error()
			}
		}
		if p.From != "" {
			if from, err = parseWhen(p.From, loc, false); err != nil {
				p.Error = "From: " + err.Error()
			}
		}
		switch {
		case p.Error != "":
		case !to.After(from):
			p.Error = "The range is empty: To must be after From."
		case to.Sub(from) > MaxStatsDays*24*time.Hour:
			p.Error = "Pick a range of at most 400 days."
		}
		if p.From == "" {
			p.From = from.Format(dateLayout)
		}
		if p.To == "" {
			p.To = to.AddDate(0, 0, -1).Format(dateLayout)
		}
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
			p.Teams = append(p.Teams, rowOf(teamName(cfg, g.Key), g.Tally))
			names, calls = append(names, teamName(cfg, g.Key)), append(calls, g.Calls)
		}
		p.TeamChart = hbars("Calls per team", names, calls, "answered")
		for _, g := range st.Options {
			name := "No choice"
			if g.Key != "" {
				name = "Option " + g.Key
				if o, ok := cfg.Option(g.Key); ok {
					name += ": " + o.Label
				}
			}
			p.Options = append(p.Options, rowOf(name, g.Tally))
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
