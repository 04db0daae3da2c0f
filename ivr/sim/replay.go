package sim

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// sidParams are the parameters whose values are call SIDs: the ones a
// replay replaces with fresh SIDs, wherever else they occur.
var sidParams = []string{"CallSid", "ParentCallSid", "DialCallSid"}

// Sequence is the webhooks of one recorded call, kept so the same call can
// be played again and again as new calls, each with fresh call SIDs: the
// request mix of a load test. It is safe for concurrent use.
type Sequence struct {
	steps []seqStep
	sids  []string // the recorded call SIDs, in order of first appearance
}

// seqStep is one recorded webhook, pre-encoded: the body and the string the
// signature is computed over, with the recorded SIDs still in them. SIDs are
// alphanumeric, so URL encoding leaves them as they are and substituting
// them in the encoded text equals encoding the substituted parameters.
type seqStep struct {
	name    string // path without the query, e.g. /twilio/menu
	method  string
	path    string // path and query; for GET with the parameters appended
	body    string // the encoded form; empty for GET
	signing string // the text after the URL that the signature covers
	params  url.Values
	// resort marks a parameter with several values one of which holds a
	// SID: Sign sorts values, and a substitution may change their order,
	// so this step is signed from its substituted parameters instead.
	resort bool
}

// NewSequence keeps reqs (a Result's Requests, in order) for replay. Every
// request must have had a response, at least one must carry a CallSid, and
// the call SIDs (the values of CallSid, ParentCallSid and DialCallSid) must
// be alphanumeric.
func NewSequence(reqs []Request) (*Sequence, error) {
	if len(reqs) == 0 {
		return nil, errors.New("sim: sequence: no requests")
	}
	s := &Sequence{}
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.Status == 0 {
			return nil, fmt.Errorf("sim: sequence: %s %s got no response", r.Method, r.Path)
		}
		for _, k := range sidParams {
			for _, v := range r.Params[k] {
				if v == "" || seen[v] {
					continue
				}
				if strings.Trim(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
					return nil, fmt.Errorf("sim: sequence: %s %q is not alphanumeric", k, v)
				}
				seen[v] = true
				s.sids = append(s.sids, v)
			}
		}
	}
	if len(s.sids) == 0 {
		return nil, errors.New("sim: sequence: no CallSid in any request")
	}
	for _, r := range reqs {
		s.steps = append(s.steps, s.compile(r))
	}
	return s, nil
}

func (s *Sequence) compile(r Request) seqStep {
	name, _, _ := strings.Cut(r.Path, "?")
	st := seqStep{name: name, method: r.Method, path: r.Path, params: url.Values(r.Params)}
	if st.method == "" {
		st.method = http.MethodPost
	}
	enc := st.params.Encode()
	if st.method == http.MethodGet {
		// As Twilio does (and Twilio.send): the parameters go in the query,
		// which the signature covers; there is no body.
		if enc != "" {
			sep := "?"
			if strings.Contains(st.path, "?") {
				sep = "&"
			}
			st.path += sep + enc
		}
		return st
	}
	st.body = enc
	keys := make([]string, 0, len(st.params))
	for k := range st.params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), st.params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
			if len(vs) > 1 && s.hasSID(v) {
				st.resort = true
			}
		}
	}
	st.signing = b.String()
	return st
}

func (s *Sequence) hasSID(v string) bool {
	for _, sid := range s.sids {
		if strings.Contains(v, sid) {
			return true
		}
	}
	return false
}

// Len is the number of webhooks in one call.
func (s *Sequence) Len() int { return len(s.steps) }

// Name is step i's path without its query, e.g. /twilio/whisper/answer.
func (s *Sequence) Name(i int) string { return s.steps[i].name }

// SIDs returns the recorded call SIDs, in order of first appearance: the
// parent call's first, then its child legs'.
func (s *Sequence) SIDs() []string { return append([]string(nil), s.sids...) }

// Webhook is one request of a replayed call, ready to sign and send.
type Webhook struct {
	Name   string // the path without its query
	Method string
	Path   string // path and query (for GET, with the parameters)
	Body   string // the encoded form (empty for GET)
	// Params are the form parameters after substitution (nil for the
	// webhooks Play builds, when the signature does not need them).
	Params url.Values
	// signing is what the signature covers after the URL ("" when the
	// step must be signed from Params).
	signing string
}

// Substitute returns every webhook of the call with each recorded SID
// (SIDs()[j]) replaced by sids[j] wherever it occurs: in parameter values,
// the body and the path. sids must be alphanumeric and as many as SIDs().
func (s *Sequence) Substitute(sids []string) ([]Webhook, error) {
	if len(sids) != len(s.sids) {
		return nil, fmt.Errorf("sim: sequence: %d SIDs given, the call has %d", len(sids), len(s.sids))
	}
	out := make([]Webhook, len(s.steps))
	for i := range s.steps {
		out[i] = s.webhook(i, sids, true)
	}
	return out, nil
}

// webhook substitutes sids into step i. Params are built only when asked
// for or needed for the signature: a load generator should not pay for a
// map per request.
func (s *Sequence) webhook(i int, sids []string, withParams bool) Webhook {
	st := &s.steps[i]
	w := Webhook{Name: st.name, Method: st.method, Path: st.path, Body: st.body, signing: st.signing}
	if withParams || st.resort {
		w.Params = make(url.Values, len(st.params))
		for k, vs := range st.params {
			nv := make([]string, len(vs))
			for j, v := range vs {
				nv[j] = s.replace(v, sids)
			}
			w.Params[k] = nv
		}
	}
	w.Path = s.replace(w.Path, sids)
	w.Body = s.replace(w.Body, sids)
	if st.resort {
		w.signing = ""
	} else {
		w.signing = s.replace(w.signing, sids)
	}
	return w
}

func (s *Sequence) replace(v string, sids []string) string {
	for j, old := range s.sids {
		if strings.Contains(v, old) {
			v = strings.ReplaceAll(v, old, sids[j])
		}
	}
	return v
}

// Signature is X-Twilio-Signature of w sent to publicURL (no trailing
// slash) under authToken; it equals Sign over the full URL and Params.
func (w Webhook) Signature(authToken, publicURL string) string {
	full := publicURL + w.Path
	if w.Method == http.MethodGet {
		return Sign(authToken, full, nil)
	}
	if w.signing == "" && len(w.Params) > 0 {
		return Sign(authToken, full, w.Params)
	}
	m := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(m, full)
	io.WriteString(m, w.signing)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Replayer plays a Sequence against a server as new calls, signing each
// webhook as Twilio would. It is safe for concurrent use.
type Replayer struct {
	// BaseURL is where requests are sent; PublicURL is the URL signatures
	// are computed over (empty means BaseURL).
	BaseURL, PublicURL string
	// AuthToken keys X-Twilio-Signature.
	AuthToken string
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Pause is slept between the webhooks of a call, as the seconds of a
	// real call pass between them; zero sends them back to back.
	Pause time.Duration
}

// Played is the outcome of one webhook of a replayed call.
type Played struct {
	CallSid string // the new call's SID (the replacement of SIDs()[0])
	Step    int    // index in the Sequence
	Name    string // path without query
	Latency time.Duration
	Status  int   // HTTP status; 0 when no response arrived
	Err     error // transport error or non-2xx status
}

// Play sends one new call: every webhook of seq in order, with fresh call
// SIDs, reading each answer to the end. observe (which may be nil) sees
// each webhook's outcome; returning false ends the call after it. The call
// also ends at the first webhook that fails, whose error Play returns, and
// when ctx is done. Play reports how many webhooks got a 2xx answer.
func (r *Replayer) Play(ctx context.Context, seq *Sequence, observe func(Played) bool) (int, error) {
	sids := make([]string, len(seq.sids))
	for i, old := range seq.sids {
		prefix := old[:min(2, len(old))]
		sids[i] = newSid(prefix)
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	base := strings.TrimSuffix(r.BaseURL, "/")
	public := strings.TrimSuffix(r.PublicURL, "/")
	if public == "" {
		public = base
	}
	done := 0
	for i := range seq.steps {
		if i > 0 && r.Pause > 0 {
			t := time.NewTimer(r.Pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return done, ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		w := seq.webhook(i, sids, false)
		p := Played{CallSid: sids[0], Step: i, Name: w.Name}
		start := time.Now()
		p.Status, p.Err = r.send(ctx, client, base, public, w)
		p.Latency = time.Since(start)
		if p.Err == nil {
			done++
		}
		if observe != nil && !observe(p) {
			return done, p.Err
		}
		if p.Err != nil {
			return done, p.Err
		}
	}
	return done, nil
}

// send sends w and reads its answer; a non-2xx status is an error.
func (r *Replayer) send(ctx context.Context, client *http.Client, base, public string, w Webhook) (int, error) {
	var body io.Reader
	if w.Method != http.MethodGet {
		body = strings.NewReader(w.Body)
	}
	req, err := http.NewRequestWithContext(ctx, w.Method, base+w.Path, body)
	if err != nil {
		return 0, fmt.Errorf("sim: replay %s: %w", w.Name, err)
	}
	if w.Method != http.MethodGet {
		req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	}
	req.Header["Accept"] = []string{"*/*"}
	req.Header["User-Agent"] = []string{"TwilioProxy/1.1"}
	req.Header["X-Twilio-Signature"] = []string{w.Signature(r.AuthToken, public)}
	req.Header["I-Twilio-Idempotency-Token"] = []string{newToken()}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("sim: replay %s: %w", w.Name, err)
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return resp.StatusCode, fmt.Errorf("sim: replay %s: read body: %w", w.Name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("sim: replay %s: status %d", w.Name, resp.StatusCode)
	}
	return resp.StatusCode, nil
}
