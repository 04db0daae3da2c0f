//go:build !linux

package web

// lowerThreadPriority does nothing where a thread's priority cannot be set
// alone, and says so; the bound on concurrent hashing still applies.
func lowerThreadPriority() bool { return false }
