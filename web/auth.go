package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sessionCookie names the sign-in cookie.
const sessionCookie = "hotline_session"

// loginPage is the sign-in form.
type loginPage struct {
	Page
	Username string
	Next     string
}

// handleLogin serves the sign-in form and checks it through the Guard
// (throttled per client and per account from that client, hashing bounded,
// failures logged); a success starts a new session (a token planted before
// sign-in is never promoted) and drops the old one.
func (s *Site) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := loginPage{Page: Page{Title: "Sign in"}, Next: localPath(r.FormValue("next"))}
		if r.Method == http.MethodGet {
			s.render(w, r, http.StatusOK, "login.html", p)
			return
		}
		name, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
		p.Username = name
		u, err := s.Guard.SignIn(r, "web", name, password)
		var throttled *ThrottledError
		switch {
		case errors.As(err, &throttled):
			secs := retryAfter(w, throttled.Wait)
			p.Error = "Too many failed sign-ins. Try again in " + strconv.Itoa(secs) + " s."
			s.render(w, r, http.StatusTooManyRequests, "login.html", p)
			return
		case errors.Is(err, ErrBusy):
			retryAfter(w, time.Second)
			p.Error = "Too many sign-ins at once. Try again in a moment."
			s.render(w, r, http.StatusServiceUnavailable, "login.html", p)
			return
		case errors.Is(err, ErrBadLogin):
			p.Error = "Wrong user name or password."
			s.render(w, r, http.StatusUnauthorized, "login.html", p)
			return
		case err != nil:
			s.unavailable(w, r, "sign-in", err)
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			_ = s.Sessions.EndSession(r.Context(), c.Value)
		}
		token, expires, err := s.Sessions.StartSession(r.Context(), u.ID)
		if err != nil {
			s.unavailable(w, r, "sign-in", err)
			return
		}
		http.SetCookie(w, s.cookie(token, expires))
		s.Log.Info().Str("user", u.Name).Msg("web: signed in")
		next := p.Next
		if next == "" {
			next = "/"
		}
		seeOther(w, r, next)
	})
}

// retryAfter sets Retry-After to d in whole seconds, at least 1, and
// returns them.
func retryAfter(w http.ResponseWriter, d time.Duration) int {
	secs := max(1, int(math.Ceil(d.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// logoutPage asks to confirm a sign-out reached by a link.
type logoutPage struct{ Page }

// handleLogout ends the session on POST; GET shows a button for it, so a
// link on another site cannot sign a manager out.
func (s *Site) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if r.Method == http.MethodGet {
			p := logoutPage{Page{Title: "Sign out"}}
			if err == nil {
				p.User, _ = s.Sessions.SessionUser(r.Context(), c.Value)
			}
			s.render(w, r, http.StatusOK, "logout.html", p)
			return
		}
		if err == nil {
			if err := s.Sessions.EndSession(r.Context(), c.Value); err != nil {
				s.unavailable(w, r, "sign-out", err)
				return
			}
		}
		http.SetCookie(w, s.cookie("", time.Unix(0, 0)))
		seeOther(w, r, "/login")
	})
}

func (s *Site) cookie(token string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
	}
	return c
}

// requireUser lets a request through with a live session, of role when role
// is set. A GET without one is sent to sign in and brought back after.
func (s *Site) requireUser(next http.Handler, role string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u User
		err := ErrNoSession
		if c, cerr := r.Cookie(sessionCookie); cerr == nil {
			u, err = s.Sessions.SessionUser(r.Context(), c.Value)
		}
		if errors.Is(err, ErrNoSession) {
			if r.Method == http.MethodGet {
				seeOther(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			s.fail(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if err != nil {
			s.unavailable(w, r, "sign-in", err)
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, u)
		r = r.WithContext(context.WithValue(ctx, zoneKey{}, zoneName(s.loc(), s.Now())))
		if role != "" && u.Role != role {
			s.fail(w, r, http.StatusForbidden, "This page is for "+role+"s.")
			return
		}
		next.ServeHTTP(w, r)
	})
}
