//go:build linux

package pcapts_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/pcapts"
)

// TestIntegrationSNATCapture captures, with tcpdump in the server's
// namespace, the SYNs of four clients behind an SNAT router (two with
// tcp_timestamps=1, whose TSval offsets are per connection on kernels
// with "tcp: secure_seq: add back ports to TS offset", one with
// tcp_timestamps=2, offset 0, and one with tcp_timestamps=0) and of a fifth
// client with tcp_timestamps=1 that is not translated, and checks what the
// Analyzer finds in the capture.
func TestIntegrationSNATCapture(t *testing.T) {
	nstest.RequireRoot(t, "tcpdump", "iptables")
	srv, rtr := nstest.New(t), nstest.New(t)
	nstest.Veth(t, srv, "s0", "10.230.0.2/24", rtr, "rs0", "10.230.0.1/24")
	rtr.Sysctl(t, "net.ipv4.ip_forward", "1")
	rtr.Exec(t, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "rs0", "-s", "10.230.1.0/24,10.230.2.0/24,10.230.3.0/24,10.230.4.0/24", "-j", "SNAT", "--to-source", "10.230.0.1")
	srv.IP(t, "route", "add", "10.230.5.0/24", "via", "10.230.0.1")
	const conns = 5
	type client struct {
		ns         *nstest.NS
		timestamps string
	}
	var clients []client
	for i, ts := range []string{"1", "1", "2", "0", "1"} {
		c := nstest.New(t)
		k := string(rune('1' + i))
		nstest.Veth(t, c, "c0", "10.230."+k+".2/24", rtr, "rc"+k, "10.230."+k+".1/24")
		c.IP(t, "route", "add", "10.230.0.0/24", "via", "10.230."+k+".1")
		c.Sysctl(t, "net.ipv4.tcp_timestamps", ts)
		clients = append(clients, client{c, ts})
	}

	// The server accepts and closes first, as an HTTP/1.0 server does.
	addr := netip.MustParseAddrPort("10.230.0.2:8080")
	var ln net.Listener
	srv.Do(t, func() error {
		var err error
		ln, err = net.Listen("tcp4", addr.String())
		return err
	})
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-served })

	capture := filepath.Join(t.TempDir(), "server.pcap")
	dump := exec.Command("ip", "netns", "exec", srv.Name, "tcpdump", "-i", "s0", "-w", capture, "-s", "128", "-U", "--immediate-mode", "-n", "tcp")
	stderr, err := dump.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			dump.Process.Kill()
			dump.Wait()
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
				io.Copy(io.Discard, stderr)
				return
			}
		}
		ready <- errors.New("tcpdump exited before listening")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump not listening after 10 s")
	}

	for _, c := range clients {
		for range conns {
			conn, err := c.ns.Dial(t, addr, 3*time.Second)
			if err != nil {
				t.Fatalf("client tcp_timestamps=%s: %v", c.timestamps, err)
			}
			conn.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := io.Copy(io.Discard, conn); err != nil {
				t.Fatalf("client tcp_timestamps=%s: waiting for the server's close: %v", c.timestamps, err)
			}
			conn.Close()
		}
	}
	time.Sleep(300 * time.Millisecond) // the last FIN/ACKs
	dump.Process.Signal(syscall.SIGTERM)
	if err := dump.Wait(); err != nil {
		t.Logf("tcpdump: %v", err)
	}
	stopped = true

	f, err := os.Open(capture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapts.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	a := pcapts.NewAnalyzer(pcapts.Config{})
	for r.Next() {
		a.Add(r.Segment())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	a.Flush()
	t.Logf("capture: %+v", r.Stats())
	hosts := map[netip.Addr]pcapts.Host{}
	for _, h := range a.Report().Hosts {
		hosts[h.Addr] = h
		t.Logf("%v: %d SYNs (%d retransmitted), %d answered, %d by ACK, %d unanswered, %d without TS, regime %v, %d clocks (%d single-connection), ≥ %d hosts",
			h.Addr, h.SYNs, h.Retransmissions, h.Answered, h.ACKAnswered, h.Unanswered, h.NoTimestampSYNs, h.Regime, h.ClockCount, h.PerConnectionClocks, h.MinHosts)
	}
	if len(hosts) != 2 {
		t.Fatalf("%d client addresses in the capture, want 2 (the SNAT address and the untranslated client)", len(hosts))
	}
	nat := hosts[netip.MustParseAddr("10.230.0.1")]
	if got := nat.SYNs - nat.Retransmissions; got != 4*conns {
		t.Errorf("SNAT address: %d SYNs without retransmissions, want %d attempts", got, 4*conns)
	}
	if nat.Answered != 4*conns {
		t.Errorf("SNAT address: %d SYNs answered, want %d", nat.Answered, 4*conns)
	}
	if nat.NoTimestampSYNs < conns {
		t.Errorf("SNAT address: %d SYNs without timestamps, want at least %d (the tcp_timestamps=0 client)", nat.NoTimestampSYNs, conns)
	}
	// Per-connection clocks (10) beside one per-host clock (the
	// tcp_timestamps=2 client) and SYNs without timestamps.
	if nat.Regime != pcapts.RegimeMixed || nat.PerConnectionClocks != 2*conns || nat.ClockCount != 2*conns+1 || nat.MinHosts != 3 {
		t.Errorf("SNAT address: regime %v, %d clocks of which %d single-connection, ≥ %d hosts; want mixed, %d, %d, 3",
			nat.Regime, nat.ClockCount, nat.PerConnectionClocks, nat.MinHosts, 2*conns+1, 2*conns)
	}
	direct := hosts[netip.MustParseAddr("10.230.5.2")]
	if direct.SYNs != conns || direct.Answered != conns || direct.Regime != pcapts.RegimePerConnection || direct.ClockCount != conns {
		t.Errorf("untranslated client: %d SYNs, %d answered, regime %v, %d clocks; want %d, %d, per-connection-offsets, %d",
			direct.SYNs, direct.Answered, direct.Regime, direct.ClockCount, conns, conns, conns)
	}
}
