package main

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	messaging "github.com/twilio/twilio-go/rest/messaging/v1"

	"github.com/hotline-dev/hotline/config"
)

// The levels of a finding: a fail is something that stops calls or texts.
const (
	levelOK   = "ok"
	levelWarn = "warn"
	levelFail = "fail"
)

// finding is one result of the Twilio preflight. Its text names no
// engineer's phone number, so serve may log it at any level.
type finding struct {
	level string
	check string // number, webhooks, caller_name, dialing or texts
	what  string
	fix   string // how to fix it; empty when nothing needs doing
}

func (f finding) String() string {
	s := fmt.Sprintf("%-4s %s: %s", f.level, f.check, f.what)
	if f.fix != "" {
		s += "; to fix: " + f.fix
	}
	return s
}

// preflight gathers the findings of one run of the checks.
type preflight struct {
	rest   *twilio.RestClient
	sid    string // the account
	cfg    *config.Config
	public string // the public URL as given, perhaps empty
	found  []finding
}

func (p *preflight) add(level, check, what, fix string) {
	p.found = append(p.found, finding{level: level, check: check, what: what, fix: fix})
}

// twilioFindings checks that the account and the config agree on what
// calls and texts need (docs/twilio.md §8.8, §8.9) and returns one finding
// per check, in the order printed. Each request is bounded by the client's
// context and timeout (newTwilioClient).
func twilioFindings(rest *twilio.RestClient, sid string, cfg *config.Config, public string) []finding {
	p := &preflight{rest: rest, sid: sid, cfg: cfg, public: public}
	n, err := p.number()
	if err != nil && authHint(err) != "" {
		// Every other request would be refused the same way.
		return p.found
	}
	if n != nil {
		p.webhooks(n)
		p.callerName(n)
	}
	p.dialing()
	p.texts(n)
	return p.found
}

// number finds hotline.number among the account's numbers.
func (p *preflight) number() (*openapi.ApiV2010IncomingPhoneNumber, error) {
	num := p.cfg.Hotline.Number
	n, err := findNumber(p.rest.Api, p.sid, num)
	switch {
	case errors.Is(err, errNotAccountNumber):
		p.add(levelFail, "number", "hotline.number "+err.Error(),
			"set hotline.number to one of the console's Phone Numbers > Active numbers, or TWILIO_ACCOUNT_SID to the account (or subaccount) that owns it")
	case err != nil:
		p.add(levelFail, "number", err.Error(), "")
	default:
		p.add(levelOK, "number", fmt.Sprintf("hotline.number is %s of account %s", deref(n.Sid), p.sid), "")
	}
	return n, err
}

// numberHandler names what takes the number's calls instead of its Voice
// URL (a voice application or a SIP trunk), or is empty.
func numberHandler(n *openapi.ApiV2010IncomingPhoneNumber) string {
	switch app, trunk := deref(n.VoiceApplicationSid), deref(n.TrunkSid); {
	case app != "":
		return "the voice application " + app
	case trunk != "":
		return "the SIP trunk " + trunk
	}
	return ""
}

// webhooks compares the number's voice settings with those `twilio
// configure` would give it.
func (p *preflight) webhooks(n *openapi.ApiV2010IncomingPhoneNumber) {
	num := p.cfg.Hotline.Number
	if h := numberHandler(n); h != "" {
		p.add(levelFail, "webhooks", fmt.Sprintf("calls to %s go to %s, so Twilio ignores its Voice URL", num, h),
			`in the Twilio console, set the number's "A call comes in" to "Webhook", then run hotline twilio configure --number `+num+" --public-url …")
		return
	}
	if p.public == "" {
		p.add(levelWarn, "webhooks", "the number's Voice URL, Status Callback and Voice Fallback URL were not checked: no public URL",
			"give --public-url (or HOTLINE_PUBLIC_URL), the URL Twilio reaches hotline at")
		return
	}
	base, err := checkPublicURL(p.public, true)
	if err != nil {
		p.add(levelFail, "webhooks", "public URL: "+err.Error(), "give the public URL exactly as hotline serve is given it")
		return
	}
	if strings.HasPrefix(base, "http:") {
		p.add(levelWarn, "webhooks", "the public URL "+base+" is http: Twilio sends every webhook, signed with your auth token, in the clear",
			"put hotline behind https")
	}
	want := wantedSettings(base)
	var diffs []string
	for i, have := range currentSettings(n) {
		if have.value != want[i].value {
			diffs = append(diffs, fmt.Sprintf("%s is %s, not %s", have.name, orNone(have.value), want[i].value))
		}
	}
	if len(diffs) > 0 {
		p.add(levelFail, "webhooks", strings.Join(diffs, "; "),
			fmt.Sprintf("run hotline twilio configure --number %s --public-url %s", num, base))
		return
	}
	p.add(levelOK, "webhooks", "Voice URL, Status Callback and Voice Fallback URL point at "+base+" with POST", "")
}

// callerName says where callers' names come from (docs/twilio.md §8.6).
func (p *preflight) callerName(n *openapi.ApiV2010IncomingPhoneNumber) {
	if n.VoiceCallerIdLookup != nil && *n.VoiceCallerIdLookup {
		p.add(levelOK, "caller_name", "callers' names come from the config's customers for known callers, else from Twilio's caller-name (CNAM) lookup, for US callers, billed per call", "")
		return
	}
	p.add(levelWarn, "caller_name", "caller-name lookup (VoiceCallerIdLookup) is off: Twilio sends no CallerName, so callers' names come from the config's customers alone and other callers show as their number",
		"turn on Caller ID Lookup for the number in the Twilio console if you want them (a paid CNAM lookup, US callers only)")
}

// dialing checks that every number hotline rings can be dialled: not in
// the 555 exchange, and in a country the Voice dialing permissions enable.
// It asks once per country, however many engineers are there.
func (p *preflight) dialing() {
	type target struct{ who, number string }
	var targets []target
	for _, e := range p.cfg.Engineers {
		targets = append(targets, target{fmt.Sprintf("engineer %s (%s)", e.ID, e.Name), e.Phone})
	}
	if num := p.cfg.Hotline.EmergencyNumber; num != "" {
		targets = append(targets, target{"hotline.emergency_number", num})
	}
	byCountry := map[string][]string{}
	for _, t := range targets {
		if in555Exchange(t.number) {
			p.add(levelFail, "dialing", t.who+": the number is in the US 555 exchange, which Twilio cannot dial (error 13224)",
				"give a real number in the config: 555 numbers are fictional")
			continue
		}
		iso, ok := numberCountry(t.number)
		if !ok {
			p.add(levelWarn, "dialing", t.who+": cannot tell which country the number is in, so its dialing permission was not checked",
				"check the number in the config, and its country in the console's Voice > Settings > Geo permissions")
			continue
		}
		byCountry[iso] = append(byCountry[iso], t.who)
	}
	for _, iso := range slices.Sorted(maps.Keys(byCountry)) {
		whos := strings.Join(byCountry[iso], ", ")
		c, err := p.rest.VoiceV1.FetchDialingPermissionsCountry(iso)
		if err != nil {
			p.add(levelFail, "dialing", fmt.Sprintf("could not read the dialing permissions for %s (%s): %v%s", iso, whos, err, authHint(err)), "")
			continue
		}
		name := deref(c.Name)
		if name == "" {
			name = iso
		}
		if c.LowRiskNumbersEnabled == nil || !*c.LowRiskNumbersEnabled {
			for _, who := range byCountry[iso] {
				p.add(levelFail, "dialing", fmt.Sprintf("%s: calls to %s (%s) are not enabled in Voice dialing permissions, so every call to this number fails", who, name, iso),
					"enable "+name+" in the Twilio console's Voice > Settings > Geo permissions")
			}
			continue
		}
		p.add(levelOK, "dialing", fmt.Sprintf("%s (%s) is enabled in Voice dialing permissions, for %s", name, iso, whos), "")
	}
}

// texts checks the sender of texts (Hotline.TextSender): a Messaging
// Service must be the account's, a toll-free number verified, and a local
// US number registered for A2P 10DLC (docs/twilio.md §8.9). n is the
// support number as found, or nil.
func (p *preflight) texts(n *openapi.ApiV2010IncomingPhoneNumber) {
	h := p.cfg.Hotline
	sender := h.TextSender()
	if h.MessagingServiceSID != "" {
		p.messagingService(sender)
		return
	}
	key := "hotline.number"
	if h.SMSFrom != "" {
		key = "hotline.sms_from"
		var err error
		if n, err = findNumber(p.rest.Api, p.sid, sender); err != nil {
			fix := ""
			if errors.Is(err, errNotAccountNumber) {
				fix = "set hotline.sms_from to a number of the account, or remove it to text from hotline.number"
			}
			p.add(levelFail, "texts", key+" "+err.Error(), fix)
			return
		}
	}
	iso, _ := numberCountry(sender)
	switch {
	case isTollFree(sender):
		if n != nil { // else the number finding has already failed
			p.tollFree(sender, key, deref(n.Sid))
		}
	case iso == "US":
		p.add(levelWarn, "texts", fmt.Sprintf("texts are sent from %s (%s), a local US number: it needs A2P 10DLC registration or its texts fail (error 30034); not checked here", sender, key),
			"register a brand and campaign for it in the console's Messaging > Regulatory compliance, or set hotline.sms_from to a verified toll-free number")
	default:
		p.add(levelOK, "texts", fmt.Sprintf("texts are sent as %s, not a US toll-free or local number: its sender registration is not checked further", key), "")
	}
}

// Toll-free verification statuses, by how far they let texts through.
const (
	tfApproved = "TWILIO_APPROVED"
	tfPending  = "PENDING_REVIEW"
	tfInReview = "IN_REVIEW"
	tfRejected = "TWILIO_REJECTED"
)

// tollFree reads the number's toll-free verification: until Twilio
// approves it, its texts are blocked (error 30032).
func (p *preflight) tollFree(sender, key, pn string) {
	page, err := p.rest.MessagingV1.PageTollfreeVerification(&messaging.ListTollfreeVerificationParams{TollfreePhoneNumberSid: &pn}, "", "")
	if err != nil {
		p.add(levelFail, "texts", fmt.Sprintf("could not read the toll-free verification of %s (%s): %v%s", sender, key, err, authHint(err)), "")
		return
	}
	// A number may have several (a rejected one, then a resubmission): the
	// furthest along decides.
	status := ""
	for _, v := range page.Verifications {
		switch s := deref(v.Status); {
		case s == tfApproved:
			status = s
		case (s == tfPending || s == tfInReview) && status != tfApproved:
			status = s
		case status == "":
			status = s
		}
	}
	why := "it has no toll-free verification"
	switch status {
	case tfApproved:
		p.add(levelOK, "texts", "texts are sent from "+key+", a toll-free number Twilio has verified", "")
		return
	case tfPending, tfInReview:
		p.add(levelWarn, "texts", fmt.Sprintf("the toll-free verification of %s (%s) is pending (%s): its texts are blocked (error 30032) until Twilio approves it", sender, key, status),
			"wait for Twilio's review, or set hotline.sms_from to a verified number meanwhile")
		return
	case tfRejected:
		why = "Twilio rejected its toll-free verification"
	case "":
	default:
		why = "its toll-free verification is " + status
	}
	p.add(levelFail, "texts", fmt.Sprintf("texts from this number, %s (%s), are blocked (error 30032): %s", sender, key, why),
		"verify it in the console (Phone Numbers > Regulatory Compliance > Toll-free verifications) or set hotline.sms_from to a verified number")
}

// messagingService fetches the Messaging Service texts go through.
func (p *preflight) messagingService(sid string) {
	svc, err := p.rest.MessagingV1.FetchService(sid)
	var rest *client.TwilioRestError
	switch {
	case errors.As(err, &rest) && rest.Status == http.StatusNotFound:
		p.add(levelFail, "texts", fmt.Sprintf("hotline.messaging_service_sid %s is not a Messaging Service of account %s", sid, p.sid),
			"check it against the console's Messaging > Services")
	case err != nil:
		p.add(levelFail, "texts", fmt.Sprintf("could not fetch Messaging Service %s: %v%s", sid, err, authHint(err)), "")
	default:
		p.add(levelOK, "texts", fmt.Sprintf("texts go through Messaging Service %s (%s); its senders' registration is not checked further", sid, deref(svc.FriendlyName)), "")
	}
}
