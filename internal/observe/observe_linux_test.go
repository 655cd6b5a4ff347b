//go:build linux

package observe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/nstest"
)

// TestIntegrationObserveFlood fills the accept queue of a listener in a
// test namespace and checks that two Observes see the queue, its owner
// (this test process) and the overflows, and that Diagnose names them.
func TestIntegrationObserveFlood(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	ns.Listen(t, addr, 4)

	o, err := Open(Target{NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	first, err := o.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if first.Delta != nil || first.Host.Interval != 0 {
		t.Errorf("first Observe has a delta: %v over %v", first.Delta, first.Host.Interval)
	}
	ns.ConnectMany(t, addr, 12)
	time.Sleep(1500 * time.Millisecond) // one round of SYN retransmissions
	ob, err := o.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if ob.Delta == nil || ob.DeltaErr != nil {
		t.Fatalf("second Observe: delta %v, %v", ob.Delta, ob.DeltaErr)
	}
	h := ob.Host
	if h.Profile.Kernel.IsZero() || h.Interval < time.Second {
		t.Errorf("kernel %v, interval %v", h.Profile.Kernel, h.Interval)
	}
	// 7 SYNs met the full queue at once, and again at their retransmission.
	if got := h.Deltas[paws.ListenOverflows]; got < 7 {
		t.Errorf("ListenOverflows +%d, want at least 7", got)
	}
	i := slices.IndexFunc(h.Listeners, func(l paws.HostListener) bool { return l.Addr == addr })
	if i < 0 || len(h.Listeners) != 1 {
		t.Fatalf("listeners %+v, want only %s", h.Listeners, addr)
	}
	l := h.Listeners[i]
	if !nstest.FullQueue(uint64(l.AcceptQueue), 4) || l.Backlog != 4 {
		t.Errorf("queue %d/%d, want 5/4 (6/4 after a race)", l.AcceptQueue, l.Backlog)
	}
	// The listener's own counter (sk_drops) counts the same drops.
	if !l.DropsKnown || l.Drops < 7 || len(ob.Drops) != 1 {
		t.Errorf("listener drops %d (known %v, Observation.Drops %v), want at least 7", l.Drops, l.DropsKnown, ob.Drops)
	}
	if first.Drops != nil {
		t.Errorf("first Observe has listener drops %v", first.Drops)
	}
	if !slices.ContainsFunc(l.Owners, func(p paws.HostProcess) bool { return p.PID == os.Getpid() && p.MaxOpenFiles > 0 }) {
		t.Errorf("owners %+v, want this process (%d)", l.Owners, os.Getpid())
	}
	var found []paws.Check
	for _, f := range paws.Diagnose(h) {
		found = append(found, f.Check)
		if (f.Check == paws.CheckAcceptQueueFull || f.Check == paws.CheckListenOverflows) && f.Listener != addr {
			t.Errorf("accept-queue-full about %s, want %s", f.Listener, addr)
		}
	}
	if !slices.Contains(found, paws.CheckAcceptQueueFull) || !slices.Contains(found, paws.CheckListenOverflows) {
		t.Errorf("findings %v, want accept-queue-full and listen-overflows", found)
	}

	// Without drops: the same listener, no per-listener drops.
	nd, err := Open(Target{NetNS: ns.Path}, NoDrops)
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	for range 2 {
		if ob, err = nd.Observe(); err != nil {
			t.Fatal(err)
		}
	}
	if ob.Drops != nil || len(ob.Host.Listeners) != 1 || ob.Host.Listeners[0].DropsKnown {
		t.Errorf("NoDrops: drops %v, listeners %+v", ob.Drops, ob.Host.Listeners)
	}

	// The host's Observer does not see the namespace's listener.
	host, err := Open(Target{})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	hob, err := host.Observe()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range hob.Host.Listeners {
		if l.Addr == addr && l.AcceptQueue == 5 {
			t.Errorf("host namespace shows the test listener %+v", l)
		}
	}
}

func TestIntegrationOpenGone(t *testing.T) {
	nstest.RequireRoot(t)
	for _, tg := range []Target{
		{NetNS: filepath.Join(t.TempDir(), "no-such-netns")},
		{PID: 1<<22 + 1}, // above PID_MAX_LIMIT: never a process
	} {
		o, err := Open(tg)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) = %v, %v; want an error matching fs.ErrNotExist", tg, o, err)
		}
	}
}

// closeFirst accepts connections on ln and closes each at once, so the
// server side of every connection ends in TIME_WAIT. It returns when ln is
// closed.
func closeFirst(ln net.Listener, done chan<- struct{}) {
	defer close(done)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// TestIntegrationObserveTimeWaitPAWS makes a SYN meet a TIME_WAIT socket
// of its own 4-tuple with an older TSval, as a second host behind a NAT
// reusing the port would: the first connection from a port uses
// tcp_timestamps=1 (a random offset for the 4-tuple), the second
// tcp_timestamps=2 (no offset), so the second SYN's TSval is older about
// half the time. Ports are tried until the kernel's TIME_WAIT PAWS counter
// moves, and Diagnose must then report timewait-paws.
func TestIntegrationObserveTimeWaitPAWS(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8081")
	var ln net.Listener
	ns.Do(t, func() (err error) { ln, err = net.Listen("tcp", addr.String()); return err })
	done := make(chan struct{})
	go closeFirst(ln, done)
	t.Cleanup(func() { ln.Close(); <-done })

	o, err := Open(Target{NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ob, err := o.Observe()
	if err != nil {
		t.Fatal(err)
	}
	counter := ob.Host.Profile.TimeWaitPAWSCounter
	if !ob.Host.Profile.Kernel.AtLeast(4, 13, 0) {
		t.Skip("tcp_timestamps is per network namespace from 4.13 only")
	}
	connect := func(port int) {
		t.Helper()
		ns.Do(t, func() error {
			d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
			c, err := d.Dial("tcp", addr.String())
			if err != nil {
				return fmt.Errorf("connect from port %d: %w", port, err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, err = io.Copy(io.Discard, c) // until the server's FIN
			return err
		})
	}
	for port := 41000; port < 41016; port++ {
		ns.Sysctl(t, "net.ipv4.tcp_timestamps", "1")
		connect(port)
		time.Sleep(20 * time.Millisecond) // the server's socket reaches TIME_WAIT
		ns.Sysctl(t, "net.ipv4.tcp_timestamps", "2")
		connect(port)
		ob, err := o.Observe()
		if err != nil {
			t.Fatal(err)
		}
		if ob.Host.Deltas[counter] == 0 {
			continue
		}
		fs := paws.Diagnose(ob.Host)
		if len(fs) != 1 || fs[0].Check != paws.CheckTimeWaitPAWS || fs[0].Severity != paws.SeverityWarning {
			t.Fatalf("%s +%d: findings %+v, want one timewait-paws warning", counter, ob.Host.Deltas[counter], fs)
		}
		t.Logf("port %d: %s", port, fs[0].Evidence)
		return
	}
	t.Fatalf("%s never moved in 16 port reuses with older TSvals half the time", counter)
}
