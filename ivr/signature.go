// Package ivr is hotline's side of Twilio: it checks webhook signatures,
// builds TwiML and runs the call flow (menu, screened dials, escalation,
// voicemail), recording each call as an incident.
package ivr

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/client"
)

// MaxBody is the largest webhook body accepted; Twilio's are a few kB.
const MaxBody = 64 << 10

// lateOmissions are the parameter sets a signature that fails over every
// parameter is tried again without: a single public report says Twilio
// adds CallToken and StirVerstat to an incoming call after signing
// (README "Wiring Twilio"), so either one or both may be missing from
// what was signed. Nothing else is ever left out.
var lateOmissions = [][]string{{"CallToken"}, {"StirVerstat"}, {"CallToken", "StirVerstat"}}

// RequireSignature refuses any request whose X-Twilio-Signature does not
// match authToken over publicURL + path and query and the form parameters.
// When that fails on a request carrying CallToken or StirVerstat, the
// signature is checked again without those two; an acceptance that way is
// counted in m (hotline_signature_relaxed_total), a refusal either way in
// hotline_signature_failures_total by path. m may be nil.
// Bodies over MaxBody get 413 before anything else; refused requests reach
// no handler, so they write nothing. After the check, form values are made
// safe to store and speak (invalid UTF-8 and control characters replaced).
func RequireSignature(authToken, publicURL string, log zerolog.Logger, m *Metrics) func(http.Handler) http.Handler {
	base := strings.TrimRight(publicURL, "/")
	rv := client.NewRequestValidator(authToken)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > MaxBody {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
					return
				}
				log.Warn().Str("path", r.URL.Path).Err(err).Msg("twilio webhook: malformed form")
				http.Error(w, "malformed form", http.StatusBadRequest)
				return
			}
			full, sig := base+r.URL.RequestURI(), r.Header.Get("X-Twilio-Signature")
			if !rv.Validate(full, map[string]string{"": signedParams(r.PostForm, nil)}, sig) {
				if !validWithout(&rv, full, r.PostForm, sig) {
					m.signatureFailed(r.URL.Path)
					log.Warn().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("twilio webhook: bad or missing signature")
					http.Error(w, "invalid signature", http.StatusForbidden)
					return
				}
				m.signatureRelaxed()
				log.Info().Str("path", r.URL.Path).Msg("twilio webhook: signature valid only without CallToken and StirVerstat")
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

// validWithout reports whether sig is valid over full and form without
// one of lateOmissions, trying only the sets form wholly carries: at most
// three more HMACs, on a request that already failed.
func validWithout(rv *client.RequestValidator, full string, form url.Values, sig string) bool {
	for _, omit := range lateOmissions {
		carried := true
		for _, k := range omit {
			_, ok := form[k]
			carried = carried && ok
		}
		if carried && rv.Validate(full, map[string]string{"": signedParams(form, omit)}, sig) {
			return true
		}
	}
	return false
}

// signedParams is what a signature covers after the URL, as one string:
// each POST parameter's name and first value, names sorted byte-wise
// (docs/twilio.md §1.1), leaving out the names in omit.
// RequestValidator.Validate builds this string itself from a map, with one
// string += per parameter, twice, which made it the webhook path's largest
// allocation (BENCHMARKS.md). Given the finished string as the value of a
// single parameter with an empty name, Validate hashes exactly the same
// bytes; the HMAC, the port variants and the constant-time comparison stay
// the library's.
func signedParams(form url.Values, omit []string) string {
	keys := make([]string, 0, len(form))
	n := 0
	for k, vs := range form {
		if omit != nil && slices.Contains(omit, k) {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(vs[0])
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form[k][0])
	}
	return b.String()
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
