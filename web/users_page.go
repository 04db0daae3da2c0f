package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/hotline-dev/hotline/problem"
)

// ActionUserAdd is the audit action of an account added or changed, on the
// users page or with hotline user add.
const ActionUserAdd = "user.add"

// usersPage lists accounts and adds them (admins only).
type usersPage struct {
	Page
	Users []userRow
	Name  string
	Role  string
}

type userRow struct{ Name, Role, Created string }

// handleUsers serves /users. Saving an existing account ends its sessions,
// all but the one of the admin who saved it.
func (s *Site) handleUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := usersPage{Page: pageOf(r, "Users", "users"), Role: RoleManager}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			p.Name, p.Role = cleanInput(strings.TrimSpace(r.PostFormValue("username"))), r.PostFormValue("role")
			password := r.PostFormValue("password")
			var keep string
			if c, err := r.Cookie(sessionCookie); err == nil {
				keep = c.Value
			}
			err := s.Users.saveUser(r.Context(), p.Name, p.Role, password, keep, actorOf(r))
			if err == nil {
				seeOther(w, r, "/users")
				return
			}
			msg, invalid := problem.Of(err, problem.Invalid)
			if !invalid {
				s.unavailable(w, r, "account list", err)
				return
			}
			p.Error = "The account was not saved: " + msg
			status = http.StatusBadRequest
		}
		list, err := s.Users.ListUsers(r.Context())
		if err != nil {
			s.unavailable(w, r, "account list", err)
			return
		}
		for _, u := range list {
			p.Users = append(p.Users, userRow{Name: u.Name, Role: u.Role, Created: u.Created.In(s.loc()).Format(time.DateOnly)})
		}
		s.render(w, r, status, "users.html", p)
	})
}
