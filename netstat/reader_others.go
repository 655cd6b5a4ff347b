//go:build !linux

package netstat

import (
	"fmt"
	"runtime"

	"github.com/paws-go/paws"
)

// OpenHost fails on this system with an error wrapping paws.ErrNotSupported:
// /proc/net exists only on Linux. NewReader works everywhere.
func OpenHost() (*Reader, error) {
	return nil, fmt.Errorf("netstat: /proc/net on %s: %w", runtime.GOOS, paws.ErrNotSupported)
}

// OpenPID fails on this system with an error wrapping paws.ErrNotSupported.
func OpenPID(pid int) (*Reader, error) {
	return nil, fmt.Errorf("netstat: /proc/%d/net on %s: %w", pid, runtime.GOOS, paws.ErrNotSupported)
}

// OpenNetNS fails on this system with an error wrapping paws.ErrNotSupported.
func OpenNetNS(path string) (*Reader, error) {
	return nil, fmt.Errorf("netstat: netns %s on %s: %w", path, runtime.GOOS, paws.ErrNotSupported)
}
