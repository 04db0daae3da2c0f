package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/problem"
	"github.com/hotline-dev/hotline/revisions"
	"github.com/hotline-dev/hotline/routing"
)

// ConfigHistory is the history of the configs served (revisions.Store).
type ConfigHistory interface {
	List(ctx context.Context) ([]revisions.Revision, error)
	Text(ctx context.Context, revision string) ([]byte, error)
}

// RevisionCalls counts the calls each revision routed
// (incident.Incidents).
type RevisionCalls interface {
	CallsByRevision(ctx context.Context, revisions []string) (map[string]int64, error)
}

// ConfigRows is how many of the newest revisions /config shows, each with
// its diff.
const ConfigRows = 50

// DiffDays is the span a revision's diff looks at: that many days from
// when the newer of the two revisions first went live, as `hotline diff
// OLD NEW --at <then> --days 14` does.
const DiffDays = 14

// configPage is /config (the list), /config/{revision} (one, with its
// file) and /config/compare (any two).
type configPage struct {
	Page
	Revisions []revisionRow
	Limit     int
	All       []revisionRow // every revision, for the comparison form
	One       *revisionRow
	Text      string // One's file
	Compare   *diffView
	From, To  string // the comparison form's choice
}

// revisionRow is one revision with when it was live, its calls and its
// diff against the one before it.
type revisionRow struct {
	Revision, Short, Link string
	FirstLive, LastLive   string
	Live                  bool
	Calls                 int64
	Instances             []instanceRow
	Diff                  *diffView // nil for the first revision
	firstLive             time.Time
}

type instanceRow struct {
	Name, FirstLive, LastLive string
	Live                      bool
}

// diffView is routing's Diff of two revisions as the page shows it: the
// lines of `hotline diff`, and the command that prints them.
type diffView struct {
	From, To   string // short revisions
	FromLink   string
	Blocks     []routing.Block
	NoChange   string // set when nothing changes for callers or engineers
	At         string // RFC 3339: the start of the span
	Days       int
	Unreadable string // why the diff could not be made
}

// handleConfig serves /config: the newest revisions first, each with its
// diff against the one before.
func (s *Site) handleConfig() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, ok := s.revisionRows(w, r)
		if !ok {
			return
		}
		p := configPage{Page: pageOf(r, "Config", "config"), Limit: ConfigRows, All: all}
		texts := map[string][]byte{}
		for i := range all[:min(len(all), ConfigRows)] {
			if i+1 < len(all) {
				all[i].Diff = s.revisionDiff(r.Context(), texts, all[i+1], all[i])
			}
			p.Revisions = append(p.Revisions, all[i])
		}
		if len(all) > 0 {
			p.From, p.To = all[min(1, len(all)-1)].Revision, all[0].Revision
		}
		s.render(w, r, http.StatusOK, "config.html", p)
	})
}

// handleConfigRevision serves /config/{revision}: one revision, its diff
// against the one before, and its file.
func (s *Site) handleConfigRevision() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, ok := s.revisionRows(w, r)
		if !ok {
			return
		}
		want := mux.Vars(r)["revision"]
		for i := range all {
			if all[i].Revision != want {
				continue
			}
			texts := map[string][]byte{}
			if i+1 < len(all) {
				all[i].Diff = s.revisionDiff(r.Context(), texts, all[i+1], all[i])
			}
			text, err := s.revisionText(r.Context(), texts, want)
			if err != nil {
				s.unavailable(w, r, "config history", err)
				return
			}
			p := configPage{Page: pageOf(r, "Config "+all[i].Short, "config"), One: &all[i], Text: shownText(string(text)), All: all}
			p.From, p.To = all[min(i+1, len(all)-1)].Revision, want
			s.render(w, r, http.StatusOK, "config.html", p)
			return
		}
		s.fail(w, r, http.StatusNotFound, "No config revision "+short(want)+" is recorded: hotline records each config it serves from its start or reload on.")
	})
}

// handleConfigCompare serves /config/compare?from=&to=: the diff of any two
// revisions, as if to replaced from.
func (s *Site) handleConfigCompare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, ok := s.revisionRows(w, r)
		if !ok {
			return
		}
		from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
		var a, b *revisionRow
		for i := range all {
			if all[i].Revision == from {
				a = &all[i]
			}
			if all[i].Revision == to {
				b = &all[i]
			}
		}
		if a == nil || b == nil {
			s.fail(w, r, http.StatusNotFound, "Choose two recorded revisions to compare (from and to).")
			return
		}
		p := configPage{Page: pageOf(r, "Config "+a.Short+" → "+b.Short, "config"), All: all, From: from, To: to,
			Compare: s.revisionDiff(r.Context(), map[string][]byte{}, *a, *b)}
		s.render(w, r, http.StatusOK, "config.html", p)
	})
}

// revisionRows reads every revision with its calls, newest first; on
// failure it has answered.
func (s *Site) revisionRows(w http.ResponseWriter, r *http.Request) ([]revisionRow, bool) {
	if s.Configs == nil {
		s.fail(w, r, http.StatusNotFound, "This server keeps no config history.")
		return nil, false
	}
	list, err := s.Configs.List(r.Context())
	if err != nil {
		s.unavailable(w, r, "config history", err)
		return nil, false
	}
	calls := map[string]int64{}
	if s.ConfigCalls != nil && len(list) > 0 {
		revs := make([]string, len(list))
		for i, rv := range list {
			revs[i] = rv.Revision
		}
		if calls, err = s.ConfigCalls.CallsByRevision(r.Context(), revs); err != nil {
			s.unavailable(w, r, "config history", err)
			return nil, false
		}
	}
	loc := s.loc()
	out := make([]revisionRow, len(list))
	for i, rv := range list {
		row := revisionRow{Revision: rv.Revision, Short: short(rv.Revision), Link: "/config/" + rv.Revision,
			FirstLive: rv.FirstLive.In(loc).Format(dateTimeLayout), LastLive: rv.LastLive.In(loc).Format(dateTimeLayout),
			Live: rv.Live, Calls: calls[rv.Revision], firstLive: rv.FirstLive}
		for _, in := range rv.Instances {
			row.Instances = append(row.Instances, instanceRow{Name: in.Name, Live: in.Live,
				FirstLive: in.FirstLive.In(loc).Format(dateTimeLayout), LastLive: in.LastLive.In(loc).Format(dateTimeLayout)})
		}
		out[i] = row
	}
	return out, true
}

// revisionDiff is what changed when revision b replaced a, over DiffDays
// from when the later of the two first went live (to the minute).
func (s *Site) revisionDiff(ctx context.Context, texts map[string][]byte, a, b revisionRow) *diffView {
	v := &diffView{From: a.Short, To: b.Short, FromLink: a.Link, Days: DiffDays}
	old, err := s.revisionConfig(ctx, texts, a.Revision)
	if err == nil {
		var cur *config.Config
		if cur, err = s.revisionConfig(ctx, texts, b.Revision); err == nil {
			start := laterStart(a, b)
			v.At = start.Format(time.RFC3339)
			var d routing.Diff
			if d, err = routing.DiffConfigs(old, cur, start, start.AddDate(0, 0, DiffDays)); err == nil {
				v.Blocks = d.Blocks()
				if d.Empty() {
					v.NoChange = routing.NoChange
				}
				return v
			}
		}
	}
	s.Log.Warn().Err(err).Str("from", a.Short).Str("to", b.Short).Msg("web: config diff")
	if msg, ok := problem.Of(err, problem.NotFound); ok {
		v.Unreadable = msg
	} else {
		v.Unreadable = "the diff could not be made: " + err.Error()
	}
	return v
}

// laterStart is the later of two revisions' first times live, to the
// minute: the moment both had been served.
func laterStart(a, b revisionRow) time.Time {
	t := a.firstLive
	if b.firstLive.After(t) {
		t = b.firstLive
	}
	return t.Truncate(time.Minute).UTC()
}

func (s *Site) revisionText(ctx context.Context, texts map[string][]byte, revision string) ([]byte, error) {
	if t, ok := texts[revision]; ok {
		return t, nil
	}
	t, err := s.Configs.Text(ctx, revision)
	if err == nil {
		texts[revision] = t
	}
	return t, err
}

// revisionConfig parses a stored revision's file, named by its short
// revision in any error (an old file a newer hotline refuses).
func (s *Site) revisionConfig(ctx context.Context, texts map[string][]byte, revision string) (*config.Config, error) {
	text, err := s.revisionText(ctx, texts, revision)
	if err != nil {
		return nil, err
	}
	return config.ParseConfig("revision "+short(revision), text)
}

// revisionJSON is one revision in GET /api/v1/config/revisions.
type revisionJSON struct {
	Revision  string    `json:"revision"`
	FirstLive time.Time `json:"first_live"`
	LastLive  time.Time `json:"last_live"`
	Calls     int64     `json:"calls"`
}

// HandleAPIRevisions serves GET /api/v1/config/revisions: every revision
// served, newest first, with when it was live and the calls it routed.
func HandleAPIRevisions(history ConfigHistory, calls RevisionCalls, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := history.List(r.Context())
		revs := make([]string, len(list))
		for i, rv := range list {
			revs[i] = rv.Revision
		}
		var n map[string]int64
		if err == nil {
			n, err = calls.CallsByRevision(r.Context(), revs)
		}
		if err != nil {
			log.Error().Err(err).Msg("api config revisions")
			writeJSONError(w, http.StatusServiceUnavailable, "the config history is unavailable")
			return
		}
		out := struct {
			Revisions []revisionJSON `json:"revisions"`
		}{Revisions: []revisionJSON{}}
		for _, rv := range list {
			out.Revisions = append(out.Revisions, revisionJSON{Revision: rv.Revision, FirstLive: rv.FirstLive, LastLive: rv.LastLive, Calls: n[rv.Revision]})
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func short(revision string) string {
	if len(revision) > 12 {
		return revision[:12]
	}
	return revision
}
