package notify

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// HandleStatus serves a text's status callback (<public URL>/twilio/text-status,
// behind the signature check): MessageSid, MessageStatus and ErrorCode,
// with the outbox row as the query "sms". It answers 200 with an empty
// body, for a text that is not the outbox's too (Twilio ignores the body,
// docs/twilio.md §3.8), and 503 only when the database fails, never 500.
func (o *Outbox) HandleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := Status{
			SID:       first(r.PostFormValue("MessageSid"), r.PostFormValue("SmsSid")),
			Status:    first(r.PostFormValue("MessageStatus"), r.PostFormValue("SmsStatus")),
			ErrorCode: r.PostFormValue("ErrorCode"),
		}
		// A malformed id names no row: the SID alone is then looked up.
		st.Outbox, _ = strconv.ParseInt(r.URL.Query().Get("sms"), 10, 64)
		ours, err := o.RecordStatus(r.Context(), st)
		if err != nil {
			o.log.Error().Err(err).Str("twilio_sid", st.SID).Msg("sms status callback")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		// Counted once taken: a 503 that Twilio retries counts once.
		o.countStatus(st.Status)
		if !ours {
			o.log.Info().Str("twilio_sid", st.SID).Str("status", st.Status).Msg("sms status callback for a text the outbox did not send")
		}
		w.WriteHeader(http.StatusOK)
	})
}

// Commands acts on a text that is no STOP or START word (an engineer's
// "ack" to a page) and returns the answer to text back, "" for none.
type Commands func(ctx context.Context, from, body string) (string, error)

// HandleReply serves the texts that come in to the SMS number
// (<public URL>/twilio/sms, its "A message comes in" webhook, behind the
// signature check): a STOP word opts the sender out, a START word back in
// (Reply), and anything else goes to commands (nil: none), whose answer is
// texted back. It answers an empty <Response/> otherwise: Twilio sends the
// standard opt-out and opt-in answers itself.
func (o *Outbox) HandleReply(commands Commands) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from := r.PostFormValue("From")
		change, err := o.Reply(r.Context(), from, r.PostFormValue("Body"))
		answer := ""
		if err == nil && change == "" && commands != nil {
			answer, err = commands(r.Context(), from, r.PostFormValue("Body"))
		}
		if err != nil {
			o.log.Error().Err(err).Str("from", mask(from)).Msg("sms reply")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if change != "" {
			o.log.Info().Str("from", mask(from)).Str("change", change).Msg("sms opt-out changed")
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if answer == "" {
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response/>`))
			return
		}
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(answer))
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>` + b.String() + `</Message></Response>`))
	})
}

// first returns a, or b when a is empty (Twilio still sends the older
// SmsSid and SmsStatus names beside MessageSid and MessageStatus).
func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
