package web

import "net/http"

// AuditRows is how many of the newest audit entries the page shows.
const AuditRows = 500

// auditPage is the audit log.
type auditPage struct {
	Page
	Entries []auditRow
	Limit   int
}

type auditRow struct{ At, Actor, Action, Detail string }

// handleAudit serves /audit: who changed what, newest first.
func (s *Site) handleAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Audit.List(r.Context(), AuditRows)
		if err != nil {
			s.unavailable(w, r, "audit log", err)
			return
		}
		p := auditPage{Page: pageOf(r, "Audit log", "audit"), Limit: AuditRows}
		loc := s.loc()
		for _, e := range list {
			p.Entries = append(p.Entries, auditRow{At: e.At.In(loc).Format(dateTimeLayout), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
		}
		s.render(w, r, http.StatusOK, "audit.html", p)
	})
}
