// Package page follows up incidents nobody has taken: a voicemail, a missed
// call or an alert pages the team's chain by phone, one engineer at a time,
// until someone acknowledges (README "Paging").
//
// Pages are rows of a table of their own, so a page due while hotline was
// down is placed when it starts, and several instances on one PostgreSQL
// database place each page once: a pager claims a due row with a lease
// before it calls. The page call's webhooks (HandleCall, HandleKey,
// HandleStatus) carry only the row's id in their URLs.
//
// The package reads incidents, chains, texts and calls through small
// interfaces of its own (Subjects, Chains, Texter, Caller), which the
// binary adapts incident, routing and notify to.
package page
