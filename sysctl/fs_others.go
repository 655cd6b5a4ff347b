//go:build !linux

package sysctl

import (
	"fmt"
	"runtime"

	"github.com/paws-go/paws"
)

// NewFS fails on this system with an error matching paws.ErrNotSupported:
// /proc/sys exists only on Linux. NewFSFromFS works everywhere.
func NewFS() (FS, error) { return FS{}, errNotLinux("/proc/sys") }

// ForNetNS fails on this system with an error matching
// paws.ErrNotSupported: network namespaces exist only on Linux.
func ForNetNS(path string) (FS, error) { return FS{}, errNotLinux("netns " + path) }

// ForPID fails on this system with an error matching paws.ErrNotSupported:
// network namespaces exist only on Linux.
func ForPID(pid int) (FS, error) { return FS{}, errNotLinux(fmt.Sprintf("netns of pid %d", pid)) }

func errNotLinux(what string) error {
	return fmt.Errorf("sysctl: %s on %s: %w", what, runtime.GOOS, paws.ErrNotSupported)
}
