package main

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// numberCountry is the ISO 3166-1 alpha-2 code of the country an E.164
// number rings in, the code Twilio's Voice dialing permissions are kept by
// (docs/twilio.md §8.8), and whether it could tell. libphonenumber's
// metadata splits the shared +1 plan (NANP) by area code, so +1 416… is CA
// and +1 876… JM, not all US; a toll-free +1 8XX number counts as US. A
// number it cannot place (an area code not in service, such as 555, or a
// calling code no country has) is not guessed: the caller says so.
func numberCountry(e164 string) (string, bool) {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "", false
	}
	iso := phonenumbers.GetRegionCodeForNumber(n)
	// "001" is a non-geographic entity (+800, +882…), "ZZ" unknown: neither
	// is a country of the dialing permissions.
	if len(iso) != 2 || iso == "ZZ" {
		return "", false
	}
	return iso, true
}

// in555Exchange reports whether e164 is a +1 NXX 555 XXXX number: the
// exchange kept for fiction, which Twilio refuses to dial (error 13224,
// docs/twilio.md §8.8).
func in555Exchange(e164 string) bool {
	return len(e164) == 12 && strings.HasPrefix(e164, "+1") && e164[5:8] == "555"
}

// tollFreeCodes are the NANP toll-free area codes.
var tollFreeCodes = []string{"800", "833", "844", "855", "866", "877", "888"}

// isTollFree reports whether e164 is a NANP toll-free number, whose texts
// Twilio blocks until the number is verified (error 30032, docs/twilio.md
// §8.9).
func isTollFree(e164 string) bool {
	if len(e164) != 12 || !strings.HasPrefix(e164, "+1") {
		return false
	}
	for _, c := range tollFreeCodes {
		if e164[2:5] == c {
			return true
		}
	}
	return false
}
