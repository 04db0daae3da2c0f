package web

import (
	"net/http"
	"strconv"
)

// AuditRows is how many audit entries one page of the audit log shows.
const AuditRows = 100

// auditPage is the audit log.
type auditPage struct {
	Page
	Entries []auditRow
	Limit   int
	// Older, Newer and Newest link to the page below, the page above and
	// the first page; each is empty where there is none.
	Older, Newer, Newest string
}

type auditRow struct{ At, Actor, Action, Detail string }

// handleAudit serves /audit: who changed what, newest first, AuditRows a
// page, paged by entry id both ways (before=, after=).
func (s *Site) handleAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auditPage{Page: pageOf(r, "Audit log", "audit"), Limit: AuditRows}
		id := func(key string) int64 {
			v := r.URL.Query().Get(key)
			if v == "" {
				return 0
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				p.Error = "The page link is damaged; showing the newest entries."
				return 0
			}
			return n
		}
		link := func(key string, n int64) string { return "/audit?" + key + "=" + strconv.FormatInt(n, 10) }
		before, after := id("before"), id("after")
		list, err := s.Audit.ListPage(r.Context(), before, after, AuditRows+1)
		if err == nil && after > 0 {
			if len(list) > AuditRows {
				list = list[1:] // the extra entry is the newest: there is a page above
				p.Newer = link("after", list[0].ID)
			} else { // fewer than a page above: the newest page it is
				after = 0
				list, err = s.Audit.ListPage(r.Context(), 0, 0, AuditRows+1)
			}
		}
		if err != nil {
			s.unavailable(w, r, "audit log", err)
			return
		}
		switch {
		case after > 0: // the entry after names is below this page
			p.Older = link("before", list[len(list)-1].ID)
		case len(list) > AuditRows:
			list = list[:AuditRows]
			p.Older = link("before", list[len(list)-1].ID)
		}
		if before > 0 && len(list) > 0 {
			p.Newer = link("after", list[0].ID)
		}
		if before > 0 || after > 0 {
			p.Newest = "/audit"
		}
		loc := s.loc()
		for _, e := range list {
			p.Entries = append(p.Entries, auditRow{At: e.At.In(loc).Format(dateTimeLayout), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
		}
		s.render(w, r, http.StatusOK, "audit.html", p)
	})
}
