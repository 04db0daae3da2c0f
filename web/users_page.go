package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-dev/hotline/problem"
)

// usersPage lists accounts, adds and changes them, and removes, disables
// and enables them (admins only).
type usersPage struct {
	Page
	Users []userRow
	Name  string
	Role  string
}

type userRow struct {
	Name, Role, Created string
	Disabled            bool
}

// handleUsers serves /users. Saving an existing account ends its sessions,
// all but the one of the admin who saved it.
func (s *Site) handleUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := usersPage{Page: pageOf(r, "Users", "users"), Role: RoleManager}
		if r.Method == http.MethodPost {
			p.Name, p.Role = cleanInput(strings.TrimSpace(r.PostFormValue("username"))), r.PostFormValue("role")
			password := r.PostFormValue("password")
			var keep string
			if c, err := r.Cookie(sessionCookie); err == nil {
				keep = c.Value
			}
			err := s.Users.saveUser(r.Context(), p.Name, p.Role, password, keep, actorOf(r), createOrUpdate)
			if err == nil {
				seeOther(w, r, "/users")
				return
			}
			s.refuseUserChange(w, r, p, "The account was not saved: ", err)
			return
		}
		s.renderUsers(w, r, http.StatusOK, p)
	})
}

// handleUserChange serves POST /users/{remove,disable,enable} for the
// account named by the form's username. Each ends or restores at once: a
// removed or disabled account's sessions are deleted with it, so its next
// request, page or API, is signed out.
func (s *Site) handleUserChange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := cleanInput(strings.TrimSpace(r.PostFormValue("username")))
		ctx, actor := r.Context(), actorOf(r)
		var err error
		verb := mux.Vars(r)["action"]
		switch verb {
		case "remove":
			err = s.Users.RemoveUser(ctx, name, actor)
		case "disable":
			err = s.Users.DisableUser(ctx, name, actor)
		default:
			err = s.Users.EnableUser(ctx, name, actor)
		}
		if err == nil {
			seeOther(w, r, "/users")
			return
		}
		p := usersPage{Page: pageOf(r, "Users", "users"), Role: RoleManager}
		s.refuseUserChange(w, r, p, "The account was not changed ("+verb+"): ", err)
	})
}

// refuseUserChange shows the users page with why err refused a change:
// 404 for no such account, 400 for a change that is not allowed.
func (s *Site) refuseUserChange(w http.ResponseWriter, r *http.Request, p usersPage, prefix string, err error) {
	status := http.StatusBadRequest
	msg, ok := problem.Of(err, problem.Invalid)
	if !ok {
		msg, ok = problem.Of(err, problem.NotFound)
		status = http.StatusNotFound
	}
	if !ok {
		s.unavailable(w, r, "account list", err)
		return
	}
	p.Error = prefix + msg
	s.renderUsers(w, r, status, p)
}

func (s *Site) renderUsers(w http.ResponseWriter, r *http.Request, status int, p usersPage) {
	list, err := s.Users.ListUsers(r.Context())
	if err != nil {
		s.unavailable(w, r, "account list", err)
		return
	}
	for _, u := range list {
		p.Users = append(p.Users, userRow{Name: u.Name, Role: u.Role, Created: u.Created.In(s.loc()).Format(time.DateOnly), Disabled: u.Disabled})
	}
	s.render(w, r, status, "users.html", p)
}
