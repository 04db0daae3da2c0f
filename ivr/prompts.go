package ivr

import (
	"strings"

	"github.com/hotline-dev/hotline/config"
)

// spokenNumber spells a phone number digit by digit so text-to-speech
// reads "+15555550101" as digits, not as a quantity; a caller ID that is
// no number (withheld, SIP, an app) is said as what it is.
func spokenNumber(n string) string {
	if words, number := config.CallerWords(n); !number {
		return words
	}
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
