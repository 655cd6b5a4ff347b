//go:build linux

package nstest

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/paws-go/paws/internal/netns"
)

// DialMany connects n times, concurrently, from inside the namespace to
// addr, each with the given timeout, and returns the connections that
// succeeded; they are closed when the test ends. Against a listener that
// never accepts it fills the accept queue (Backlog+1 connections succeed)
// and makes the kernel drop the SYNs of the others, which then time out.
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
