package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// ErrBusy means every password-hashing slot stayed taken for longer than a
// sign-in may wait: try again in a moment.
var ErrBusy = errors.New("web: too many sign-ins at once")

// ThrottledError refuses a sign-in while its client, or its account from
// that client, is locked out after failures.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("web: too many failed sign-ins; try again in %s", e.Wait.Round(time.Second))
}

// Guard checks the passwords of the sign-in form and of the JSON API's HTTP
// Basic, so both share one defence:
//   - failures are throttled per client address and per account from that
//     client, never per account alone: one client's failures cannot lock a
//     manager out who signs in from elsewhere;
//   - a throttled request is refused before any hashing, after a short
//     pause (RefusalPause) that keeps a guesser from spinning on refusals;
//   - at most Hashers bcrypt comparisons run at once (half the cores), each
//     on a thread at the lowest CPU priority and each slot resting after a
//     check as long as the check took, so a flood of guesses leaves the
//     cores to the call path's webhooks; a request that finds no slot
//     within SlotWait is refused with ErrBusy instead of queueing;
//   - every failure is logged with the client and the account name, or a
//     tag of the typed name when no account has it (it may be a password
//     typed into the wrong field); the password never.
type Guard struct {
	users        Authenticator
	trusted      []netip.Prefix
	clients      *Throttle // per client address
	accounts     *Throttle // per account and client address
	slots        chan struct{}
	slotWait     time.Duration
	refusalPause time.Duration
	log          zerolog.Logger
	tagKey       []byte
	now          func() time.Time
	lastCheck    atomic.Int64 // how long the last password check took, ns
	busy         atomic.Int64 // refusals for want of a hasher since the last log line
	busyLog      atomic.Int64 // when that line was written, Unix seconds
}

// GuardOptions configure a Guard; zero values take the defaults.
type GuardOptions struct {
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (see clientAddr); none by default.
	TrustedProxies []netip.Prefix
	// Hashers bounds concurrent password checks: half the cores, at least 1.
	Hashers int
	// SlotWait is how long a check waits for a free hasher: 1 s, or 3 times
	// the last check's time when that is longer (a slow machine).
	SlotWait time.Duration
	// RefusalPause holds each throttled refusal before it is sent
	// (250 ms); negative sends it at once.
	RefusalPause time.Duration
	Now          func() time.Time
	Log          zerolog.Logger
}

// NewGuard returns a guard over users.
func NewGuard(users Authenticator, o GuardOptions) *Guard {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hashers < 1 {
		o.Hashers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if o.SlotWait <= 0 {
		o.SlotWait = time.Second
	}
	if o.RefusalPause == 0 {
		o.RefusalPause = 250 * time.Millisecond
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// A client address covers everyone behind it (an office's NAT), so it
	// may fail more often than one account from it before it waits.
	clients := NewThrottle(o.Now)
	clients.Free = 20
	return &Guard{
		users: users, trusted: o.TrustedProxies, clients: clients, accounts: NewThrottle(o.Now),
		slots: make(chan struct{}, o.Hashers), slotWait: o.SlotWait, refusalPause: o.RefusalPause, log: o.Log, tagKey: key, now: o.Now,
	}
}

// ClientAddr is the address r came from, X-Forwarded-For believed only from
// a trusted proxy.
func (g *Guard) ClientAddr(r *http.Request) string { return clientAddr(r, g.trusted) }

// SignIn checks name and password for a request that arrived through via
// ("web" or "api"). Besides Authenticate's errors it returns a
// *ThrottledError while the client is locked out, and ErrBusy when no
// hasher was free in time.
func (g *Guard) SignIn(r *http.Request, via, name, password string) (User, error) {
	// The form and HTTP Basic alike: a NUL or bytes that are not UTF-8 in
	// a typed name would be refused by PostgreSQL, not merely unknown.
	name = cleanInput(name)
	addr := g.ClientAddr(r)
	clientKey, accountKey := addr, strings.ToLower(name)+"\x00"+addr
	throttled := func() error {
		if wait := max(g.clients.Wait(clientKey), g.accounts.Wait(accountKey)); wait > 0 {
			return &ThrottledError{Wait: wait}
		}
		return nil
	}
	if err := throttled(); err != nil {
		g.pause(r.Context())
		return User{}, err
	}
	if err := g.acquire(r.Context()); err != nil {
		g.logBusy(via, addr)
		return User{}, err
	}
	// Asked again with the slot: guesses that queued together must not
	// all be checked once the first few have locked the client out.
	if err := throttled(); err != nil {
		<-g.slots
		g.pause(r.Context())
		return User{}, err
	}
	began := time.Now()
	u, err := g.authenticate(r.Context(), name, password)
	// The slot rests as long as the check took before the next may start:
	// hashing takes at most half of its core, whatever the flood.
	took := time.Since(began)
	g.lastCheck.Store(int64(took))
	time.AfterFunc(took, func() { <-g.slots })
	if errors.Is(err, ErrBadLogin) {
		g.clients.Fail(clientKey)
		g.accounts.Fail(accountKey)
		ev := g.log.Warn().Str("via", via).Str("addr", addr)
		if errors.Is(err, errNoAccount) {
			ev = ev.Str("user", "unknown account").Str("name_tag", g.tag(name))
		} else {
			ev = ev.Str("user", name)
		}
		if errors.Is(err, errDisabled) {
			ev = ev.Str("reason", "account disabled")
		}
		ev.Msg(via + ": failed sign-in")
		return User{}, err
	}
	if err != nil {
		return User{}, err
	}
	// Only the account's own count is cleared: signing in to an account of
	// one's own must not wipe the client's record of guessing at others.
	g.accounts.Succeed(accountKey)
	return u, nil
}

// authenticate checks the password on a thread of its own at the lowest
// CPU priority, so that while a hash is computed the kernel still runs the
// webhooks' threads first. The goroutine exits locked to a thread it
// lowered, which ends that thread: the priority never passes to other work.
func (g *Guard) authenticate(ctx context.Context, name, password string) (User, error) {
	type result struct {
		u   User
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if !lowerThreadPriority() {
			runtime.UnlockOSThread()
		}
		u, err := g.users.Authenticate(ctx, name, password)
		done <- result{u, err}
	}()
	res := <-done
	return res.u, res.err
}

// pause holds a throttled refusal for RefusalPause before it is answered,
// so a guesser that ignores Retry-After waits for each refusal instead of
// spending the server's CPU on thousands a second.
func (g *Guard) pause(ctx context.Context) {
	if g.refusalPause <= 0 {
		return
	}
	t := time.NewTimer(g.refusalPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// acquire takes a hashing slot, waiting at most slotWait, or three times
// the last check's time: a slot is held for a check and rests as long
// again, so on a machine where bcrypt is slow a sign-in just after another
// still gets its turn.
func (g *Guard) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(max(g.slotWait, 3*time.Duration(g.lastCheck.Load())))
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
}

// logBusy notes refusals for want of a hasher, one line per 10 s at most:
// a flood must not fill the log or spend the CPU it was refused.
func (g *Guard) logBusy(via, addr string) {
	n := g.busy.Add(1)
	now := g.now().Unix()
	if last := g.busyLog.Load(); now-last < 10 || !g.busyLog.CompareAndSwap(last, now) {
		return
	}
	g.busy.Add(-n)
	g.log.Warn().Str("via", via).Str("addr", addr).Int64("refused", n).Msg(via + ": sign-ins refused: every password check is busy")
}

// tag names a typed user name in the log without revealing it: an HMAC
// under a key made at start, so one process's lines can be matched up but
// no dictionary can be run against them.
func (g *Guard) tag(name string) string {
	m := hmac.New(sha256.New, g.tagKey)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))[:8]
}
