package ivr

import "strings"

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
