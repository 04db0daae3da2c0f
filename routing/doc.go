// Package routing resolves who a call reaches: a team's escalation chain
// at an instant (rotations, overrides, active windows), its segments and
// coverage gaps over a span of time, who is on call now, a watch that
// logs and exports the gaps of the next 24 hours, and the review diff of two
// configs (DiffConfigs): what callers and engineers would notice.
package routing
