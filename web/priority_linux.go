package web

import "syscall"

// lowerThreadPriority gives the calling thread the lowest CPU priority
// (nice 19) and reports whether it did: on Linux setpriority with a thread
// id applies to that thread alone, and raising niceness needs no
// privilege. The main thread is left alone: it is the one ps and top show
// for the process, and Go never ends it.
func lowerThreadPriority() bool {
	tid := syscall.Gettid()
	return tid != syscall.Getpid() && syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19) == nil
}
