package config

import (
	"regexp"
	"slices"
	"strings"
)

// The config's blocks about callers: customers (who is calling) and
// languages (what they hear).

var (
	pinRe      = regexp.MustCompile(`^[0-9]{4,12}$`)
	langCodeRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// identification checks hotline.identify and hotline.unknown_callers.
func (p *parser) identification(o *object, h *Hotline) {
	h.Identify, h.UnknownCallers = IdentifyNone, UnknownRoute
	if v, n := p.str(o, "identify"); n != nil {
		if !slices.Contains([]string{IdentifyNone, IdentifyCallerID, IdentifyPIN, IdentifyCallerIDOrPIN}, v) {
			p.errorf(n, join(o.path, "identify"), "%q: want none, callerid, pin or callerid_or_pin", v)
		} else {
			h.Identify = v
		}
	}
	h.CallerIDAttestation = AttestationA
	if v, n := p.str(o, "caller_id_attestation"); n != nil {
		if !slices.Contains([]string{AttestationA, AttestationB, AttestationAny}, v) {
			p.errorf(n, join(o.path, "caller_id_attestation"), "%q: want A, B or any", v)
		} else {
			h.CallerIDAttestation = v
		}
	}
	if v, n := p.str(o, "unknown_callers"); n != nil {
		if !slices.Contains([]string{UnknownRoute, UnknownVoicemail, UnknownReject}, v) {
			p.errorf(n, join(o.path, "unknown_callers"), "%q: want route, voicemail or reject", v)
		} else {
			h.UnknownCallers = v
		}
	}
}

// customers reads the customers list. PINs are checked for shape only and
// never appear in an error message.
func (p *parser) customers(top *object, identify string) []Customer {
	var out []Customer
	seen, numbers := ids{}, ids{}
	needPIN := identify == IdentifyPIN
	for i, n := range p.list(top, "customers") {
		o := p.object(n, n, item("customers", i), "id", "name", "numbers", "pin")
		if o == nil {
			continue
		}
		id, _ := p.define(o, seen, "customer")
		cu := Customer{ID: id}
		cu.Name, _ = p.required(o, "name")
		for j, num := range p.list(o, "numbers") {
			path := item(join(o.path, "numbers"), j)
			s, ok := p.scalarText(num, path)
			if !ok {
				continue
			}
			p.phone(num, path, s)
			if Withheld(s) {
				p.errorf(num, path, "%s is how a withheld caller ID arrives (a keypad spelling of ANONYMOUS, RESTRICTED, …): it never identifies a customer", s)
				continue
			}
			if first := numbers[s]; first != nil {
				p.errorf(num, path, "number %s already belongs to a customer at line %d", s, first.Line)
				continue
			}
			numbers[s] = num
			cu.Numbers = append(cu.Numbers, s)
		}
		if pin, pn := p.str(o, "pin"); pn != nil {
			if !pinRe.MatchString(pin) && !isBcrypt(pin) {
				p.errorf(pn, join(o.path, "pin"), "want 4 to 12 digits or a bcrypt hash ($2a$…, 60 characters)")
			} else {
				cu.PIN = pin
			}
		} else if needPIN {
			p.errorf(o.missingAt("pin"), join(o.path, "pin"), "required when hotline.identify is pin")
		}
		if len(cu.Numbers) == 0 && cu.PIN == "" {
			p.errorf(o.at, o.path, "a customer needs numbers or a pin to be recognised")
		}
		out = append(out, cu)
	}
	return out
}

// languages reads the languages a caller may choose, checked against the
// menu's digits and the prompt catalogue.
func (p *parser) languages(top *object, menu Menu) []Language {
	var out []Language
	codes, digits := ids{}, ids{}
	for i, n := range p.list(top, "languages") {
		o := p.object(n, n, item("languages", i), "code", "digit", "voice", "greeting", "prompts", "menu")
		if o == nil {
			continue
		}
		var l Language
		if code, cn := p.required(o, "code"); cn != nil {
			path := join(o.path, "code")
			switch {
			case !langCodeRe.MatchString(code):
				p.errorf(cn, path, "invalid language code %q: want e.g. es-MX", code)
			case codes[code] != nil:
				p.errorf(cn, path, "language %q is already defined at line %d", code, codes[code].Line)
			default:
				codes[code] = cn
				l.Code = code
			}
		}
		if digit, dn := p.required(o, "digit"); dn != nil {
			path := join(o.path, "digit")
			_, isOption := menu.option(digit)
			switch {
			case len(digit) != 1 || digit[0] < '1' || digit[0] > '9':
				p.errorf(dn, path, "invalid digit %q: want one key from 1 to 9", digit)
			case isOption:
				p.errorf(dn, path, "digit %q is a menu option's", digit)
			case digits[digit] != nil:
				p.errorf(dn, path, "digit %q is already used at line %d", digit, digits[digit].Line)
			default:
				digits[digit] = dn
				l.Digit = digit
			}
		}
		l.Voice, _ = p.str(o, "voice")
		l.Greeting, _ = p.required(o, "greeting")
		l.Prompts = p.stringMap(o, "prompts", PromptNames())
		if _, ok := l.Prompts["language_offer"]; !ok {
			p.errorf(o.missingAt("prompts"), join(o.path, "prompts.language_offer"),
				"required: how the menu offers this language, in it (e.g. \"Para español, oprima {digit}.\")")
		}
		optionDigits := make([]string, len(menu.Options))
		for j, op := range menu.Options {
			optionDigits[j] = op.Digit
		}
		l.Menu = p.stringMap(o, "menu", optionDigits)
		for _, d := range optionDigits {
			if _, ok := l.Menu[d]; !ok && d != "" {
				p.errorf(o.missingAt("menu"), join(o.path, "menu."+d), "required: the label of option %s in this language", d)
			}
		}
		out = append(out, l)
	}
	return out
}

// stringMap reads a mapping of allowed keys to non-empty strings.
func (p *parser) stringMap(o *object, key string, allowed []string) map[string]string {
	out := map[string]string{}
	sub := p.child(o, key, allowed...)
	if sub == nil {
		return out
	}
	for k, kn := range sub.keys {
		v := sub.values[k]
		path := join(sub.path, k)
		if v == nil {
			p.errorf(kn, path, "required")
			continue
		}
		if s, ok := p.scalarText(v, path); ok {
			if strings.TrimSpace(s) == "" {
				p.errorf(v, path, "must not be blank")
				continue
			}
			out[k] = s
		}
	}
	return out
}

// option finds a menu option by digit while the config is being built.
func (m Menu) option(digit string) (Option, bool) {
	for _, o := range m.Options {
		if o.Digit == digit {
			return o, true
		}
	}
	return Option{}, false
}
