// Package netns runs a function inside another network namespace without
// moving the caller's thread.
//
// Files under /proc/sys/net and /proc/thread-self/net, and sockets, belong
// to the network namespace of the thread that opens them. Do locks a fresh
// goroutine to its OS thread, enters the target namespace there, runs the
// function and returns to the original namespace. If the return fails the
// thread stays locked, so the Go runtime destroys it when the goroutine
// ends, and no later goroutine is scheduled on a thread in a foreign
// namespace. Do waits for that goroutine: nothing runs in the background.
package netns

import (
	"fmt"

	"github.com/paws-go/paws"
)

// ErrNotSupported is paws.ErrNotSupported, returned on systems without
// network namespaces.
var ErrNotSupported = paws.ErrNotSupported

// Target names a network namespace. The zero Target is the caller's own
// namespace, and Do then runs the function directly.
type Target struct {
	// Path is a namespace file: /proc/<pid>/ns/net or /run/netns/<name>.
	Path string
	// FD is an open namespace file descriptor; it is used when Path is
	// empty and FD > 0. Do does not close it.
	FD int
}

// PID returns the Target of the network namespace of process pid.
func PID(pid int) Target {
	return Target{Path: fmt.Sprintf("/proc/%d/ns/net", pid)}
}

// IsZero reports whether t names the caller's own namespace.
func (t Target) IsZero() bool { return t.Path == "" && t.FD <= 0 }

// String describes the target for error messages.
func (t Target) String() string {
	switch {
	case t.Path != "":
		return t.Path
	case t.FD > 0:
		return fmt.Sprintf("netns fd %d", t.FD)
	}
	return "current netns"
}
