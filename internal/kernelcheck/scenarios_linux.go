package kernelcheck

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/pcapts"
	"github.com/paws-go/paws/sysctl"
)

// The SYN retransmissions of a Linux client come 1 s apart at first
// (tcp_syn_linear_timeouts), so a socket that keeps connecting for
// holdSYNs after its SYN sends exactly two SYNs.
const holdSYNs = 1500 * time.Millisecond

// settle is the quiet time after the traffic, so that every answer is
// captured before the counters are read.
const settle = 200 * time.Millisecond

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// requireCounter returns a check that the traffic moved c.
func requireCounter(c paws.Counter, what string) func(*Result) string {
	return func(r *Result) string {
		if r.observed(c) == 0 {
			return c.Name() + " did not move: " + what
		}
		return ""
	}
}

func acceptQueueOverflow(s *session) error {
	const backlog, clients, gap = 2, 6, 50 * time.Millisecond
	t, err := s.build(1)
	if err != nil {
		return err
	}
	// The backlog is clamped by somaxconn, as on servers with the
	// default of 128 before 5.4.
	if err := t.server.sysctl("net.core.somaxconn", strconv.Itoa(backlog)); err != nil {
		return err
	}
	if err := s.listen(128); err != nil {
		return err
	}
	s.check = requireCounter(paws.ListenOverflows, "the accept queue never overflowed")
	return s.measure(func() error {
		var waiting []int
		defer func() { closeFDs(waiting) }()
		connected := 0
		start := time.Now()
		for i := range clients {
			fd, err := connectStart(t.clients[0], netip.AddrPort{}, t.serverAddr())
			if err != nil {
				return err
			}
			ok, err := waitConnected(fd, gap)
			if err != nil {
				unix.Close(fd)
				return err
			}
			if ok {
				// Established connections stay in the accept queue
				// until the counters have been read.
				connected++
				s.onClose(func() error { return unix.Close(fd) })
			} else {
				waiting = append(waiting, fd)
			}
			if err := s.sleepUntil(start.Add(time.Duration(i+1) * gap)); err != nil {
				return err
			}
		}
		s.logf("c1 connected %d times in %v each, %d connects pending; the listener never accepts", connected, gap, len(waiting))
		// Each pending client retransmits its SYN once, then gives up.
		if err := s.sleepUntil(time.Now().Add(holdSYNs)); err != nil {
			return err
		}
		for _, fd := range waiting {
			if ok, _ := waitConnected(fd, 0); ok {
				s.logf("a pending connect completed late")
			}
		}
		closeFDs(waiting)
		waiting = nil
		return s.sleepUntil(time.Now().Add(settle))
	})
}

func synQueue(cookies bool) func(*session) error {
	return func(s *session) error {
		const backlog, flood, legitAfter = 4, 8, 200 * time.Millisecond
		t, err := s.build(2)
		if err != nil {
			return err
		}
		if err := t.server.sysctl("net.ipv4.tcp_syncookies", boolSysctl(cookies)); err != nil {
			return err
		}
		if err := s.halfOpen(t.clients[0]); err != nil {
			return err
		}
		if err := s.listen(backlog); err != nil {
			return err
		}
		if cookies {
			s.check = requireCounter(paws.TCPReqQFullDoCookies, "the SYN queue never filled")
		} else {
			s.check = requireCounter(paws.TCPReqQFullDrop, "the SYN queue never filled")
		}
		return s.measure(func() error {
			var fds []int
			defer func() { closeFDs(fds) }()
			start := time.Now()
			if err := s.flood(&fds, flood); err != nil {
				return err
			}
			if err := s.sleepUntil(start.Add(legitAfter)); err != nil {
				return err
			}
			legit, err := connectStart(t.clients[1], netip.AddrPort{}, t.serverAddr())
			if err != nil {
				return err
			}
			fds = append(fds, legit)
			if err := s.sleepUntil(start.Add(legitAfter + holdSYNs)); err != nil {
				return err
			}
			ok, err := waitConnected(legit, 0)
			if err != nil {
				return err
			}
			s.logf("c2 connecting %v later: connected %v", legitAfter, ok)
			closeFDs(fds)
			fds = nil
			return s.sleepUntil(time.Now().Add(settle))
		})
	}
}

// halfOpen makes c's connections stay half-open: iptables in c drops the
// SYN-ACKs, so its kernel neither completes nor resets them.
func (s *session) halfOpen(c *netNS) error {
	s.logf("iptables in %s drops every SYN-ACK", c.role)
	return c.exec(s.ctx, "iptables", "-A", "INPUT", "-p", "tcp", "--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "DROP")
}

// flood starts n connects from client c1 back to back and appends their
// descriptors to fds.
func (s *session) flood(fds *[]int, n int) error {
	for range n {
		fd, err := connectStart(s.topo.clients[0], netip.AddrPort{}, s.topo.serverAddr())
		if err != nil {
			return err
		}
		*fds = append(*fds, fd)
	}
	s.logf("c1 sent %d SYNs back to back", n)
	return nil
}

func boolSysctl(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func unprovenPeer(s *session) error {
	const maxSynBacklog, flood = 8, 12
	t, err := s.build(3)
	if err != nil {
		return err
	}
	if err := t.server.sysctl("net.ipv4.tcp_syncookies", "0"); err != nil {
		return err
	}
	if err := t.server.sysctl("net.ipv4.tcp_max_syn_backlog", strconv.Itoa(maxSynBacklog)); err != nil {
		return err
	}
	if err := s.halfOpen(t.clients[0]); err != nil {
		return err
	}
	if err := s.closingServer(); err != nil {
		return err
	}
	s.check = requireCounter(paws.ListenDrops, "no SYN met the last quarter of tcp_max_syn_backlog")
	return s.measure(func() error {
		var fds []int
		defer func() { closeFDs(fds) }()
		if err := s.connectOnce(2, "before the flood, so the server caches its RTT"); err != nil {
			return err
		}
		if err := s.flood(&fds, flood); err != nil {
			return err
		}
		if err := s.sleepUntil(time.Now().Add(100 * time.Millisecond)); err != nil {
			return err
		}
		if err := s.connectOnce(2, "proven"); err != nil {
			return err
		}
		if err := s.connectOnce(3, "never connected before"); err != nil {
			return err
		}
		closeFDs(fds)
		fds = nil
		return s.sleepUntil(time.Now().Add(settle))
	})
}

// connectOnce makes one connection from client k, ephemeral port, to the
// server, which closes first, and logs how it went.
func (s *session) connectOnce(k int, why string) error {
	lat, err := exchange(s.ctx, s.topo.clients[k-1], netip.AddrPortFrom(s.topo.clientAddr(k), 0), s.topo.serverAddr(), holdSYNs)
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	if err != nil {
		s.logf("c%d (%s): failed after %v: %v", k, why, lat.Round(time.Millisecond), err)
	} else {
		s.logf("c%d (%s): connected in %v", k, why, lat.Round(100*time.Microsecond))
	}
	return nil
}

// listen opens the server's listener, which never accepts, with the
// given listen() backlog.
func (s *session) listen(backlog int) error {
	fd, err := listen(s.topo.server, s.topo.serverAddr(), backlog)
	if err != nil {
		return err
	}
	s.res.RequestedBacklog = backlog
	s.onClose(func() error { return unix.Close(fd) })
	return nil
}

// closingServer listens on the server's address with backlog 128 and
// closes every connection at once, so that the server holds the TIME_WAIT
// sockets.
func (s *session) closingServer() error {
	const backlog = 128
	fd, err := listen(s.topo.server, s.topo.serverAddr(), backlog)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f) // a duplicate of fd
	f.Close()
	if err != nil {
		return err
	}
	s.res.RequestedBacklog = backlog
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeFirst(ln)
	}()
	s.onClose(func() error {
		err := ln.Close()
		<-done
		return err
	})
	return nil
}

// alternate makes the connections c1, c2, c1 through the router, from
// each client's fixedPort+k when fixedPort is set, and logs how each went.
// With flush the router's conntrack table is emptied before each
// connection after the first, so that SNAT can reuse the one NAT port.
func (s *session) alternate(fixedPort uint16, flush bool) error {
	const connectTimeout = holdSYNs
	t := s.topo
	for i, k := range []int{1, 2, 1} {
		if i > 0 && flush {
			if err := t.router.flushConntrack(); err != nil {
				return err
			}
		}
		local := netip.AddrPortFrom(t.clientAddr(k), 0)
		if fixedPort != 0 {
			local = netip.AddrPortFrom(local.Addr(), fixedPort+uint16(k))
		}
		lat, err := exchange(s.ctx, t.clients[k-1], local, t.serverAddr(), connectTimeout)
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if err != nil {
			s.logf("connection %d from c%d %v: failed after %v: %v", i+1, k, local, lat.Round(time.Millisecond), err)
		} else {
			s.logf("connection %d from c%d %v: connected in %v, server closed first", i+1, k, local, lat.Round(100*time.Microsecond))
		}
		if err := s.sleepUntil(time.Now().Add(settle)); err != nil {
			return err
		}
	}
	return nil
}

func timeWait(rfc1337, c2Timestamps bool) func(*session) error {
	return func(s *session) error {
		t, err := s.build(2)
		if err != nil {
			return err
		}
		nat := netip.AddrPortFrom(t.routerAddr(), 40000)
		if err := t.router.exec(s.ctx, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "s0", "-p", "tcp", "-j", "SNAT", "--to-source", nat.String()); err != nil {
			return err
		}
		if err := t.server.sysctl("net.ipv4.tcp_rfc1337", boolSysctl(rfc1337)); err != nil {
			return err
		}
		if err := t.clients[1].sysctl("net.ipv4.tcp_timestamps", boolSysctl(c2Timestamps)); err != nil {
			return err
		}
		if err := s.closingServer(); err != nil {
			return err
		}
		s.check = func(r *Result) string {
			for _, syn := range r.SYNs {
				if syn.Observed == pcapts.OutcomeACK && (syn.Explanation.Reason == paws.ReasonTimewaitPAWS || !c2Timestamps) {
					return ""
				}
			}
			if c2Timestamps {
				return "no SYN met the TIME_WAIT socket with an older TSval (the clients' TSval offsets are too close)"
			}
			return "no SYN was rejected by the TIME_WAIT socket (the clients' initial sequence numbers are too close)"
		}
		s.logf("router SNATs both clients to %v; clients bind ports 50001 and 50002; c2 tcp_timestamps=%s", nat, boolSysctl(c2Timestamps))
		return s.measure(func() error { return s.alternate(50000, true) })
	}
}

func perHostPAWS(s *session) error {
	host, err := sysctl.NewFS()
	if err != nil {
		return err
	}
	tcp, err := host.TCP()
	if err != nil {
		return err
	}
	if !tcp.TWRecycle.Present {
		return s.noPerHostPAWS(tcp)
	}
	t, err := s.build(2)
	if err != nil {
		return err
	}
	if err := t.server.sysctl("net.ipv4.tcp_tw_recycle", "1"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.res.Status = StatusNotApplicable
			s.res.Note = "net.ipv4.tcp_tw_recycle is global (before 4.11) and kernelcheck does not change the host's"
			return nil
		}
		return err
	}
	if err := t.router.exec(s.ctx, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "s0", "-p", "tcp", "-j", "SNAT", "--to-source", t.routerAddr().String()); err != nil {
		return err
	}
	if err := s.closingServer(); err != nil {
		return err
	}
	s.check = requireCounter(paws.PAWSPassive, "no SYN was older than the TSval cached for the address (kernels up to 4.9 send TSvals without offset, so all namespaces share one clock)")
	s.logf("router SNATs both clients to %v; server has tcp_tw_recycle=1", t.routerAddr())
	return s.measure(func() error { return s.alternate(0, false) })
}

// noPerHostPAWS reports the scenario as not applicable and checks that the
// evaluator, with this kernel's profile, predicts no per-host PAWS: B's
// older SYN of test vector TV1 is answered, and PAWSPassive, which the
// kernel does not print, is not predicted.
func (s *session) noPerHostPAWS(tcp sysctl.TCP) error {
	p := tcp.Profile()
	s.res.TCP, s.res.Profile = tcp, p
	s.res.Status = StatusNotApplicable
	s.res.Note = "net.ipv4.tcp_tw_recycle absent"
	// Test vector TV1 of the spec: the server closes A's connection
	// first, which caches A's last TSval for the address where
	// tcp_tw_recycle exists; B, another port of the same address, sends
	// an older TSval.
	a, b := netip.MustParseAddrPort("10.241.0.1:51000"), netip.MustParseAddrPort("10.241.0.1:40001")
	const cached, older = paws.Timestamp(2088983950), paws.Timestamp(271344470)
	t0 := paws.TimeOf(time.Now())
	ev, err := paws.NewEvaluator(paws.Config{Profile: p, Settings: tcp.Settings(p), Start: t0,
		Listener: paws.Listener{Addr: netip.AddrPortFrom(labAddr(0, 2), serverPort), Backlog: 128}})
	if err != nil {
		return err
	}
	ev.Step(paws.Event{Time: t0.Add(400 * time.Millisecond), Type: paws.EventServerClose, Src: a, HasTS: true, TSval: cached, TSvalAt: t0.Add(300 * time.Millisecond)})
	r := ev.Step(paws.Event{Time: t0.Add(600 * time.Millisecond), Type: paws.EventSYN, Src: b, HasTS: true, TSval: older})
	counters, err := netstat.OpenHost()
	if err != nil {
		return err
	}
	defer counters.Close()
	var snap netstat.Snapshot
	if err := counters.ReadInto(&snap); err != nil {
		return err
	}
	_, present := snap.Get(netstat.TCPExtPAWSPassive)
	s.res.Counters = []CounterCheck{{Counter: paws.PAWSPassive, Predicted: uint64(r.Counters[paws.PAWSPassive]), Present: present}}
	s.logf("evaluator (%v): SYN %v TSval %v, older than the %v cached 0.2 s before for %v: predicted %v, counters %v",
		p.Kernel, b, older, cached, a.Addr(), r.Outcome, r.Counters)
	if r.Outcome != paws.OutcomeAnswer || p.Counters.Has(paws.PAWSPassive) || !s.res.Counters[0].Agrees() {
		s.res.Status = StatusDiffers
		s.res.Note = fmt.Sprintf("the evaluator models per-host PAWS on a kernel without net.ipv4.tcp_tw_recycle: %s", r.Explain())
	}
	return nil
}
