package calendar

import (
	"bufio"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Feed is one iCalendar document.
type Feed struct {
	Name   string // the calendar's display name
	Stamp  time.Time
	Events []Event
}

// Event is one VEVENT.
type Event struct {
	UID         string
	Summary     string
	Description string
	Start, End  time.Time
}

// icsTime is the UTC DATE-TIME form of RFC 5545 (section 3.3.5, form #2).
// Shift edges are whole seconds; an override's milliseconds are dropped.
func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// WriteTo writes f as an RFC 5545 document: CRLF line ends, lines folded
// at 75 octets, text values escaped, times in UTC.
func (f *Feed) WriteTo(w io.Writer) (int64, error) {
	e := &encoder{w: bufio.NewWriter(w)}
	e.line("BEGIN:VCALENDAR")
	e.line("VERSION:2.0")
	e.line("PRODID:-//hotline//on-call calendar//EN")
	e.line("CALSCALE:GREGORIAN")
	e.line("METHOD:PUBLISH")
	e.line("NAME:" + text(f.Name))                 // RFC 7986
	e.line("X-WR-CALNAME:" + text(f.Name))         // older clients
	e.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H") // RFC 7986
	e.line("X-PUBLISHED-TTL:PT1H")
	for _, ev := range f.Events {
		e.line("BEGIN:VEVENT")
		e.line("UID:" + text(ev.UID))
		e.line("DTSTAMP:" + icsTime(f.Stamp))
		e.line("DTSTART:" + icsTime(ev.Start))
		e.line("DTEND:" + icsTime(ev.End))
		e.line("SUMMARY:" + text(ev.Summary))
		if ev.Description != "" {
			e.line("DESCRIPTION:" + text(ev.Description))
		}
		e.line("TRANSP:TRANSPARENT") // being on call is not being busy
		e.line("END:VEVENT")
	}
	e.line("END:VCALENDAR")
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

// encoder writes content lines, folding them; the first error sticks.
type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
}

// line writes one content line, folded so no physical line passes 75
// octets (RFC 5545 section 3.1): a continuation starts with a space, and a
// UTF-8 character is never split.
func (e *encoder) line(s string) {
	limit := 75
	for e.err == nil {
		if len(s) <= limit {
			e.write(s + "\r\n")
			return
		}
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		e.write(s[:cut] + "\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
}

func (e *encoder) write(s string) {
	if e.err != nil {
		return
	}
	n, err := e.w.WriteString(s)
	e.n += int64(n)
	e.err = err
}

// text escapes a TEXT value (RFC 5545 section 3.3.11) and drops control
// characters, which a TEXT value cannot hold.
func text(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
