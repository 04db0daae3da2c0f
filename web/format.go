package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/config"
	"github.com/hotline-dev/hotline/incident"
)

// funcs are the template helpers; every value they return is plain text,
// escaped by html/template like any other.
var funcs = template.FuncMap{
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"dur":  formatDuration,
	"join": strings.Join,
}

// formatDuration writes a duration the way a person reads a stopwatch:
// "45 s", "3 min 07 s", "1 h 02 min".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// offset writes a time relative to a call's start: "+0:07", "+12:30".
func offset(d time.Duration) string {
	d = d.Round(time.Second)
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	if d >= time.Hour {
		return fmt.Sprintf("%s%d:%02d:%02d", sign, int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%s%d:%02d", sign, int(d/time.Minute), int(d%time.Minute/time.Second))
}

const (
	dateTimeLayout = "2006-01-02 15:04:05"
	inputLayout    = "2006-01-02T15:04" // <input type="datetime-local">
	dateLayout     = "2006-01-02"
)

// parseWhen reads a time from a form or query in loc: a date
// ("2026-11-24", its midnight), a datetime-local value ("2026-11-24T09:30")
// or RFC 3339. endOfDay moves a bare date to the next midnight, so "to" a
// date includes that day.
func parseWhen(s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation(dateLayout, s, loc); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	for _, layout := range []string{inputLayout, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-11-24), a date and time (2026-11-24T09:30) or RFC 3339", s)
}

// statusLabels names the incident statuses for people, in filter order.
var statusLabels = []struct{ Value, Label string }{
	{incident.StatusAnswered, "Answered"},
	{incident.StatusVoicemail, "Voicemail"},
	{incident.StatusMissed, "Missed"},
	{incident.StatusAbandoned, "Abandoned"},
	{incident.StatusInProgress, "In progress"},
}

func statusLabel(s string) string {
	for _, l := range statusLabels {
		if l.Value == s {
			return l.Label
		}
	}
	return s
}

// withQuery returns path with the query values, dropping empty ones.
func withQuery(path string, q url.Values) string {
	clean := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				clean.Add(k, v)
			}
		}
	}
	if len(clean) == 0 {
		return path
	}
	return path + "?" + clean.Encode()
}

// engineerName is the configured name of an engineer id, or the id.
func engineerName(cfg *config.Config, id string) string {
	if e, ok := cfg.Engineer(id); ok && e.Name != "" {
		return e.Name
	}
	return id
}

// teamName is the configured name of a team id, or the id.
func teamName(cfg *config.Config, id string) string {
	if t, ok := cfg.Team(id); ok && t.Name != "" {
		return t.Name
	}
	return id
}

// shownText neutralises caller-supplied text (a caller name or number, a
// transcript, a note, an event's detail) wherever a page or the CSV shows
// it. A bidirectional control character (U+202A–202E, U+2066–2069, U+200E,
// U+200F, U+061C) would reorder what a manager reads around it
// ("Invoice\u202Efdp.exe" reads "Invoiceexe.pdf"), and a control character
// (a NUL stored by SQLite) has no place on a page: each is replaced by
// U+FFFD rather than removed, so the manager sees that something was
// there. Tab, newline and CR stay.
func shownText(s string) string {
	if !strings.ContainsFunc(s, unshown) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unshown(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// cleanInput replaces the control characters of text typed into a form
// (all but tab, newline and CR) and its bytes that are not UTF-8 by U+FFFD
// as it enters, as the webhooks do for Twilio's fields: PostgreSQL refuses
// a NUL, or a byte that is not UTF-8, in text. Every free-text form field
// goes through it.
func cleanInput(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, control) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if control(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func unshown(r rune) bool { return control(r) || unicode.Is(unicode.Bidi_Control, r) }

func control(r rune) bool { return r != '\t' && r != '\n' && r != '\r' && unicode.IsControl(r) }
