package notify

import (
	"strings"
	"testing"
)

func TestAnswered(t *testing.T) {
	c := Call{IncidentID: 42, Team: "Operations", From: "+15555550199", Customer: "Globex Corp", CallerName: "ignored"}
	m := Answered("https://hotline.example.com/", c, alice)
	want := "hotline: you took a call for Operations from +15555550199 (Globex Corp). Incident: https://hotline.example.com/incidents/42"
	if m.Body != want || m.To != alice || m.Key != "answered:42" || m.Replace {
		t.Fatalf("Answered = %+v,\nwant body %q", m, want)
	}
	c.Customer, c.From = "", ""
	c.CallerName = "EVIL\u202eCORP\n<b>x</b>"
	got := Answered("https://h", c, alice).Body
	if want := "from an unknown number (caller ID EVIL CORP <b>x</b>)."; !strings.Contains(got, want) {
		t.Fatalf("untrusted caller name: %q, want it to contain %q", got, want)
	}
}

func TestVoicemailFitsTwoSegments(t *testing.T) {
	c := Call{IncidentID: 7, Team: "Service Desk", From: "+15555550199",
		Transcript: "Hi, this is Sam from Initech. " + strings.Repeat("Our payroll export fails with error 42 again. ", 20)}
	m := Voicemail("https://hotline.example.com", c, alice)
	if !m.Replace || m.Key != "voicemail:7" {
		t.Fatalf("Voicemail = %+v", m)
	}
	if !strings.Contains(m.Body, "Listen: https://hotline.example.com/incidents/7/recording\nTranscript: \"Hi, this is Sam") {
		t.Fatalf("body %q", m.Body)
	}
	if !strings.HasSuffix(m.Body, "...\"") {
		t.Errorf("a cut transcript should end with ...\": %q", m.Body)
	}
	if n := segments(m.Body); n != 2 {
		t.Errorf("%d segments (%d chars), want 2", n, len(m.Body))
	}
	if len(m.Body) < 290 {
		t.Errorf("only %d characters: two GSM segments hold 306", len(m.Body))
	}

	// Outside the GSM alphabet the whole text is UCS-2: 134 characters in
	// two segments.
	c.Transcript = strings.Repeat("Сервер не работает. ", 20)
	m = Voicemail("https://h", c, alice)
	if n, l := segments(m.Body), len([]rune(m.Body)); n != 2 || l < 125 {
		t.Errorf("UCS-2: %d segments, %d characters; want 2 and close to 134: %q", n, l, m.Body)
	}
	// A GSM text whose transcript turns UCS-2 late keeps the GSM part.
	c.Transcript = strings.Repeat("Payroll is down. ", 8) + "Merci ’"
	m = Voicemail("https://h", c, alice)
	if n, l := segments(m.Body), len([]rune(m.Body)); n != 2 || l < 200 {
		t.Errorf("mixed: %d segments, %d characters: %q", n, l, m.Body)
	}

	// A short transcript goes whole; none at all leaves the link.
	c.Transcript = "Please call back."
	if m := Voicemail("https://h", c, alice); !strings.HasSuffix(m.Body, "Transcript: \"Please call back.\"") {
		t.Errorf("short transcript: %q", m.Body)
	}
	c.Transcript = ""
	if m := Voicemail("https://h", c, alice); !strings.HasSuffix(m.Body, "/incidents/7/recording") {
		t.Errorf("no transcript: %q", m.Body)
	}
}

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},  // two septets each: 160
		{strings.Repeat("€", 81), 2},  // 162
		{strings.Repeat("é", 161), 2}, // é is in the GSM alphabet
		{strings.Repeat("á", 70), 1},  // á is not: UCS-2
		{strings.Repeat("á", 71), 2},
		{strings.Repeat("á", 134), 2},
		{strings.Repeat("á", 135), 3},
		{strings.Repeat("😀", 35), 1}, // a surrogate pair each
		{strings.Repeat("😀", 36), 2},
	} {
		if got := segments(tc.s); got != tc.want {
			t.Errorf("segments(%d × %q) = %d, want %d", len([]rune(tc.s)), []rune(tc.s)[0:min(1, len(tc.s))], got, tc.want)
		}
	}
}

func TestMask(t *testing.T) {
	if got := mask("+15555550101"); got != "+1555…0101" {
		t.Errorf("mask = %q", got)
	}
	if got := redact("The 'To' number +15555550101 is not valid (code 21211)"); strings.Contains(got, "+15555550101") || !strings.Contains(got, "21211") {
		t.Errorf("redact = %q", got)
	}
}
