package web

import (
	"net/http"
	"time"

	"github.com/hotline-dev/hotline/announce"
	"github.com/hotline-dev/hotline/problem"
)

// announcementsPage lists announcements and posts new ones.
type announcementsPage struct {
	Page
	Items   []announcementRow
	Message string
	Until   string
	Max     int
}

type announcementRow struct {
	ID                       int64
	Message, From, Until, By string
	Active                   bool
}

// handleAnnouncements serves /announcements: the list on GET, a new one on
// POST (message and end time). Control characters and bytes that are not
// UTF-8 in the message are replaced (cleanInput), as in a note.
func (s *Site) handleAnnouncements() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := s.loc()
		p := announcementsPage{Page: pageOf(r, "Announcements", "announcements"), Max: announce.MaxAnnouncement,
			Until: s.Now().In(loc).Add(2 * time.Hour).Format(inputLayout)}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			p.Message, p.Until = cleanInput(r.PostFormValue("message")), r.PostFormValue("until")
			until, err := parseWhen(p.Until, loc, false)
			if err != nil {
				p.Error = "The announcement was not posted: " + err.Error()
			} else if _, err = s.Announce.AddAnnouncement(r.Context(), p.Message, until, actorOf(r)); err == nil {
				seeOther(w, r, "/announcements")
				return
			} else if msg, invalid := problem.Of(err, problem.Invalid); invalid {
				p.Error = "The announcement was not posted: " + msg
			} else {
				s.unavailable(w, r, "announcement list", err)
				return
			}
			status = http.StatusBadRequest
		}
		list, err := s.Announce.ListAnnouncements(r.Context(), 100)
		if err != nil {
			s.unavailable(w, r, "announcement list", err)
			return
		}
		now := s.Now()
		for _, a := range list {
			p.Items = append(p.Items, announcementRow{ID: a.ID, Message: a.Message, By: a.CreatedBy,
				From: a.StartsAt.In(loc).Format(dateTimeLayout), Until: a.EndsAt.In(loc).Format(dateTimeLayout),
				Active: !a.StartsAt.After(now) && a.EndsAt.After(now)})
		}
		s.render(w, r, status, "announcements.html", p)
	})
}

// handleExpireAnnouncement ends an announcement now.
func (s *Site) handleExpireAnnouncement() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.Announce.ExpireAnnouncement(r.Context(), pathID(r), actorOf(r))
		if _, gone := problem.Of(err, problem.NotFound); gone {
			s.fail(w, r, http.StatusNotFound, "That announcement is not active.")
			return
		}
		if err != nil {
			s.unavailable(w, r, "announcement list", err)
			return
		}
		seeOther(w, r, "/announcements")
	})
}
