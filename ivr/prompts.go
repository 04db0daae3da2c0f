package ivr

import (
	"fmt"
	"strings"
)

// Prompts is every sentence hotline speaks, in one place.
var prompts = struct {
	SkipAnnouncement string
	MenuOption       string // label, digit
	MenuRepeat       string
	InvalidChoice    string
	NoChoice         string
	StillTrying      string
	Whisper          string // team, spoken caller number
	WhisperAgain     string
	Connecting       string
	Declined         string
	Voicemail        string
	VoicemailDone    string
	NoMessage        string
	Apology          string
	Sorry            string
}{
	SkipAnnouncement: "An announcement. To skip it, press 0.",
	MenuOption:       "For %s, press %s.",
	MenuRepeat:       "To hear these options again, press star.",
	InvalidChoice:    "Sorry, that is not a valid choice.",
	NoChoice:         "We did not receive a choice. Connecting you to the next available engineer.",
	StillTrying:      "Still trying to reach an engineer. Please stay on the line.",
	Whisper:          "Support call for %s from %s. Press 1 to accept, 2 to decline.",
	WhisperAgain:     "Press 1 to accept the call, 2 to decline.",
	Connecting:       "Connecting you to the caller now.",
	Declined:         "You declined the call. Goodbye.",
	Voicemail:        "We are sorry, nobody could take your call right now. Please leave a message with your name, your number and your issue after the tone, then press the pound key.",
	VoicemailDone:    "Thank you. Your message has been recorded and an engineer will call you back. Goodbye.",
	NoMessage:        "We did not receive a message. Please call again. Goodbye.",
	Apology:          "We are sorry, nobody could take your call right now. Please call again in a few minutes. Goodbye.",
	Sorry:            "We are sorry, something went wrong. Please hold while we connect you.",
}

// spokenNumber spells a phone number digit by digit so text-to-speech
// reads "+15555550101" as digits, not as a quantity.
func spokenNumber(n string) string {
	var b strings.Builder
	for _, r := range n {
		if r >= '0' && r <= '9' {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "an unknown number"
	}
	return b.String()
}

func menuOption(label, digit string) string { return fmt.Sprintf(prompts.MenuOption, label, digit) }
