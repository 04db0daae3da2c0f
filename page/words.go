package page

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/config"
)

// Limits of what a page says: Polly's <Say> takes at most 3,000 characters
// (docs/twilio.md §2.4), and a text should stay a few segments long.
const (
	maxSpoken = 1500
	maxTexted = 300
)

// caller names who called: the customer or caller name, then the number
// in words (digits one by one when spoken), never a withheld number's
// digits (config.CallerWords).
func caller(s Subject, spoken bool) string {
	words, _ := config.CallerWords(s.From)
	if spoken {
		words = config.SpokenCaller(s.From)
	}
	if name := strings.TrimSpace(s.CallerName); name != "" {
		return name + ", " + words
	}
	return words
}

// ago says how long before now `at` was, in whole minutes or hours.
func ago(at, now time.Time) string {
	d := now.Sub(at)
	switch {
	case at.IsZero():
		return "recently"
	case d < time.Minute:
		return "just now"
	case d < 2*time.Minute:
		return "1 minute ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " minutes ago"
	case d < 2*time.Hour:
		return "1 hour ago"
	}
	return strconv.Itoa(int(d/time.Hour)) + " hours ago"
}

// hasVoicemail reports whether a call incident left a message.
func hasVoicemail(s Subject) bool { return s.Transcript != "" || s.RecordingURL != "" }

// headline says what the incident is, e.g. "A voicemail for Operations
// from Globex, 5 5 5 …, 3 minutes ago".
func headline(s Subject, team string, now time.Time, spoken bool) string {
	if s.Kind == KindAlert {
		return fmt.Sprintf("An alert for %s, %s: %s", team, ago(s.StartedAt, now), clip(s.Summary, maxSpoken))
	}
	what := "A missed call"
	if hasVoicemail(s) {
		what = "A voicemail"
	}
	return fmt.Sprintf("%s for %s from %s, %s", what, team, caller(s, spoken), ago(s.StartedAt, now))
}

// textBody is the page's text: what it is, the transcript's start, the
// incident's link and how to acknowledge.
func textBody(s Subject, public, team string, now time.Time) string {
	var b strings.Builder
	b.WriteString(headline(s, team, now, false) + ".")
	if s.Kind == KindCall && s.Transcript != "" {
		b.WriteString(` "` + clip(s.Transcript, maxTexted) + `"`)
	}
	fmt.Fprintf(&b, " %s/incidents/%d — reply 1 to acknowledge.", public, s.ID)
	return b.String()
}

// clip shortens s to at most n bytes, at a word, marking the cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut <= 0 {
		cut = n
	}
	return strings.ToValidUTF8(s[:cut], "") + "…"
}
