//go:build linux

package sysctl

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/paws-go/paws/internal/netns"
)

// NewFS returns an FS that reads /proc/sys of the calling thread's network
// namespace: the process's own, unless the caller locked its goroutine to a
// thread that it moved. It fails when procfs is not mounted at
// DefaultMountPoint.
func NewFS() (FS, error) {
	if _, err := os.Stat(DefaultMountPoint + "/sys/kernel/osrelease"); err != nil {
		return FS{}, fmt.Errorf("sysctl: procfs not mounted at %s: %w", DefaultMountPoint, err)
	}
	return FS{fsys: os.DirFS(DefaultMountPoint), root: DefaultMountPoint}, nil
}

// ForNetNS returns an FS that reads /proc/sys inside the network namespace
// of the file path: a bind mount such as /run/netns/<name> or a process's
// /proc/<pid>/ns/net. Each call of the FS opens path and enters the
// namespace on a dedicated thread (see the package documentation), so the
// FS sees the namespace that path names at that moment. A path that does
// not exist fails here, and later in each call, with an error matching
// fs.ErrNotExist.
func ForNetNS(path string) (FS, error) {
	if path == "" {
		return FS{}, fmt.Errorf("sysctl: empty netns path: %w", fs.ErrInvalid)
	}
	if _, err := os.Stat(path); err != nil {
		return FS{}, fmt.Errorf("sysctl: netns: %w", err)
	}
	return FS{fsys: os.DirFS(DefaultMountPoint), root: DefaultMountPoint, netns: netns.Target{Path: path}}, nil
}

// ForPID returns an FS that reads /proc/sys inside the network namespace of
// process pid, through /proc/<pid>/ns/net. The namespace is looked up again
// at every call: once the process has exited calls fail with an error
// matching fs.ErrNotExist, and should the pid be reused, they read the new
// process's namespace.
func ForPID(pid int) (FS, error) {
	if pid <= 0 {
		return FS{}, fmt.Errorf("sysctl: invalid pid %d: %w", pid, fs.ErrInvalid)
	}
	return ForNetNS(netns.PID(pid).Path)
}
