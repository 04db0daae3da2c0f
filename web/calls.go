package web

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// PageSize is the number of calls on one page of the call log.
const PageSize = 50

// callsPage is the call log.
type callsPage struct {
	Page
	Form      callForm
	Teams     []option
	Statuses  []option
	States    []option
	Customers []option // empty when the config has no customers
	Calls     []callRow
	// Count says how many calls match the filters: "1,234 calls", or
	// "more than 10,000 calls" past CountBound.
	Count  string
	Older  string // link to the next (older) page; empty on the last
	Newer  string // link to the page before (newer); empty on the first
	Newest string // link back to the first page; empty on it
	CSV    string
}

// CountBound is how far the call log counts the calls that match: past it,
// the page says "more than 10,000 calls". Counting reads one index entry
// per call, so an exact count of a million would cost about a second.
const CountBound = 10000

// callForm is the filter form as the user typed it.
type callForm struct{ From, To, Team, Status, State, Caller, Customer, Q string }

// Active reports whether any filter is set.
func (f callForm) Active() bool { return f != callForm{} }

type option struct {
	Value, Label string
	Selected     bool
}

// callRow is one call as the log shows it.
type callRow struct {
	ID                                   int64
	Link                                 string
	Time, CallerName, CallerNumber, Team string
	Customer                             string // the customer's name, when identified
	Status, StatusLabel, AnsweredBy      string
	ToAnswer, Duration                   string
	HasNote                              bool
	// State is open, acknowledged or resolved; Owner who acknowledged or
	// resolved it ("" while open).
	State, Owner string
}

// parseCallFilter reads the call log's query parameters (README "Web page":
// from, to, team, status, state, caller, q).
func (s *Site) parseCallFilter(q url.Values) (incident.Filter, callForm, string) {
	cfg := s.Schedules.Config()
	loc := s.loc()
	form := callForm{From: q.Get("from"), To: q.Get("to"), Team: q.Get("team"), Status: q.Get("status"), State: q.Get("state"),
		Caller: strings.TrimSpace(q.Get("caller")), Customer: q.Get("customer"), Q: strings.TrimSpace(q.Get("q"))}
	f := incident.Filter{Team: form.Team, Status: form.Status, State: form.State, Caller: form.Caller, Customer: form.Customer, Q: form.Q}
	var problems []string
	var err error
	if !slices.Contains([]string{"", incident.StateOpen, incident.StateAcknowledged, incident.StateResolved}, form.State) {
		problems = append(problems, "State: open, acknowledged or resolved.")
		form.State, f.State = "", ""
	}
	if form.From != "" {
		if f.From, err = parseWhen(form.From, loc, false); err != nil {
			problems = append(problems, "From: "+err.Error())
		}
	}
	if form.To != "" {
		if f.To, err = parseWhen(form.To, loc, true); err != nil {
			problems = append(problems, "To: "+err.Error())
		}
	}
	if form.Status != "" && statusLabel(form.Status) == form.Status {
		problems = append(problems, "Status: no status "+strconv.Quote(form.Status))
	}
	if f.Q != "" {
		lq := strings.ToLower(f.Q)
		for _, e := range cfg.Engineers {
			if strings.Contains(strings.ToLower(e.Name), lq) || strings.Contains(strings.ToLower(e.ID), lq) {
				f.QEngineers = append(f.QEngineers, e.ID)
			}
		}
	}
	return f, form, strings.Join(problems, " ")
}

// handleCalls serves / : the call log, newest first, 50 a page, with the
// filters as query parameters, keyset paging both ways ("before" for older
// calls, "after" for newer ones) and the number of calls that match.
func (s *Site) handleCalls() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cfg := s.Schedules.Config()
		f, form, problem := s.parseCallFilter(q)
		p := callsPage{Page: pageOf(r, "Calls", "calls"), Form: form}
		for _, t := range cfg.Teams {
			p.Teams = append(p.Teams, option{Value: t.ID, Label: t.Name, Selected: t.ID == form.Team})
		}
		for _, st := range statusLabels {
			p.Statuses = append(p.Statuses, option{Value: st.Value, Label: st.Label, Selected: st.Value == form.Status})
		}
		for _, st := range []string{incident.StateOpen, incident.StateAcknowledged, incident.StateResolved} {
			p.States = append(p.States, option{Value: st, Label: st, Selected: st == form.State})
		}
		for _, cu := range cfg.Customers {
			p.Customers = append(p.Customers, option{Value: cu.ID, Label: cu.Name, Selected: cu.ID == form.Customer})
		}
		filters := url.Values{"from": {form.From}, "to": {form.To}, "team": {form.Team}, "status": {form.Status}, "state": {form.State},
			"caller": {form.Caller}, "customer": {form.Customer}, "q": {form.Q}}
		p.CSV = withQuery("/calls.csv", filters)
		if problem != "" {
			p.Error = problem
			s.render(w, r, http.StatusBadRequest, "calls.html", p)
			return
		}
		list, err := s.callsPageRows(r, &p, f, filters)
		if err != nil {
			s.unavailable(w, r, "call log", err)
			return
		}
		if p.Newest == "" && p.Older == "" {
			// The only page: it holds every match, and counting them again
			// would read as many rows as it did.
			p.Count = callCount(len(list), true)
		} else {
			n, exact, err := s.Incidents.CountMatching(r.Context(), f, CountBound)
			if err != nil {
				s.unavailable(w, r, "call log", err)
				return
			}
			p.Count = callCount(n, exact)
		}
		loc := s.loc()
		for _, in := range list {
			p.Calls = append(p.Calls, s.callRow(cfg, loc, in))
		}
		s.render(w, r, http.StatusOK, "calls.html", p)
	})
}

// callsPageRows reads the page of calls the request's cursor names (none:
// the newest; before=: the page below; after=: the page above) and sets
// the page's links to its neighbours.
func (s *Site) callsPageRows(r *http.Request, p *callsPage, f incident.Filter, filters url.Values) ([]incident.Incident, error) {
	q := r.URL.Query()
	link := func(key string, in incident.Incident) string {
		v := url.Values{}
		for k, vs := range filters {
			v[k] = vs
		}
		v.Set(key, incident.CursorOf(in).String())
		return withQuery("/", v)
	}
	cursor := func(key string) *incident.Cursor {
		b := q.Get(key)
		if b == "" {
			return nil
		}
		c, err := incident.ParseCursor(b)
		if err != nil {
			p.Error = "The page link is damaged; showing the newest calls."
			return nil
		}
		return &c
	}
	f.Limit = PageSize + 1
	if f.After = cursor("after"); f.After != nil {
		list, err := s.Incidents.FindIncidents(r.Context(), f)
		if err != nil {
			return nil, err
		}
		if len(list) > PageSize {
			// The extra row is the newest: there is a page above this one.
			list = list[1:]
			p.Newer, p.Older, p.Newest = link("after", list[0]), link("before", list[len(list)-1]), withQuery("/", filters)
			return list, nil
		}
		// Fewer than a page above the cursor: the newest page it is.
		f.After = nil
	} else if f.Before = cursor("before"); f.Before != nil {
		p.Newest = withQuery("/", filters)
	}
	list, err := s.Incidents.FindIncidents(r.Context(), f)
	if err != nil {
		return nil, err
	}
	if len(list) > PageSize {
		list = list[:PageSize]
		p.Older = link("before", list[len(list)-1])
	}
	if f.Before != nil && len(list) > 0 {
		p.Newer = link("after", list[0])
	}
	return list, nil
}

// callCount is how many calls match, in words (see
// incident.Incidents.CountMatching for when it is not exact).
func callCount(n int, exact bool) string {
	switch {
	case !exact && n > CountBound:
		return "More than " + thousands(CountBound) + " calls"
	case !exact:
		return "At least " + thousands(n) + " calls"
	case n == 1:
		return "1 call"
	}
	return thousands(n) + " calls"
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (s *Site) callRow(cfg *config.Config, loc *time.Location, in incident.Incident) callRow {
	row := callRow{
		ID: in.ID, Link: "/incidents/" + strconv.FormatInt(in.ID, 10),
		Time: in.StartedAt.In(loc).Format(dateTimeLayout), CallerName: shownText(in.CallerName), CallerNumber: shownText(in.From),
		Team: teamName(cfg, in.Team), Status: in.Status, StatusLabel: statusLabel(in.Status), HasNote: in.Note != "",
		State: in.State,
	}
	switch {
	case in.State == incident.StateResolved && in.ResolvedBy != nil:
		row.Owner = ownerName(cfg, *in.ResolvedBy)
	case in.AcknowledgedBy != nil:
		row.Owner = ownerName(cfg, *in.AcknowledgedBy)
	}
	if in.AnsweredBy != nil {
		row.AnsweredBy = engineerName(cfg, *in.AnsweredBy)
	}
	if in.Customer != nil {
		row.Customer = *in.Customer
		if cu, ok := cfg.Customer(*in.Customer); ok {
			row.Customer = cu.Name
		}
	}
	if in.AnsweredAt != nil {
		row.ToAnswer = formatDuration(in.AnsweredAt.Sub(in.StartedAt))
	}
	if in.DurationS != nil {
		row.Duration = formatDuration(time.Duration(*in.DurationS) * time.Second)
	}
	return row
}

// downloadLimits bound a /calls.csv download: one write to the client may
// take at most write, the whole file at most total.
type downloadLimits struct{ write, total time.Duration }

// defaultDownloadLimits let a client at 110 kB/s take a million calls
// (about 95 MB of seeded ones) while dropping one that stops reading after
// 30 s, as the server's WriteTimeout would (cmd/hotline/serve.go).
var defaultDownloadLimits = downloadLimits{write: 30 * time.Second, total: 15 * time.Minute}

// handleCallsCSV serves /calls.csv: every call matching the same filters,
// streamed, for a spreadsheet. The server's WriteTimeout would cut a big
// file off for a slow client, so each write gets its own deadline instead
// (downloadLimits).
func (s *Site) handleCallsCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, problem := s.parseCallFilter(r.URL.Query())
		if problem != "" {
			http.Error(w, problem, http.StatusBadRequest)
			return
		}
		cfg := s.Schedules.Config()
		loc := s.loc() // started_at in hotline.timezone, with its offset
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="calls-`+s.Now().In(loc).Format("20060102-1504")+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(&deadlineWriter{w: w, rc: http.NewResponseController(w), wait: s.downloads.write, end: time.Now().Add(s.downloads.total)})
		_ = cw.Write([]string{"id", "started_at", "caller_number", "caller_name", "team", "menu_digit", "status",
			"answered_by", "answered_by_name", "time_to_answer_s", "duration_s", "transcript", "note", "customer"})
		err := s.Incidents.EachIncident(r.Context(), f, func(in incident.Incident) error {
			rec := []string{strconv.FormatInt(in.ID, 10), in.StartedAt.In(loc).Format(time.RFC3339), phoneCell(in.From),
				textCell(in.CallerName), in.Team, in.MenuDigit, in.Status, "", "", "", "", "", textCell(in.Note), ""}
			if in.Customer != nil {
				rec[13] = *in.Customer
			}
			if in.AnsweredBy != nil {
				rec[7], rec[8] = *in.AnsweredBy, textCell(engineerName(cfg, *in.AnsweredBy))
			}
			if in.AnsweredAt != nil {
				rec[9] = strconv.FormatFloat(in.AnsweredAt.Sub(in.StartedAt).Seconds(), 'f', 1, 64)
			}
			if in.DurationS != nil {
				rec[10] = strconv.Itoa(*in.DurationS)
			}
			if in.Transcript != nil {
				rec[11] = textCell(*in.Transcript)
			}
			return cw.Write(rec)
		})
		cw.Flush()
		if err != nil {
			// The header is gone; the truncated file is all we can give.
			s.Log.Error().Err(err).Msg("web: calls.csv")
		}
	})
}

// errDownloadTooLong ends a download that outlasted its total bound.
var errDownloadTooLong = errors.New("web: download took too long")

// deadlineWriter moves the connection's write deadline before each write
// (of csv.Writer's 4 kB buffer) to wait from now, but never past end.
// Deadlines are on the real clock, as the network's are.
type deadlineWriter struct {
	w           io.Writer
	rc          *http.ResponseController
	wait        time.Duration
	end         time.Time
	unsupported bool
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	now := time.Now()
	if !now.Before(d.end) {
		return 0, errDownloadTooLong
	}
	if !d.unsupported {
		deadline := now.Add(d.wait)
		if deadline.After(d.end) {
			deadline = d.end
		}
		err := d.rc.SetWriteDeadline(deadline)
		if errors.Is(err, http.ErrNotSupported) {
			// A writer without deadlines keeps the server's WriteTimeout.
			d.unsupported = true
		} else if err != nil {
			return 0, err
		}
	}
	return d.w.Write(p)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// formulaStarts are the first characters that make a spreadsheet run a
// cell as a formula or a command ("|" and "%" for DDE), and their
// full-width forms, which some spreadsheets read alike.
const formulaStarts = "=+-@|%＝＋－＠｜％"

// textCell makes a caller-supplied cell safe for a spreadsheet: it is
// neutralised as on the pages (shownText), and prefixed with ' when a
// spreadsheet would run it: when a formula character comes first after any
// leading blanks, or the cell starts with a tab or CR.
func textCell(s string) string {
	s = shownText(s)
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, blank))
	if strings.ContainsRune(formulaStarts, first) {
		return "'" + s
	}
	return s
}

// blank is what a spreadsheet may skip before reading a formula: white
// space of any width, the zero-width space and the byte-order mark.
func blank(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF'
}

// phoneCell keeps a well-formed E.164 number as it is and defuses anything
// else the caller ID may carry.
func phoneCell(s string) string {
	if e164.MatchString(s) {
		return s
	}
	return textCell(s)
}

// ownerName is who took or resolved an incident, as a manager reads it: an
// engineer's name, an account ("web:ann" → "ann"), or hotline itself.
func ownerName(cfg *config.Config, by string) string {
	if name, ok := strings.CutPrefix(by, "web:"); ok {
		return shownText(name)
	}
	if by == incident.ResolvedByHotline {
		return "hotline"
	}
	return engineerName(cfg, by)
}
