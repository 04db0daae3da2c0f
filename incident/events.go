package incident

import (
	"strings"
)

// EventType names what happened at one moment of a call. Every type hotline
// writes is one of the constants below and has a line in EventTypes.
type EventType string

// The event types, in the order a call meets them.
const (
	EventIncoming   EventType = "incoming"
	EventIdentified EventType = "identified"
	EventPINInvalid EventType = "pin_invalid"
	EventRejected   EventType = "rejected"
	EventLanguage   EventType = "language"
	EventMenu       EventType = "menu"
	EventRoute      EventType = "route"
	EventRing       EventType = "ring"
	EventAccepted   EventType = "accepted"
	EventDeclined   EventType = "declined"
	EventNoKey      EventType = "no_key"
	EventNoAnswer   EventType = "no_answer"
	EventBusy       EventType = "busy"
	EventFailed     EventType = "failed"
	EventBridged    EventType = "bridged"
	EventVoicemail  EventType = "voicemail"
	EventTranscript EventType = "transcript"
	EventMissed     EventType = "missed"
	EventHangup     EventType = "hangup"
	EventCompleted  EventType = "completed"
	EventTextFailed EventType = "text_failed"

	// The follow-up of an incident nobody has taken (paging).
	EventPaged        EventType = "paged"
	EventAcknowledged EventType = "acknowledged"
	EventEscalated    EventType = "escalated"
	EventResolved     EventType = "resolved"
	EventCalledBack   EventType = "called_back"
	EventAlert        EventType = "alert"
)

// EventTypeInfo is one line of the table of event types: the label a
// manager reads on the timeline and what the event means.
type EventTypeInfo struct {
	Type    EventType
	Label   string
	Meaning string
}

// EventTypes is the one list of event types: the code writes the constants
// it lists, and only them (TestEventsAreWrittenWithTypedConstants,
// TestEveryEventTypeIsWritten), and the web page's labels and the README's
// table (TestREADMEListsEventTypes) come from it.
var EventTypes = []EventTypeInfo{
	{EventIncoming, "Call came in", "the call reached hotline; the detail names the caller's number"},
	{EventIdentified, "Caller identified", "the caller was recognised as a customer, by number or PIN"},
	{EventPINInvalid, "Wrong PIN", "a PIN that matched no customer (the digits are never recorded)"},
	{EventRejected, "Caller refused", "an unknown caller was refused (`unknown_callers: reject`)"},
	{EventLanguage, "Language chosen", "the caller chose another language; the detail is its code"},
	{EventMenu, "Menu", "a menu choice, or a play of the menu with no valid key"},
	{EventRoute, "Routed", "the team chosen and the chain resolved for it at that moment"},
	{EventRing, "Ringing", "an engineer's phone is rung (step and pass)"},
	{EventAccepted, "Accepted", "the engineer pressed 1 in the whisper"},
	{EventDeclined, "Declined", "the engineer pressed another key"},
	{EventNoKey, "No key pressed", "the engineer's phone answered but nobody pressed a key: usually a personal voicemail"},
	{EventNoAnswer, "No answer", "the engineer's phone rang out"},
	{EventBusy, "Busy", "the engineer's line was busy"},
	{EventFailed, "Failed", "the call to the engineer could not be placed"},
	{EventBridged, "Connected", "the caller and the engineer talked"},
	{EventVoicemail, "Voicemail", "the caller left a message; the detail gives its length"},
	{EventTranscript, "Transcript", "the voicemail's transcript arrived (or its transcription failed)"},
	{EventMissed, "Missed", "hotline ended the call: nobody accepted and no message was taken"},
	{EventHangup, "Caller hung up", "the caller hung up before anyone accepted"},
	{EventCompleted, "Call ended", "Twilio's final status, or hotline closing a call whose final status never arrived"},
	{EventPaged, "Paged", "an engineer was called and texted to follow the incident up (step and pass); the detail says how"},
	{EventAcknowledged, "Acknowledged", "someone took the incident: by the page call, a text reply, the web page, the API or the CLI; the detail says which"},
	{EventEscalated, "Escalated", "nobody acknowledged in time, or the engineer pressed 3: the next step is paged"},
	{EventResolved, "Resolved", "the incident needs nothing more; the detail says who resolved it and how"},
	{EventCalledBack, "Called back", "the engineer on a page call pressed 4 and was connected to the caller"},
	{EventAlert, "Alert", "a machine raised the alert (the detail names the integration and the summary), or raised it again with the same dedup_key while it was open: a repeat pages nobody"},
	{EventTextFailed, "Text not delivered", "a text about the call ended undelivered or failed, or was not sent (the engineer opted out); the detail gives Twilio's error code and its meaning"},
}

// Label is the type's name for people; an unknown type (a row written by
// another version) is shown as it is stored.
func (t EventType) Label() string {
	for _, i := range EventTypes {
		if i.Type == t {
			return i.Label
		}
	}
	return string(t)
}

// EventTypesMarkdown renders EventTypes as the Markdown table the README
// carries between its event-types markers.
func EventTypesMarkdown() string {
	var b strings.Builder
	b.WriteString("| type | shown as | means |\n|---|---|---|\n")
	for _, i := range EventTypes {
		b.WriteString("| `" + string(i.Type) + "` | " + i.Label + " | " + i.Meaning + " |\n")
	}
	return b.String()
}
