package config

import (
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// CustomerByNumber finds the customer a caller number belongs to. A
// withheld number belongs to no one.
func (c *Config) CustomerByNumber(number string) (Customer, bool) {
	if Withheld(number) {
		return Customer{}, false
	}
	for _, cu := range c.Customers {
		for _, n := range cu.Numbers {
			if n == number {
				return cu, true
			}
		}
	}
	return Customer{}, false
}

// CustomerByPIN finds the customer whose PIN was entered.
func (c *Config) CustomerByPIN(pin string) (Customer, bool) {
	if pin == "" {
		return Customer{}, false
	}
	for _, cu := range c.Customers {
		if cu.PIN != "" && pinMatches(cu.PIN, pin) {
			return cu, true
		}
	}
	return Customer{}, false
}

// Customer returns the customer with that id.
func (c *Config) Customer(id string) (Customer, bool) {
	for _, cu := range c.Customers {
		if cu.ID == id {
			return cu, true
		}
	}
	return Customer{}, false
}

func pinMatches(stored, entered string) bool {
	if isBcrypt(stored) {
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(entered)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(entered)) == 1
}

func isBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

// Language returns a configured language by code; "" or the line's own
// language is the default and reports false.
func (c *Config) Language(code string) (Language, bool) {
	for _, l := range c.Languages {
		if l.Code == code {
			return l, true
		}
	}
	return Language{}, false
}

// LanguageByDigit returns the language a menu key selects.
func (c *Config) LanguageByDigit(digit string) (Language, bool) {
	for _, l := range c.Languages {
		if l.Digit == digit {
			return l, true
		}
	}
	return Language{}, false
}

// SayLanguage is the <Say language> and voice for a call in lang.
func (c *Config) SayLanguage(lang string) (code, voice string) {
	if l, ok := c.Language(lang); ok {
		return l.Code, l.Voice
	}
	return c.Hotline.Language, c.Hotline.Voice
}

// Greeting is the greeting in lang.
func (c *Config) Greeting(lang string) string {
	if l, ok := c.Language(lang); ok {
		return l.Greeting
	}
	return c.Hotline.Greeting
}

// OptionLabel is an option's label in lang.
func (c *Config) OptionLabel(lang string, o Option) string {
	if l, ok := c.Language(lang); ok {
		if label, ok := l.Menu[o.Digit]; ok {
			return label
		}
	}
	return o.Label
}

// IsE164 reports whether s is a phone number in E.164 form ("+" and up to 15
// digits, no leading zero): the form Twilio uses and the config requires.
func IsE164(s string) bool { return e164Re.MatchString(s) }

// withheldSpellings are the forms a withheld caller ID arrives in: words,
// and the keypad spellings of ANONYMOUS, RESTRICTED, UNKNOWN, UNAVAILABLE
// and BLOCKED that look like E.164 numbers (README "Known callers, languages, announcements").
var withheldSpellings = map[string]bool{
	"anonymous": true, "restricted": true, "unknown": true, "unavailable": true, "blocked": true, "private": true,
	"+266696687": true, "+7378742833": true, "+8656696": true, "+86282452253": true, "+2562533": true,
	"266696687": true, "7378742833": true, "8656696": true, "86282452253": true, "2562533": true,
}

// Withheld reports whether a caller ID (Twilio's From) is a withheld
// number: empty, a word such as anonymous or Restricted, or one of their
// keypad spellings such as +266696687. Such a caller ID is never read out,
// texted as a callback number or matched to a customer.
func Withheld(from string) bool {
	from = strings.TrimSpace(from)
	return from == "" || withheldSpellings[strings.ToLower(from)]
}

// CallerWords is how hotline names a caller ID to people. number is true
// when it is a number one can call back (then words is the number as
// given); otherwise words says what the caller is: "a withheld number", "a
// SIP caller", "an app caller" (Twilio's Voice SDK, client:…) or "an
// unknown number" (no digits at all).
func CallerWords(from string) (words string, number bool) {
	lower := strings.ToLower(strings.TrimSpace(from))
	switch {
	case Withheld(from):
		return "a withheld number", false
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		return "a SIP caller", false
	case strings.HasPrefix(lower, "client:"):
		return "an app caller", false
	case !strings.ContainsAny(from, "0123456789"):
		return "an unknown number", false
	}
	return from, true
}

// SpokenCaller is CallerWords for a text-to-speech voice: a number spelt
// digit by digit, so "+15555550101" is not read as a quantity; a caller ID
// that is no number (withheld, SIP, an app) is said as what it is.
func SpokenCaller(from string) string {
	words, number := CallerWords(from)
	if !number {
		return words
	}
	var b strings.Builder
	for _, r := range from {
		if r >= '0' && r <= '9' {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// AttestationPassed reports whether a call's StirVerstat (Twilio's
// STIR/SHAKEN verification, e.g. TN-Validation-Passed-A) is good enough
// for hotline.caller_id_attestation to trust its caller ID.
func (c *Config) AttestationPassed(stirVerstat string) bool {
	switch c.Hotline.CallerIDAttestation {
	case AttestationAny:
		return true
	case AttestationB:
		return strings.HasSuffix(stirVerstat, "-Passed-A") || strings.HasSuffix(stirVerstat, "-Passed-B")
	}
	return strings.HasSuffix(stirVerstat, "-Passed-A")
}
