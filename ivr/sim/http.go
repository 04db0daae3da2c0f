package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// maxBody is Twilio's TwiML size limit (error 11750).
const maxBody = 64 << 10

// Sign computes X-Twilio-Signature (docs/twilio.md §1.1): base64 of the
// HMAC-SHA1, keyed by authToken, of fullURL followed by every parameter's
// name and value, names sorted byte-wise. Pass nil params for GET requests,
// whose parameters are already in the URL.
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Post sends one correctly signed form POST to PublicURL+pathAndQuery (over
// BaseURL) with a fresh idempotency token, as Twilio sends a webhook. The
// returned response's body is already read into the []byte and closed.
func (t *Twilio) Post(ctx context.Context, pathAndQuery string, params url.Values) (*http.Response, []byte, error) {
	return t.send(ctx, http.MethodPost, t.public()+pathAndQuery, params, newToken())
}

// Replay sends a recorded request again with the same URL, parameters and
// idempotency token, as Twilio does when it retries a webhook.
func (t *Twilio) Replay(ctx context.Context, r Request) (*http.Response, []byte, error) {
	return t.send(ctx, r.Method, r.URL, url.Values(r.Params), r.Token)
}

func (t *Twilio) public() string {
	if t.PublicURL != "" {
		return strings.TrimSuffix(t.PublicURL, "/")
	}
	return strings.TrimSuffix(t.BaseURL, "/")
}

func (t *Twilio) accountSid() string {
	if t.AccountSid != "" {
		return t.AccountSid
	}
	return DefaultAccountSid
}

func (t *Twilio) client() *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return defaultClient
}

var defaultClient = &http.Client{Timeout: 15 * time.Second}

// send signs and sends one request to fullURL (a URL as Twilio knows it),
// rewriting a PublicURL prefix to BaseURL. Like Twilio it retries once, with
// the same token, when the TCP connection could not be made.
func (t *Twilio) send(ctx context.Context, method, fullURL string, params url.Values, token string) (*http.Response, []byte, error) {
	target := fullURL
	if pub := t.public(); strings.HasPrefix(fullURL, pub) {
		target = strings.TrimSuffix(t.BaseURL, "/") + strings.TrimPrefix(fullURL, pub)
	}
	var body []byte
	signed := fullURL
	sigParams := params
	if method == http.MethodGet {
		// Twilio appends the parameters to the query and signs the result.
		if enc := params.Encode(); enc != "" {
			sep := "?"
			if strings.Contains(fullURL, "?") {
				sep = "&"
			}
			signed = fullURL + sep + enc
			target += sep + enc
		}
		sigParams = nil
	} else {
		body = []byte(params.Encode())
	}
	if t.CallTokenUnsigned && (params.Has("CallToken") || params.Has("StirVerstat")) {
		sigParams = maps.Clone(sigParams)
		delete(sigParams, "CallToken")
		delete(sigParams, "StirVerstat")
	}
	sig := Sign(t.AuthToken, signed, sigParams)
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("sim: %s %s: %w", method, fullURL, err)
		}
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "*/*")
		req.Header.Set("User-Agent", "TwilioProxy/1.1")
		req.Header.Set("X-Twilio-Signature", sig)
		req.Header.Set("I-Twilio-Idempotency-Token", token)
		resp, err := t.client().Do(req)
		if err != nil {
			lastErr = err
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" && ctx.Err() == nil {
				continue
			}
			break
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			return resp, data, fmt.Errorf("sim: %s %s: read body: %w", method, fullURL, err)
		}
		return resp, data, nil
	}
	return nil, nil, fmt.Errorf("sim: %s %s: %w", method, fullURL, lastErr)
}

// newToken returns a random UUID (version 4) for I-Twilio-Idempotency-Token.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newSid returns a Twilio SID: a two-letter prefix and 32 hex digits.
func newSid(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
