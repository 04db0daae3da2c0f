package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/incident"
)

// RecordingProxy fetches call recordings from Twilio with the account's
// credentials, so a manager's browser never needs them (README "Web page").
// The credentials go only to a recording's own media URL on the Twilio
// origin over https: a stored URL naming another resource of the account
// (its calls, messages, the recording list) is refused, and a redirect is
// followed without them, and never to plain http.
type RecordingProxy struct {
	// AccountSID and AuthToken sign the request (HTTP Basic). An empty
	// AccountSID is read from the recording URL, which names the account.
	AccountSID, AuthToken string
	// Client fetches; nil means one with a 60 s timeout. Its redirect
	// policy is replaced by the proxy's.
	Client *http.Client
	// Base is the only origin recordings are fetched from: a scheme and
	// host, https, or http to a loopback host (127.0.0.0/8, ::1,
	// localhost); empty means https://api.twilio.com. A recording stored
	// at https://api.twilio.com (as Twilio gives it) or at Base is fetched
	// from Base at the same path (HOTLINE_TWILIO_API_URL, for local fakes).
	Base string
}

// recordingPath is the one path of Twilio's API the proxy fetches: a
// recording's media, WAV without an extension, or as .mp3 or .wav.
var recordingPath = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Recordings/RE[0-9a-fA-F]{32}(\.mp3|\.wav)?$`)

// maxRecordingRedirects bounds the hops to the stored media.
const maxRecordingRedirects = 3

// errNotTwilio is a recording URL outside Base, or not a recording.
var errNotTwilio = errors.New("web: not a recording's URL on the Twilio API")

// request builds the upstream request for a stored recording URL, passing
// on a Range header so the player can seek. The URL must be exactly a
// recording's media on Base (no query, no user, no dot segments or escapes
// in its path); the request is rebuilt from the parts that matched.
func (p *RecordingProxy) request(ctx context.Context, recording string, rng string) (*http.Request, error) {
	base := p.Base
	if base == "" {
		base = "https://api.twilio.com"
	}
	b, err := url.Parse(base)
	if err != nil || b.Host == "" || strings.Trim(b.Path, "/") != "" || !(b.Scheme == "https" || b.Scheme == "http" && loopbackHost(b.Hostname())) {
		return nil, fmt.Errorf("web: recording origin %q is not https (nor http to a loopback host)", base)
	}
	u, err := url.Parse(recording)
	onTwilio := err == nil && u.Scheme == "https" && u.Host == "api.twilio.com"
	if err != nil || !onTwilio && (u.Scheme != b.Scheme || u.Host != b.Host) || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || u.RawPath != "" {
		return nil, errNotTwilio
	}
	m := recordingPath.FindStringSubmatch(u.Path)
	if m == nil {
		return nil, errNotTwilio
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.Scheme+"://"+b.Host+m[0], nil)
	if err != nil {
		return nil, err
	}
	sid := p.AccountSID
	if sid == "" {
		sid = m[1]
	}
	req.SetBasicAuth(sid, p.AuthToken)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	return req, nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// client is the configured client with the proxy's redirect policy.
func (p *RecordingProxy) client() *http.Client {
	c := http.Client{Timeout: 60 * time.Second}
	if p.Client != nil {
		c = *p.Client
	}
	c.CheckRedirect = withoutCredentials
	return &c
}

// withoutCredentials follows a redirect (Twilio may hand the media to a
// storage host) only to https, and drops the account's credentials from
// it whatever its host or path: Go drops them only for another host name,
// and keeps them for another port or path of the same one.
func withoutCredentials(req *http.Request, via []*http.Request) error {
	if len(via) > maxRecordingRedirects {
		return fmt.Errorf("web: recording: more than %d redirects", maxRecordingRedirects)
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("web: recording: redirect to %s refused", req.URL.Scheme)
	}
	req.Header.Del("Authorization")
	return nil
}

// handleRecording serves /incidents/{id}/recording: the audio of the call's
// voicemail, streamed from Twilio.
func (s *Site) handleRecording() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := s.Incidents.Incident(r.Context(), pathID(r))
		if errors.Is(err, incident.ErrNotFound) || (err == nil && in.RecordingURL == nil) {
			http.Error(w, "no recording for this call", http.StatusNotFound)
			return
		}
		if err != nil || s.Recordings == nil {
			s.Log.Error().Err(err).Msg("web: recording")
			http.Error(w, "recordings are unavailable", http.StatusServiceUnavailable)
			return
		}
		req, err := s.Recordings.request(r.Context(), *in.RecordingURL, r.Header.Get("Range"))
		if err != nil {
			s.Log.Error().Err(err).Int64("incident", in.ID).Msg("web: recording URL refused")
			http.Error(w, "this recording cannot be fetched", http.StatusBadGateway)
			return
		}
		resp, err := s.Recordings.client().Do(req)
		if err != nil {
			s.Log.Error().Err(err).Int64("incident", in.ID).Msg("web: fetch recording")
			http.Error(w, "Twilio did not answer", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			http.Error(w, "Twilio has no such recording (yet, or any more)", http.StatusNotFound)
			return
		case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent &&
			resp.StatusCode != http.StatusRequestedRangeNotSatisfiable:
			s.Log.Error().Int("status", resp.StatusCode).Int64("incident", in.ID).Msg("web: fetch recording")
			http.Error(w, "Twilio refused the recording", http.StatusBadGateway)
			return
		}
		h := w.Header()
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"} {
			if v := resp.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "audio/") {
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Cache-Control", "private, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
}
