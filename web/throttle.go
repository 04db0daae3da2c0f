package web

import (
	"sync"
	"time"
)

// Throttle slows down password guessing. Each key (for the Guard, a client
// address, or an account from one client) may fail freely a few times;
// after that every further failure locks the key out for twice as long as
// the last, from one second up to a cap. A success clears the key; a key
// quiet for an hour starts afresh. It lives in memory: a restart forgets
// it, which costs an attacker nothing they could not get by waiting out
// the cap.
type Throttle struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*failures

	// Free is the number of failures allowed without delay (5), Base the
	// first lockout (1 s), Max the longest (15 min), MaxKeys bounds memory.
	Free    int
	Base    time.Duration
	Max     time.Duration
	MaxKeys int
}

type failures struct {
	n    int
	last time.Time
}

// forgetAfter is how long a key must stay quiet to start afresh.
const forgetAfter = time.Hour

// NewThrottle returns a throttle with the defaults above.
func NewThrottle(now func() time.Time) *Throttle {
	return &Throttle{now: now, entries: map[string]*failures{}, Free: 5, Base: time.Second, Max: 15 * time.Minute, MaxKeys: 100000}
}

// Wait returns how long the caller must still wait before trying any of
// keys again; zero means go ahead.
func (t *Throttle) Wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		f, ok := t.entries[k]
		if !ok || now.Sub(f.last) >= forgetAfter {
			continue
		}
		if d := f.last.Add(t.lockout(f.n)).Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

// lockout is the delay after n failures.
func (t *Throttle) lockout(n int) time.Duration {
	if n < t.Free {
		return 0
	}
	d := t.Base
	for i := t.Free; i < n && d < t.Max; i++ {
		d *= 2
	}
	return min(d, t.Max)
}

// Fail records a failed attempt against each key.
func (t *Throttle) Fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		f, ok := t.entries[k]
		if !ok {
			if len(t.entries) >= t.MaxKeys {
				t.prune(now)
			}
			f = &failures{}
			t.entries[k] = f
		}
		if now.Sub(f.last) >= forgetAfter {
			f.n = 0
		}
		f.n++
		f.last = now
	}
}

// Succeed clears the keys after a good sign-in.
func (t *Throttle) Succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.entries, k)
	}
}

// prune drops quiet keys; if every key is recent it drops an arbitrary
// half, so a flood of new names cannot grow memory without bound.
func (t *Throttle) prune(now time.Time) {
	for k, f := range t.entries {
		if now.Sub(f.last) >= forgetAfter {
			delete(t.entries, k)
		}
	}
	for k := range t.entries {
		if len(t.entries) < t.MaxKeys/2 {
			break
		}
		delete(t.entries, k)
	}
}
