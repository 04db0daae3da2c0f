package config

import (
	"sort"
	"strings"
)

// Prompts is the catalogue of everything hotline says, keyed by name, with
// the English defaults. A language block in the config overrides any of them;
// {placeholders} are filled in when spoken. A new language is a config
// block, not code.
var Prompts = map[string]string{
	"welcome_customer":  "Welcome, {customer}.",
	"language_offer":    "For {language}, press {digit}.",
	"skip_announcement": "An announcement. To skip it, press 0.",
	"menu_option":       "For {label}, press {digit}.",
	"menu_repeat":       "To hear these options again, press star.",
	"invalid_choice":    "Sorry, that is not a valid choice.",
	"pin_prompt":        "Please enter your customer PIN, then press pound.",
	"pin_invalid":       "Sorry, that PIN is not valid.",
	"unknown_caller":    "We could not verify your account. Please contact your account manager. Goodbye.",
	"still_trying":      "Still trying to reach an engineer. Please stay on the line.",
	"voicemail":         "We are sorry, nobody could take your call right now. Please leave a message with your name, your number and your issue after the tone, then press the pound key.",
	"voicemail_done":    "Thank you. Your message has been recorded and an engineer will call you back. Goodbye.",
	"no_message":        "We did not receive a message. Please call again. Goodbye.",
	"apology":           "We are sorry, nobody could take your call right now. Please call again in a few minutes. Goodbye.",
	"sorry":             "We are sorry, something went wrong. Please hold while we connect you.",
	// Spoken to the engineer, in the line's default language: the whisper,
	// then whisper_again only after a pause with no key.
	"whisper":       "Support call for {team} from {caller}. Press 1 to accept, 2 to decline.",
	"whisper_again": "Press 1 to accept the call, 2 to decline.",
	"connecting":    "Connecting you to the caller now.",
	"declined":      "You declined the call. Goodbye.",
}

// PromptNames lists the catalogue's keys, sorted.
func PromptNames() []string {
	names := make([]string, 0, len(Prompts))
	for k := range Prompts {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Prompt returns the text of a prompt in a language (the default language
// for ""), with placeholders filled from pairs: "label", "an outage", ....
func (c *Config) Prompt(lang, key string, pairs ...string) string {
	text, ok := "", false
	if l, found := c.Language(lang); found {
		text, ok = l.Prompts[key]
	}
	if !ok {
		text = Prompts[key]
	}
	if len(pairs) == 0 {
		return text
	}
	args := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		args = append(args, "{"+pairs[i]+"}", pairs[i+1])
	}
	return strings.NewReplacer(args...).Replace(text)
}
