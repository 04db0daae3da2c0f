package notify

import (
	"strings"
	"unicode/utf16"
)

// The GSM 03.38 alphabet: texts written only with it go as 7-bit
// characters, 160 to a single SMS and 153 to each part of a long one.
// Anything else makes the whole text UCS-2: 70, or 67 per part.
const (
	gsmBasic    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f" // sent as an escape and a character: two septets
)

// segments returns how many SMS parts Twilio cuts s into.
func segments(s string) int {
	septets := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtended, r):
			septets += 2
		default:
			return ucs2Segments(s)
		}
	}
	return parts(septets, 160, 153)
}

// ucs2Segments returns how many parts s takes in UCS-2.
func ucs2Segments(s string) int {
	return parts(len(utf16.Encode([]rune(s))), 70, 67)
}

// isGSM reports whether r is in the GSM alphabet.
func isGSM(r rune) bool {
	return strings.ContainsRune(gsmBasic, r) || strings.ContainsRune(gsmExtended, r)
}

// parts is how many parts n units take with single and multi-part sizes.
func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
