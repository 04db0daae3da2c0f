package config

import (
	"time"

	"github.com/hotline-dev/hotline/schedules"
)

// Config is a parsed, validated hotline.yaml. It is immutable once loaded; a
// reload builds a new one.
type Config struct {
	Path     string // the file it came from
	Revision string // hex SHA-256 of the file's bytes (RevisionOf)
	Text     []byte // the file's bytes, as parsed: what a revision records

	Hotline   Hotline
	Menu      Menu
	Teams     []Team
	Engineers []schedules.Engineer
	Rotations []*schedules.Rotation
	Customers []Customer
	Languages []Language

	idx *index // lookup tables built at parse time
}

// Ways of identifying a caller (hotline.identify).
const (
	IdentifyNone          = "none"
	IdentifyCallerID      = "callerid"
	IdentifyPIN           = "pin"
	IdentifyCallerIDOrPIN = "callerid_or_pin"
)

// The STIR/SHAKEN attestation a caller ID needs to identify a customer
// (hotline.caller_id_attestation): A, the carrier knows the caller and
// their right to the number; B, the caller but not the number; any, none
// needed.
const (
	AttestationA   = "A"
	AttestationB   = "B"
	AttestationAny = "any"
)

// What strangers get (hotline.unknown_callers).
const (
	UnknownRoute     = "route"
	UnknownVoicemail = "voicemail"
	UnknownReject    = "reject"
)

// Customer is a known caller: a company with its numbers and PIN.
type Customer struct {
	ID      string
	Name    string
	Numbers []string // E.164
	// PIN is a bcrypt hash ($2a$…) or, discouraged, the digits themselves.
	// It is never logged.
	PIN string
}

// Language is a language a caller may choose from the menu, with its
// greeting, menu labels, voice and prompt texts.
type Language struct {
	Code     string // e.g. es-MX; spoken as <Say language=…>
	Digit    string // the menu key that selects it
	Voice    string
	Greeting string
	Prompts  map[string]string // overrides of the catalogue (Prompts)
	Menu     map[string]string // option digit → label
}

// Hotline holds the line-wide settings.
type Hotline struct {
	Number          string // E.164 support number; caller ID when ringing engineers
	Timezone        string
	Location        *time.Location
	Greeting        string
	Voice           string // optional TTS voice
	Language        string // optional
	EmergencyNumber string // optional last resort (E.164)
	Identify        string // none, callerid, pin, callerid_or_pin (default none)
	UnknownCallers  string // route, voicemail, reject (default route)
	// CallerIDAttestation is the least STIR/SHAKEN attestation that lets a
	// caller ID identify a customer: A (default), B or any.
	CallerIDAttestation string
	// SMSFrom is the number texts are sent from (E.164), when it is not
	// Number: a toll-free Number must be verified before its texts are
	// delivered, so a verified SMS number may stand in (optional).
	SMSFrom string
	// MessagingServiceSID (MG…) sends texts through a Messaging Service
	// instead of from one number (optional; not with SMSFrom).
	MessagingServiceSID string
	// OutboundCallsPerSecond is how many calls hotline starts a second (the
	// page calls), shared by the whole process, so it never outruns the
	// account's rate: 1 a second unless Twilio raised it (default 1).
	OutboundCallsPerSecond float64
}

// TextSender is who texts are sent as: the Messaging Service when there is
// one, else SMSFrom, else the support number.
func (h Hotline) TextSender() string {
	switch {
	case h.MessagingServiceSID != "":
		return h.MessagingServiceSID
	case h.SMSFrom != "":
		return h.SMSFrom
	}
	return h.Number
}

// Menu is the caller's first choice.
type Menu struct {
	Attempts int           // plays of the menu before the default, default 3
	Timeout  time.Duration // wait for a key, default 6s
	Default  string        // digit taken after Attempts plays without a valid key
	Options  []Option
}

// Option is one menu entry.
type Option struct {
	Digit string
	Label string
	Team  string
}

// Team is who a menu option reaches, and how.
type Team struct {
	ID         string
	Name       string // defaults to ID
	Repeat     int    // extra passes over the chain
	Voicemail  bool   // default true
	Escalation []EscalationStep
	// FollowUp is which unanswered calls page the chain, and how often
	// (default: voicemails and missed calls, every 5 minutes).
	FollowUp FollowUp
}

// EscalationStep is one step of a team's chain as configured: one engineer,
// or the first active of one or more rotations.
type EscalationStep struct {
	Rotations []string // `rotation: x` is stored as []string{"x"}
	Engineer  string
	Timeout   time.Duration // ring time, default 20s
}
