package notify

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Call is what the texts about a call say, copied from its incident by the
// call flow.
type Call struct {
	IncidentID int64
	Team       string // the team's name, e.g. "Operations"
	From       string // the caller's number as Twilio sent it
	CallerName string // caller ID name; untrusted
	Customer   string // the identified customer's name, if any
	Transcript string // the voicemail's transcript, if any; untrusted
}

// Dedup keys of the call texts: one of each kind per incident.
func answeredKey(id int64) string  { return "answered:" + strconv.FormatInt(id, 10) }
func voicemailKey(id int64) string { return "voicemail:" + strconv.FormatInt(id, 10) }

// IncidentURL is the incident's page on hotline's web site.
func IncidentURL(publicURL string, id int64) string {
	return strings.TrimSuffix(publicURL, "/") + "/incidents/" + strconv.FormatInt(id, 10)
}

// Answered is the text to the engineer who accepted a call, queued when the
// call ends: who called and the incident's link. Its key is
// "answered:<incident id>", so a retried status callback queues nothing more.
func Answered(publicURL string, c Call, to string) Message {
	body := "hotline: you took a call for " + plain(c.Team, 40) + " from " + caller(c) +
		". Incident: " + IncidentURL(publicURL, c.IncidentID)
	return Message{To: to, Body: body, Key: answeredKey(c.IncidentID), IncidentID: c.IncidentID}
}

// Voicemail is the text about a voicemail to the team's first step: who
// called, the recording's link and as much of the transcript as fits in two
// SMS segments. Its key is "voicemail:<incident id>" and it replaces a
// waiting text with the same key: queue it with a NotBefore a few minutes
// ahead when the recording arrives, and again when the transcript does; the
// one with the transcript goes if it comes in time, and only one goes.
func Voicemail(publicURL string, c Call, to string) Message {
	head := "hotline: voicemail for " + plain(c.Team, 40) + " from " + caller(c) +
		". Listen: " + IncidentURL(publicURL, c.IncidentID) + "/recording"
	body := head
	const open, end = "\nTranscript: \"", "\""
	if t := fit(head+open, plain(c.Transcript, maxBody), end, 2); t != "" {
		body = head + open + t + end
	}
	return Message{To: to, Body: body, Key: voicemailKey(c.IncidentID), IncidentID: c.IncidentID, Replace: true}
}

// caller names who called: the number, with the customer or else the
// caller ID name.
func caller(c Call) string {
	who := plain(c.From, 20)
	if who == "" {
		who = "an unknown number"
	}
	if n := plain(c.Customer, 60); n != "" {
		return who + " (" + n + ")"
	}
	if n := plain(c.CallerName, 40); n != "" {
		return who + " (caller ID " + n + ")"
	}
	return who
}

// plain makes untrusted text safe to put in an SMS as plain text: valid
// UTF-8, no control or formatting characters (a bidi override could
// disguise a link), runs of space collapsed, at most max characters.
func plain(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:max-3])) + "..."
	}
	return s
}

// fit returns text, cut short with "..." if need be, so that head+text+tail
// takes at most n SMS segments; "" when not even a few words would fit.
func fit(head, text, tail string, n int) string {
	if text == "" || segments(head+text+tail) <= n {
		return text
	}
	r := []rune(text)
	cut := func(k int) string { return strings.TrimSpace(string(r[:k])) + "..." }
	// Whether a cut fits is monotone only while the encoding stays the
	// same: search the cuts that are all GSM, then every cut as if it
	// were UCS-2 (which never fits where the truth would not).
	gsm := strings.IndexFunc(text, func(c rune) bool { return !isGSM(c) })
	if gsm < 0 {
		gsm = len(text)
	}
	best := longest(min(utf8.RuneCountInString(text[:gsm])+1, len(r)), func(k int) bool { return segments(head+cut(k)+tail) <= n })
	best = max(best, longest(len(r), func(k int) bool { return ucs2Segments(head+cut(k)+tail) <= n }))
	if best < 10 {
		return ""
	}
	return cut(best)
}

// longest returns the largest k in [0, hi) for which ok holds, given that
// ok holds for 0 and, once false, stays false.
func longest(hi int, ok func(k int) bool) int {
	lo := 0
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
