package page

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/problem"
)

// Reply acts on a text an engineer sent back to the SMS number: "1" or
// "ack" acknowledges the incident of their latest page; "ack N" and
// "resolve N" name incident N. It returns the answer to text back, or ""
// when the text is none of these or its sender is no engineer of the
// config (nothing changes then).
func (p *Pager) Reply(ctx context.Context, from, body string) (string, error) {
	words := strings.Fields(strings.ToLower(body))
	if len(words) == 0 || len(words) > 2 {
		return "", nil
	}
	verb := words[0]
	if verb == "1" {
		verb = "ack"
	}
	if verb != "ack" && verb != "resolve" {
		return "", nil
	}
	engineer := ""
	for _, e := range p.chains.Config().Engineers {
		if e.Phone == from {
			engineer = e.ID
		}
	}
	if engineer == "" {
		return "", nil
	}
	var id int64
	switch {
	case len(words) == 2:
		n, err := strconv.ParseInt(words[1], 10, 64)
		if err != nil || n < 1 {
			return "", nil
		}
		id = n
	case verb == "resolve":
		return "Say which incident: resolve N.", nil
	default:
		const latest = `SELECT incident_id FROM pages WHERE engineer = ? AND state = 'placed' ORDER BY placed_at DESC, id DESC LIMIT 1`
		err := p.db.QueryRowContext(ctx, latest, engineer).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "You have no page to acknowledge; reply ack N for incident N.", nil
		}
		if err != nil {
			return "", fmt.Errorf("page: reply: %w", err)
		}
	}
	change, done := p.Acknowledge, "acknowledged: it is yours"
	if verb == "resolve" {
		change, done = p.Resolve, "resolved"
	}
	if err := change(ctx, id, engineer, "text"); err != nil {
		if msg, refused := refusal(err); refused {
			return fmt.Sprintf("Incident %d: %s.", id, msg), nil
		}
		return "", err
	}
	return fmt.Sprintf("Incident %d %s.", id, done), nil
}

// refusal is why a change an engineer texted was refused, in words, when it
// was refused rather than failed.
func refusal(err error) (string, bool) {
	if msg, ok := problem.Of(err, problem.Invalid); ok {
		return msg, true
	}
	if errors.Is(err, incident.ErrNotFound) {
		return "there is no such incident", true
	}
	return "", false
}
