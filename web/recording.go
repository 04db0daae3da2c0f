package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/routing"
)

// RecordingProxy fetches call recordings from Twilio with the account's
// credentials, so a manager's browser never needs them (SPEC section 10).
type RecordingProxy struct {
	// AccountSID and AuthToken sign the request (HTTP Basic). An empty
	// AccountSID is read from the recording URL, which names the account.
	AccountSID, AuthToken string
	// Client fetches; nil means one with a 60 s timeout.
	Client *http.Client
	// Base is the only origin recordings are fetched from, so a stored URL
	// can never make hotline call elsewhere with its credentials; empty
	// means https://api.twilio.com. Tests point it at a fake.
	Base string
}

var accountInPath = regexp.MustCompile(`/Accounts/(AC[0-9a-fA-F]{32})/`)

// errNotTwilio is a recording URL outside Base.
var errNotTwilio = errors.New("web: recording is not on the Twilio API")

// request builds the upstream request for a stored recording URL, passing
// on a Range header so the player can seek.
func (p *RecordingProxy) request(ctx context.Context, recording string, rng string) (*http.Request, error) {
	base := p.Base
	if base == "" {
		base = "https://api.twilio.com"
	}
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(recording)
	if err != nil || u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil {
		return nil, errNotTwilio
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	sid := p.AccountSID
	if sid == "" {
		if m := accountInPath.FindStringSubmatch(u.Path); m != nil {
			sid = m[1]
		}
	}
	req.SetBasicAuth(sid, p.AuthToken)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	return req, nil
}

// handleRecording serves /incidents/{id}/recording: the audio of the call's
// voicemail, streamed from Twilio.
func (s *Site) handleRecording() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := s.Incidents.Incident(r.Context(), pathID(r))
		if errors.Is(err, routing.ErrNotFound) || (err == nil && in.RecordingURL == nil) {
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
		client := s.Recordings.Client
		if client == nil {
			client = &http.Client{Timeout: 60 * time.Second}
		}
		resp, err := client.Do(req)
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
