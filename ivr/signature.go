// Package ivr is hotline's side of Twilio: it checks webhook signatures,
// builds TwiML and runs the call flow (menu, screened dials, escalation,
// voicemail), recording each call as an incident.
package ivr

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/client"
)

// MaxBody is the largest webhook body accepted; Twilio's are a few kB.
const MaxBody = 64 << 10

// RequireSignature refuses any request whose X-Twilio-Signature does not
// match authToken over publicURL + path and query and the form parameters.
// Bodies over MaxBody get 413 before anything else; refused requests reach
// no handler, so they write nothing. After the check, form values are made
// safe to store and speak (invalid UTF-8 and control characters replaced).
func RequireSignature(authToken, publicURL string, log zerolog.Logger) func(http.Handler) http.Handler {
	base := strings.TrimRight(publicURL, "/")
	rv := client.NewRequestValidator(authToken)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > MaxBody {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
			if err := parsePostForm(r); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
					return
				}
				log.Warn().Str("path", r.URL.Path).Err(err).Msg("twilio webhook: malformed form")
				http.Error(w, "malformed form", http.StatusBadRequest)
				return
			}
			params := make(map[string]string, len(r.PostForm))
			for k, v := range r.PostForm {
				params[k] = v[0]
			}
			if !rv.Validate(base+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
				log.Warn().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("twilio webhook: bad or missing signature")
				http.Error(w, "invalid signature", http.StatusForbidden)
				return
			}
			for _, form := range []map[string][]string{r.Form, r.PostForm} {
				for _, vs := range form {
					for i, v := range vs {
						vs[i] = cleanText(v)
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// parsePostForm fills r.PostForm from a form-encoded POST body. Unlike
// ParseForm it leaves r.Form alone — webhooks read PostForm and the URL's
// query — so the body's values are not copied into a second map on every
// request; r.FormValue still works, building r.Form when first called.
// Anything but a form-encoded POST goes through ParseForm.
func parsePostForm(r *http.Request) error {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if r.Method != http.MethodPost || !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return r.ParseForm()
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.PostForm, err = url.ParseQuery(string(body))
	return err
}

// cleanText replaces invalid UTF-8 and characters XML cannot carry, so a
// hostile field can neither break TwiML nor the database.
func cleanText(s string) string {
	if printableASCII(s) || utf8.ValidString(s) && !strings.ContainsFunc(s, badRune) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if badRune(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// printableASCII is the common case, checked a byte at a time: nothing to
// clean.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func badRune(r rune) bool {
	return r != '\t' && r != '\n' && r != '\r' && (unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF)
}
