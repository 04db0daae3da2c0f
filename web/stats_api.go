package web

import (
	"net/http"
	"time"

	"github.com/hotline-dev/hotline/incident"
)

// statsJSON is GET /api/v1/stats: the figures /stats shows.
type statsJSON struct {
	From      string         `json:"from"` // first day, YYYY-MM-DD
	To        string         `json:"to"`   // last day, inclusive
	Timezone  string         `json:"timezone"`
	Total     tallyJSON      `json:"total"`
	Days      []dayJSON      `json:"days"`
	Teams     []teamJSON     `json:"teams"`
	Options   []optionJSON   `json:"options"`
	Engineers []engineerJSON `json:"engineers"`
}

// tallyJSON is one row's counts; durations are seconds, null when no call
// was answered.
type tallyJSON struct {
	Calls          int      `json:"calls"`
	Answered       int      `json:"answered"`
	Voicemail      int      `json:"voicemail"`
	Missed         int      `json:"missed"`
	Abandoned      int      `json:"abandoned"`
	InProgress     int      `json:"in_progress"`
	AnswerRate     float64  `json:"answer_rate"`
	MedianToAnswer *float64 `json:"median_to_answer_s"`
	P90ToAnswer    *float64 `json:"p90_to_answer_s"`
}

type dayJSON struct {
	Day string `json:"day"`
	tallyJSON
}

// teamJSON is a team's row; team "" is the calls that hung up in the menu.
type teamJSON struct {
	Team string `json:"team"`
	Name string `json:"name"`
	tallyJSON
}

// optionJSON is a menu option's row; digit "" is the calls that hung up in
// the menu.
type optionJSON struct {
	Digit string `json:"digit"`
	Name  string `json:"name"`
	tallyJSON
}

type engineerJSON struct {
	Engineer       string   `json:"engineer"`
	Name           string   `json:"name"`
	Rung           int      `json:"rung"`
	Accepted       int      `json:"accepted"`
	Declined       int      `json:"declined"`
	NoKey          int      `json:"no_key"`
	NoAnswer       int      `json:"no_answer"`
	Busy           int      `json:"busy"`
	Failed         int      `json:"failed"`
	AcceptanceRate float64  `json:"acceptance_rate"`
	MedianToAccept *float64 `json:"median_to_accept_s"`
	// Answered is the calls they took, and the callers' wait for them.
	Answered       int      `json:"answered"`
	MedianToAnswer *float64 `json:"median_to_answer_s"`
}

func seconds(d time.Duration, any int) *float64 {
	if any == 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

func tallyOf(t incident.Tally) tallyJSON {
	return tallyJSON{Calls: t.Calls, Answered: t.Answered, Voicemail: t.Voicemail, Missed: t.Missed, Abandoned: t.Abandoned,
		InProgress: t.InProgress, AnswerRate: t.AnswerRate(),
		MedianToAnswer: seconds(t.MedianToAnswer, t.Answered), P90ToAnswer: seconds(t.P90ToAnswer, t.Answered)}
}

// HandleAPIStats serves GET /api/v1/stats?from=&to=: the stats page's
// figures as JSON, for the same range (dates in hotline.timezone, to
// inclusive, the last 30 days by default); a range the page refuses is a
// 400 saying why.
func (s *Site) HandleAPIStats() http.Handler {
	return timed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.loc()
		cfg := s.Schedules.Config()
		from, to, _, _, refused := s.statsRange(r)
		if refused != "" {
			writeJSONError(w, http.StatusBadRequest, refused)
			return
		}
		st, err := s.Incidents.Stats(r.Context(), from, to, loc)
		if err != nil {
			s.Log.Error().Err(err).Msg("api stats")
			writeJSONError(w, http.StatusServiceUnavailable, "the stats are unavailable")
			return
		}
		out := statsJSON{From: from.Format(dateLayout), To: to.AddDate(0, 0, -1).Format(dateLayout), Timezone: loc.String(),
			Total: tallyOf(st.Total), Days: []dayJSON{}, Teams: []teamJSON{}, Options: []optionJSON{}, Engineers: []engineerJSON{}}
		for _, d := range st.Days {
			out.Days = append(out.Days, dayJSON{Day: d.Day.Format(dateLayout), tallyJSON: tallyOf(d.Tally)})
		}
		for _, g := range st.Teams {
			out.Teams = append(out.Teams, teamJSON{Team: g.Key, Name: teamLabel(cfg, g.Key), tallyJSON: tallyOf(g.Tally)})
		}
		for _, g := range st.Options {
			out.Options = append(out.Options, optionJSON{Digit: g.Key, Name: optionLabel(cfg, g.Key), tallyJSON: tallyOf(g.Tally)})
		}
		for _, e := range st.Engineers {
			out.Engineers = append(out.Engineers, engineerJSON{Engineer: e.Key, Name: engineerName(cfg, e.Key),
				Rung: e.Rung, Accepted: e.Accepted, Declined: e.Declined, NoKey: e.NoKey, NoAnswer: e.NoAnswer, Busy: e.Busy,
				Failed: e.Failed, AcceptanceRate: e.AcceptRate(), MedianToAccept: seconds(e.MedianToAccept, e.Accepted),
				Answered: e.Answered, MedianToAnswer: seconds(e.MedianToAnswer, e.Answered)})
		}
		serverTiming(w, r)
		writeJSON(w, http.StatusOK, out)
	}))
}
