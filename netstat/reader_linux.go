//go:build linux

package netstat

import (
	"fmt"
	"strconv"

	"github.com/paws-go/paws/internal/netns"
)

// OpenHost opens /proc/self/net/netstat and /proc/self/net/snmp: the
// counters of the network namespace of this process's main thread, which
// is what /proc/net shows. Errors wrap fs.ErrNotExist or fs.ErrPermission.
func OpenHost() (*Reader, error) {
	return openFiles("/proc/self/net")
}

// OpenPID opens /proc/PID/net/netstat and /proc/PID/net/snmp: the
// counters of the network namespace of process pid. It needs no setns and
// no privilege beyond reading that process's /proc entry. The files stay
// bound to that namespace after the process exits. A missing process gives
// an error wrapping fs.ErrNotExist.
func OpenPID(pid int) (*Reader, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("netstat: invalid pid %d", pid)
	}
	return openFiles("/proc/" + strconv.Itoa(pid) + "/net")
}

// OpenNetNS opens the counters files of the network namespace named by a
// namespace file such as /run/netns/NAME or /proc/PID/ns/net. It enters
// the namespace on a locked thread only to open
// /proc/thread-self/net/netstat and /proc/thread-self/net/snmp; the open
// files keep reading that namespace, and the caller's thread never
// changes namespace. Entering needs CAP_SYS_ADMIN: without it the error
// wraps fs.ErrPermission; a missing namespace file wraps fs.ErrNotExist.
func OpenNetNS(path string) (*Reader, error) {
	var r *Reader
	err := netns.Do(netns.Target{Path: path}, func() error {
		var err error
		r, err = openFiles("/proc/thread-self/net")
		return err
	})
	if err != nil {
		if r != nil {
			r.Close()
		}
		return nil, fmt.Errorf("netstat: netns %s: %w", path, err)
	}
	return r, nil
}
