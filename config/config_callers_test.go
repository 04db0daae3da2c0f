package config

import (
	"errors"
	"strings"
	"testing"
)

const callersBase = `hotline:
  number: "+18005550100"
  timezone: "UTC"
  greeting: "Hello."
  identify: callerid_or_pin
  unknown_callers: voicemail
menu:
  default: "1"
  options:
    - {digit: "1", label: "an outage", team: ops}
    - {digit: "2", label: "billing", team: ops}
teams:
  - id: ops
    escalation: [{engineer: alice}]
engineers:
  - {id: alice, phone: "+15555550101"}
customers:
  - id: globex
    name: "Globex"
    numbers: ["+15555550123", "+15555550124"]
    pin: "4321"
  - id: initech
    name: "Initech"
    pin: "$2a$10$9OzWPkrMjQUYH6ncQgybi.H4d5hUjevonuW8hF.BfrIdcgxJeNtvG"
languages:
  - code: es-MX
    digit: "9"
    voice: "Polly.Mia"
    greeting: "Gracias por llamar."
    prompts:
      language_offer: "Para español, oprima {digit}."
      menu_option: "Para {label}, oprima {digit}."
    menu:
      "1": "una caída del servicio"
      "2": "facturación"
`

func TestCustomersAndLanguages(t *testing.T) {
	cfg, err := ParseConfig("callers.yaml", []byte(callersBase))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hotline.Identify != IdentifyCallerIDOrPIN || cfg.Hotline.UnknownCallers != UnknownVoicemail {
		t.Errorf("hotline %+v", cfg.Hotline)
	}
	if c, ok := cfg.CustomerByNumber("+15555550124"); !ok || c.ID != "globex" {
		t.Errorf("by number: %+v %v", c, ok)
	}
	if c, ok := cfg.CustomerByPIN("4321"); !ok || c.ID != "globex" {
		t.Errorf("plain PIN: %+v %v", c, ok)
	}
	if _, ok := cfg.CustomerByPIN("1234"); ok {
		t.Error("a wrong PIN matched")
	}
	l, ok := cfg.LanguageByDigit("9")
	if !ok || l.Code != "es-MX" || l.Menu["2"] != "facturación" {
		t.Fatalf("language %+v", l)
	}
	if got := cfg.Prompt("es-MX", "menu_option", "label", "facturación", "digit", "2"); got != "Para facturación, oprima 2." {
		t.Errorf("Spanish prompt %q", got)
	}
	if got := cfg.Prompt("es-MX", "voicemail"); got != Prompts["voicemail"] {
		t.Errorf("a prompt the language leaves out falls back to English: %q", got)
	}
	if got := cfg.Prompt("", "menu_option", "label", "an outage", "digit", "1"); got != "For an outage, press 1." {
		t.Errorf("English prompt %q", got)
	}
}

func TestBcryptPIN(t *testing.T) {
	// The hash in callersBase is of "123456" (cost 10).
	cfg, err := ParseConfig("callers.yaml", []byte(callersBase))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := cfg.CustomerByPIN("123456"); !ok || c.ID != "initech" {
		t.Errorf("bcrypt PIN not matched: %+v %v", c, ok)
	}
}

func TestCustomerAndLanguageErrors(t *testing.T) {
	cases := []struct {
		name, old, new, key, msg string
	}{
		{"identify", "identify: callerid_or_pin", "identify: phone", "hotline.identify", `"phone": want none, callerid, pin or callerid_or_pin`},
		{"unknown callers", "unknown_callers: voicemail", "unknown_callers: ignore", "hotline.unknown_callers", "want route, voicemail or reject"},
		{"attestation", "unknown_callers: voicemail", "unknown_callers: voicemail\n  caller_id_attestation: C", "hotline.caller_id_attestation", `"C": want A, B or any`},
		{"sms sender not E.164", "unknown_callers: voicemail", "unknown_callers: voicemail\n  sms_from: 5550199", "hotline.sms_from", "E.164"},
		{"messaging service", "unknown_callers: voicemail", "unknown_callers: voicemail\n  messaging_service_sid: PN0123", "hotline.messaging_service_sid", "want a Messaging Service SID"},
		{"two senders", "unknown_callers: voicemail", "unknown_callers: voicemail\n  sms_from: \"+15005550006\"\n  messaging_service_sid: MG0123456789abcdef0123456789abcdef", "hotline.messaging_service_sid", "not both"},
		{"duplicate number", `"+15555550124"]`, `"+15555550123"]`, "customers[0].numbers[1]", "already belongs to a customer"},
		{"bad number", `"+15555550124"]`, `"5550124"]`, "customers[0].numbers[1]", "E.164"},
		{"withheld number", `"+15555550124"]`, `"+266696687"]`, "customers[0].numbers[1]", "withheld caller ID"},
		{"bad pin", `pin: "4321"`, `pin: "12"`, "customers[0].pin", "want 4 to 12 digits or a bcrypt hash"},
		{"pin required", "identify: callerid_or_pin", "identify: pin\n  # x", "customers[0].pin", "required when hotline.identify is pin"},
		{"language digit is an option", `digit: "9"`, `digit: "2"`, "languages[0].digit", `digit "2" is a menu option's`},
		{"bad code", "code: es-MX", "code: Spanish!", "languages[0].code", "invalid language code"},
		{"unknown prompt", "menu_option: ", "menu_optoin: ", "languages[0].prompts.menu_optoin", "unknown key"},
		{"missing offer", `      language_offer: "Para español, oprima {digit}."` + "\n", "", "languages[0].prompts.language_offer", "required"},
		{"missing label", `      "2": "facturación"` + "\n", "", "languages[0].menu.2", "required: the label of option 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(callersBase, c.old, c.new, 1)
			if c.name == "pin required" {
				src = strings.Replace(src, `    pin: "4321"`+"\n", "", 1)
			}
			if src == callersBase {
				t.Fatal("the case changed nothing")
			}
			_, err := ParseConfig("callers.yaml", []byte(src))
			var errs ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %v", err)
			}
			for _, e := range errs {
				if e.Key == c.key && strings.Contains(e.Msg, c.msg) {
					if strings.Contains(err.Error(), "4321") {
						t.Errorf("an error shows a PIN: %v", err)
					}
					return
				}
			}
			t.Errorf("no %s: %q among\n%v", c.key, c.msg, err)
		})
	}
}

// TestTextSender: texts go from the Messaging Service, else sms_from, else
// the support number.
func TestTextSender(t *testing.T) {
	for _, c := range []struct{ extra, want string }{
		{"", "+18005550100"},
		{"\n  sms_from: \"+15005550006\"", "+15005550006"},
		{"\n  messaging_service_sid: MG0123456789abcdef0123456789abcdef", "MG0123456789abcdef0123456789abcdef"},
	} {
		src := strings.Replace(callersBase, "unknown_callers: voicemail", "unknown_callers: voicemail"+c.extra, 1)
		cfg, err := ParseConfig("callers.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Hotline.TextSender(); got != c.want {
			t.Errorf("%q: sender %q, want %q", c.extra, got, c.want)
		}
	}
}
