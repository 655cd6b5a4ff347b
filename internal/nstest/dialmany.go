//go:build linux

package nstest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/netns"
)

// DialMany connects n times, concurrently, from inside the namespace to
// addr, each with the given timeout, and returns the connections that
// succeeded; they are closed when the test ends. Against a listener that
// never accepts it fills the accept queue (Backlog+1 connections succeed,
// sometimes Backlog+2: tcp_v4_syn_recv_sock tests sk_acceptq_is_full
// without the listener's lock, so two handshakes completing on two CPUs
// at once can both pass it) and makes the kernel
// drop the SYNs of the others, which then time out.
func (ns *NS) DialMany(t testing.TB, addr netip.AddrPort, n int, timeout time.Duration) []net.Conn {
	t.Helper()
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			_ = netns.Do(ns.Target(), func() error {
				if c, err := (&net.Dialer{Timeout: timeout}).Dial("tcp", addr.String()); err == nil {
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
				return nil
			})
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// FullQueue reports whether an accept queue of q connections is what
// DialMany leaves behind a listener of the given backlog that never
// accepts: backlog+1, or backlog+2 after the race DialMany describes.
func FullQueue(q, backlog uint64) bool { return q == backlog+1 || q == backlog+2 }

// ConnectMany starts n non-blocking IPv4 connects to addr from inside the
// namespace and returns at once; the sockets are closed when the test
// ends. Against a full accept queue the kernel drops their SYNs and
// retransmits them (after 1 s, 2 s, 4 s, ...), so the drop counters keep
// moving while the test observes them.
func (ns *NS) ConnectMany(t testing.TB, addr netip.AddrPort, n int) {
	t.Helper()
	sa := &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	ns.Do(t, func() error {
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return os.NewSyscallError("socket", err)
			}
			t.Cleanup(func() { unix.Close(fd) })
			if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
				return os.NewSyscallError("connect", err)
			}
		}
		return nil
	})
}
