package routing

import (
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// CustomerByNumber finds the customer a caller number belongs to.
func (c *Config) CustomerByNumber(number string) (Customer, bool) {
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
