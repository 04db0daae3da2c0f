// Package incident is the record of every call: the incidents and their
// typed events (EventTypes), written by the call flow through one
// group-commit Writer that spools to a local file when the database cannot
// take a write, and read back by the call log, the JSON API, the stats,
// the live view (Live: each call in progress at the stage its events say)
// and the texts that follow a call. Seed fills it with realistic calls.
package incident
