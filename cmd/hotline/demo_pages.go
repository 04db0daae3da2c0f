package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hotline-dev/hotline/incident"
	"github.com/hotline-dev/hotline/ivr/sim"
)

// demoPager places the demo's page calls in the simulator instead of
// Twilio's Calls API: the engineer answers and presses 1, and what they
// heard is kept for the story.
type demoPager struct {
	mu    sync.Mutex
	tw    *sim.Twilio // set once the server listens
	heard []string
	done  chan struct{} // one per page call played
}

func newDemoPager() *demoPager { return &demoPager{done: make(chan struct{}, 16)} }

// Call plays the page call in the background, as Twilio would after its
// API answered, and returns a SID at once.
func (d *demoPager) Call(ctx context.Context, to, from, url, statusCallback string) (string, error) {
	d.mu.Lock()
	tw := *d.tw
	d.mu.Unlock()
	tw.VoicePath = strings.TrimPrefix(url, tw.PublicURL)
	tw.StatusPath = strings.TrimPrefix(statusCallback, tw.PublicURL)
	go func() {
		res, err := tw.Call(context.WithoutCancel(ctx), sim.Script{From: from, To: to, Presses: []string{"1"}})
		d.mu.Lock()
		if res != nil {
			d.heard = append(d.heard, res.Transcript())
		}
		if err != nil {
			d.heard = append(d.heard, "the page call failed: "+err.Error()+"\n")
		}
		d.mu.Unlock()
		d.done <- struct{}{}
	}()
	return fmt.Sprintf("CA%032x", time.Now().UnixNano()), nil
}

// tellPage waits (5 s at most) for the page of incident id and prints what
// the engineer heard and what became of the incident.
func (d *demoPager) tellPage(ctx context.Context, e env, s *server, id int64) {
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		fmt.Fprintln(e.stdout, "(no page call within 5 s)")
		return
	}
	d.mu.Lock()
	heard := strings.Join(d.heard, "")
	d.mu.Unlock()
	title := "3b. Nobody took the voicemail: hotline pages the team's first step, who presses 1"
	fmt.Fprintf(e.stdout, "%s\n%s\n%s", title, strings.Repeat("-", len(title)), heard)
	s.settle(ctx, 5*time.Second)
	if in, err := s.incidents.Incident(ctx, id); err == nil {
		who := "nobody"
		if in.AcknowledgedBy != nil {
			who = *in.AcknowledgedBy
		}
		paged := 0
		for _, ev := range in.Events {
			if ev.Type == incident.EventPaged {
				paged++
			}
		}
		fmt.Fprintf(e.stdout, "=> incident %d: %s, %s by %s after %d page\n\n", in.ID, in.Status, in.State, who, paged)
	}
}
