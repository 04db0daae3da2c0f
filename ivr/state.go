package ivr

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/routing"
)

// callState is what travels from webhook to webhook in the action URLs of a
// routed call: the team, its chain as resolved when the caller chose it, and
// where in the chain the call is.
//
// It travels sealed (see seal): the URLs Twilio calls back end up in every
// reverse proxy's access log, and the state holds the engineers' numbers
// and the caller's.
type callState struct {
	Team    string
	Chain   []routing.Step // Engineer, Name, Phone and Timeout travel; Source does not
	Step    int
	Pass    int
	Restart int    // how many times the chain was restarted after an unreadable state; part of the event keys
	From    string // the caller's number, spoken in the whisper
	// Call is the caller's CallSid, so the whisper's webhooks (on the
	// engineer's leg, with its own CallSid) find the incident even without
	// ParentCallSid.
	Call   string
	caller // language and customer, as the menu learned them
}

// key names a step of the chain for idempotent events: pass and step, and
// the restart when the call was rerouted after its state was lost.
func (s callState) key(kind string) string {
	k := kind
	if s.Restart > 0 {
		k += ":r" + strconv.Itoa(s.Restart)
	}
	return k + ":p" + strconv.Itoa(s.Pass) + ":s" + strconv.Itoa(s.Step)
}

// stateVersion is the first byte of a sealed state; the plaintext's layout
// is appendState's.
const stateVersion = 1

// stateLabel is HKDF's info for the state key, so the auth token's other use
// (Twilio's HMAC-SHA1 signatures) never meets the same key.
const stateLabel = "hotline call state v1"

// stateAAD binds the ciphertext to its format version.
var stateAAD = []byte{stateVersion}

// stateCipher is AES-256-GCM keyed by HKDF-SHA256 over the auth token, with
// a random 96-bit nonce per Seal (prepended to the ciphertext). Every
// instance with the same token derives the same key, so any instance can
// open any URL, across restarts and config reloads. Random nonces are safe
// for 2^32 seals per key: about 400 million calls of ten URLs each.
func stateCipher(authToken string) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, []byte(authToken), nil, stateLabel, 32)
	if err != nil {
		panic("ivr: derive the state key: " + err.Error()) // only for a length SHA-256 cannot give
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("ivr: state cipher: " + err.Error()) // only for a key that is not 16, 24 or 32 bytes
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("ivr: state cipher: " + err.Error()) // only for a cipher aes.NewCipher did not make
	}
	return aead
}

// sealState returns st sealed as the only query parameter of a callback
// URL, s: version byte, nonce, ciphertext and tag, base64url without
// padding. Nothing in it is readable without the auth token — no number,
// no name. A response whose URLs carry the same state seals it once and
// builds each with stateURL.
func (f *Flow) sealState(st callState) string {
	plain := appendState(make([]byte, 0, 192), st)
	sealed := f.aead.Seal(append(make([]byte, 0, 1+len(plain)+f.aead.Overhead()), stateVersion), nil, plain, stateAAD)
	b := make([]byte, 0, 2+base64.RawURLEncoding.EncodedLen(len(sealed)))
	b = append(b, "s="...)
	return string(base64.RawURLEncoding.AppendEncode(b, sealed))
}

// stateURL is path on the public URL with the sealed state q (sealState).
func (f *Flow) stateURL(path, q string) string {
	return f.publicURL + path + "?" + q
}

// state reads the call state from a webhook's URL: the sealed s, or the
// plain query hotline wrote before states were sealed (see legacyState).
// ok is false when the URL holds no state hotline can read: sealed under
// another auth token (it was rotated during the call), tampered with, or
// none at all. The handlers then fail open, never with a 5xx.
func (f *Flow) state(r *http.Request) (callState, bool) {
	if v, ok := sealedQuery(r); ok {
		return f.openState(v)
	}
	return legacyState(r.URL.Query())
}

// sealedQuery returns the sealed state of a URL hotline wrote with
// stateURL: s as its only parameter.
func sealedQuery(r *http.Request) (string, bool) {
	v, ok := strings.CutPrefix(r.URL.RawQuery, "s=")
	return v, ok && !strings.ContainsAny(v, "&;")
}

// openState decrypts and decodes a sealed state.
func (f *Flow) openState(v string) (callState, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < 1 || raw[0] != stateVersion {
		return callState{}, false
	}
	plain, err := f.aead.Open(nil, nil, raw[1:], stateAAD)
	if err != nil {
		return callState{}, false
	}
	return decodeState(string(plain))
}

// appendState appends st's plaintext: uvarints Step, Pass and Restart; the
// strings Team, From, Lang and Customer; the chain's length, then each
// step's Engineer, Name and Phone and its timeout in seconds; then, when
// set, the string Call (states sealed before it existed end after the
// chain, and still open). A string is its length as a uvarint, then its
// bytes.
func appendState(b []byte, st callState) []byte {
	b = binary.AppendUvarint(b, uint64(st.Step))
	b = binary.AppendUvarint(b, uint64(st.Pass))
	b = binary.AppendUvarint(b, uint64(st.Restart))
	for _, s := range [...]string{st.Team, st.From, st.Lang, st.Customer} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Chain)))
	for _, s := range st.Chain {
		b = appendString(b, s.Engineer)
		b = appendString(b, s.Name)
		b = appendString(b, s.Phone)
		b = binary.AppendUvarint(b, uint64(s.Timeout/time.Second))
	}
	if st.Call != "" {
		b = appendString(b, st.Call)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// stateReader decodes appendState's layout from a string, so every field
// is a substring of one allocation. Past the end or on a bad length it
// records the failure and yields zeros.
type stateReader struct {
	s   string
	bad bool
}

func (r *stateReader) uint(limit uint64) int {
	var v uint64
	for i := 0; i < len(r.s) && i < maxUvarintBytes; i++ {
		c := r.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if v > limit {
				break
			}
			r.s = r.s[i+1:]
			return int(v)
		}
	}
	r.bad = true
	return 0
}

// maxUvarintBytes bounds a uvarint in a state: 4 bytes hold 2^28, more than
// any counter or length in one.
const maxUvarintBytes = 4

func (r *stateReader) str() string {
	n := r.uint(uint64(len(r.s)))
	if r.bad || n > len(r.s) {
		r.bad = true
		return ""
	}
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}

// maxCounter bounds Step, Pass, Restart and a timeout in a decoded state.
const maxCounter = 1 << 20

func decodeState(plain string) (callState, bool) {
	r := &stateReader{s: plain}
	st := callState{Step: r.uint(maxCounter), Pass: r.uint(maxCounter), Restart: r.uint(maxCounter)}
	st.Team, st.From, st.Lang, st.Customer = r.str(), r.str(), r.str(), r.str()
	n := r.uint(uint64(len(r.s) / 4)) // a step takes at least 4 bytes
	if r.bad {
		return callState{}, false
	}
	st.Chain = make([]routing.Step, n)
	for i := range st.Chain {
		s := &st.Chain[i]
		s.Engineer, s.Name, s.Phone = r.str(), r.str(), r.str()
		s.Timeout = time.Duration(r.uint(maxCounter)) * time.Second
		if s.Timeout <= 0 {
			r.bad = true
		}
	}
	if r.s != "" && !r.bad {
		st.Call = r.str()
	}
	if r.bad || r.s != "" || st.Team == "" {
		return callState{}, false
	}
	return st, true
}

// legacyState reads the plain query of action URLs written by hotline before
// call states were sealed (team, c=engineer|phone|seconds per step, step,
// pass, from, lang, cust). It is accepted for one release, so calls in
// progress during the upgrade (4 h at most) finish on their chain; nothing
// writes it any more. The URL was signed by Twilio, so a malformed one is a
// bug or a forgery; it yields ok false.
func legacyState(q url.Values) (callState, bool) {
	s := callState{Team: q.Get("team"), From: q.Get("from"), caller: callerFrom(q)}
	var err error
	if s.Step, err = strconv.Atoi(q.Get("step")); err != nil || s.Step < 0 {
		return s, false
	}
	if s.Pass, err = strconv.Atoi(q.Get("pass")); err != nil || s.Pass < 0 {
		return s, false
	}
	for _, c := range q["c"] {
		parts := strings.Split(c, "|")
		if len(parts) != 3 {
			return s, false
		}
		secs, err := strconv.Atoi(parts[2])
		if err != nil || secs <= 0 {
			return s, false
		}
		s.Chain = append(s.Chain, routing.Step{Engineer: parts[0], Phone: parts[1], Timeout: time.Duration(secs) * time.Second})
	}
	return s, s.Team != ""
}
