//go:build linux

package tcpdiag_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/tcpdiag"
)

func dialNS(t *testing.T, n tcpdiag.NetNS) *tcpdiag.Conn {
	t.Helper()
	c, err := tcpdiag.Dial(&tcpdiag.Config{NetNS: n})
	if err != nil {
		t.Fatalf("Dial(%s): %v", n, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// ssListen runs "ss -ltnH sport = :port" in ns and returns Recv-Q and
// Send-Q of the one listener it prints.
func ssListen(t *testing.T, ns *nstest.NS, port uint16) (recvQ, sendQ uint32) {
	t.Helper()
	out := ns.Exec(t, "ss", "-ltnH", "sport = :"+strconv.Itoa(int(port)))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("ss printed %d lines for port %d, want 1:\n%s", len(lines), port, out)
	}
	f := strings.Fields(lines[0])
	if len(f) < 4 || f[0] != "LISTEN" {
		t.Fatalf("unexpected ss line %q", lines[0])
	}
	r, err1 := strconv.ParseUint(f[1], 10, 32)
	s, err2 := strconv.ParseUint(f[2], 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("unexpected ss line %q", lines[0])
	}
	return uint32(r), uint32(s)
}

// owners calls c.Owners. Processes this test may not inspect (in some
// sandboxes even root cannot read pid 1's descriptors) are reported in a
// *ProcessError matching fs.ErrPermission, with every other owner found.
func owners(t *testing.T, c *tcpdiag.Conn, ls []tcpdiag.Listener) []tcpdiag.Owned {
	t.Helper()
	owned, err := c.Owners(ls)
	if err != nil {
		var pe *tcpdiag.ProcessError
		if !errors.As(err, &pe) || !errors.Is(err, fs.ErrPermission) || slices.Contains(pe.PIDs, os.Getpid()) {
			t.Fatalf("Owners: %v", err)
		}
		t.Logf("Owners: %v", err)
	}
	if len(owned) != len(ls) {
		t.Fatalf("Owners returned %d entries for %d listeners", len(owned), len(ls))
	}
	return owned
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestIntegrationAcceptQueue(t *testing.T) {
	nstest.RequireRoot(t, "ss")
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	fd := ns.Listen(t, addr, 4)

	conns := ns.DialMany(t, addr, 30, 3*time.Second)
	if len(conns) < 5 {
		t.Fatalf("%d of 30 connects succeeded, want at least 5", len(conns))
	}

	c, err := tcpdiag.Dial(&tcpdiag.Config{NetNS: tcpdiag.NetNSPath(ns.Path), ReadDrops: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ls, err := c.ListenersOnPort(addr.Port())
	if err != nil {
		t.Fatalf("ListenersOnPort: %v", err)
	}
	if len(ls) != 1 {
		t.Fatalf("ListenersOnPort(%d) = %v, want one listener", addr.Port(), ls)
	}
	l := ls[0]
	if l.Local != addr || !nstest.FullQueue(uint64(l.AcceptQueue), 4) || l.Backlog != 4 {
		t.Errorf("listener = %v, want LISTEN 5 4 %s (or 6 after a race)", l, addr)
	}
	if !l.AcceptQueueFull() || l.FillRatio() < 1 {
		t.Errorf("AcceptQueueFull = %v, FillRatio = %v; want true, >= 1", l.AcceptQueueFull(), l.FillRatio())
	}
	if l.Inode == 0 || l.Cookie == 0 || l.UID != 0 || l.Interface != 0 {
		t.Errorf("listener details = %+v", l)
	}
	// 25 connects were refused their SYNs at least once: the listener's
	// sk_drops counts them.
	if len(conns) < 30 && l.Drops == 0 {
		t.Errorf("Drops = 0 after %d failed connects", 30-len(conns))
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if uint64(l.Inode) != st.Ino {
		t.Errorf("Inode = %d, fstat says %d", l.Inode, st.Ino)
	}

	recvQ, sendQ := ssListen(t, ns, addr.Port())
	if recvQ != l.AcceptQueue || sendQ != l.Backlog {
		t.Errorf("ss -ltn: Recv-Q %d Send-Q %d; tcpdiag: %d %d", recvQ, sendQ, l.AcceptQueue, l.Backlog)
	}

	all, err := c.Listeners()
	if err != nil {
		t.Fatalf("Listeners: %v", err)
	}
	if !slices.Contains(all, l) || len(all) != 1 {
		t.Errorf("Listeners() = %v, want exactly %v", all, l)
	}

	o := owners(t, c, ls)[0]
	if o.SoMaxConn != 4096 || o.BacklogClamped() {
		t.Errorf("SoMaxConn = %d, BacklogClamped = %v; want 4096, false", o.SoMaxConn, o.BacklogClamped())
	}
	if len(o.Processes) != 1 {
		t.Fatalf("Processes = %+v, want this test process", o.Processes)
	}
	p := o.Processes[0]
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	nfd := countFDs(t, os.Getpid())
	if p.PID != os.Getpid() || !slices.Equal(p.FDs, []int{fd}) || p.MaxOpenFiles != lim.Cur || p.AtFDLimit {
		t.Errorf("process = %+v, want pid %d fds [%d] limit %d not at limit", p, os.Getpid(), fd, lim.Cur)
	}
	if d := p.OpenFiles - nfd; d < -5 || d > 5 {
		t.Errorf("OpenFiles = %d, /proc/self/fd has %d", p.OpenFiles, nfd)
	}
}

func TestIntegrationBacklogClamped(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	ns.Sysctl(t, "net.core.somaxconn", "16")
	clamped := netip.MustParseAddrPort("127.0.0.1:8081")
	small := netip.MustParseAddrPort("127.0.0.1:8082")
	ns.Listen(t, clamped, 1000)
	ns.Listen(t, small, 3)

	c := dialNS(t, tcpdiag.NetNSPath(ns.Path))
	if got, err := c.SoMaxConn(); err != nil || got != 16 {
		t.Fatalf("SoMaxConn() = %d, %v; want 16", got, err)
	}
	ls, err := c.Listeners()
	if err != nil {
		t.Fatal(err)
	}
	owned := owners(t, c, ls)
	got := map[netip.AddrPort]bool{}
	for _, o := range owned {
		got[o.Listener.Local] = o.BacklogClamped()
	}
	want := map[netip.AddrPort]bool{clamped: true, small: false}
	if !maps(got, want) {
		t.Errorf("BacklogClamped by listener = %v, want %v", got, want)
	}
}

func maps(a, b map[netip.AddrPort]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A namespace is asked, not the caller's: a listener that exists only in
// namespace A is invisible from namespace B, however B is named.
func TestIntegrationNamespaceIsolation(t *testing.T) {
	nstest.RequireRoot(t, "sleep")
	a, b := nstest.New(t), nstest.New(t)
	onlyA := netip.MustParseAddrPort("127.0.0.1:9001")
	onlyB := netip.MustParseAddrPort("[::1]:9002")
	a.Listen(t, onlyA, 8)
	b.IP(t, "addr", "show", "dev", "lo") // ::1 is present once lo is up
	b.Listen(t, onlyB, 8)

	// A process inside B, to name B by pid.
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", b.Name, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	waitNetNS(t, cmd.Process.Pid, b.Path)

	bfd, err := unix.Open(b.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(bfd)

	for _, tc := range []struct {
		name string
		ns   tcpdiag.NetNS
		want []netip.AddrPort
	}{
		{"A by path", tcpdiag.NetNSPath(a.Path), []netip.AddrPort{onlyA}},
		{"B by path", tcpdiag.NetNSPath(b.Path), []netip.AddrPort{onlyB}},
		{"B by pid", tcpdiag.NetNSOfPID(cmd.Process.Pid), []netip.AddrPort{onlyB}},
		{"B by fd", tcpdiag.NetNSFD(bfd), []netip.AddrPort{onlyB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialNS(t, tc.ns)
			ls, err := c.Listeners()
			if err != nil {
				t.Fatal(err)
			}
			var got []netip.AddrPort
			for _, l := range ls {
				got = append(got, l.Local)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("listeners = %v, want %v", got, tc.want)
			}
			// Binding a specific IPv6 address sets sk_ipv6only.
			if len(ls) == 1 && ls[0].V6Only != tc.want[0].Addr().Is6() {
				t.Errorf("V6Only = %v for %v", ls[0].V6Only, ls[0].Local)
			}
		})
	}

	// A namespace that does not exist is an fs.ErrNotExist.
	if _, err := tcpdiag.Dial(&tcpdiag.Config{NetNS: tcpdiag.NetNSPath("/run/netns/does-not-exist-tcpdiag")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dial(missing namespace) error = %v, want fs.ErrNotExist", err)
	}
}

func waitNetNS(t *testing.T, pid int, nsPath string) {
	t.Helper()
	var want unix.Stat_t
	if err := unix.Stat(nsPath, &want); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got unix.Stat_t
		if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &got); err == nil && got.Ino == want.Ino {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not enter %s within 5 s", pid, nsPath)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A child whose RLIMIT_NOFILE equals its open descriptors is at its limit.
func TestIntegrationFDLimit(t *testing.T) {
	nstest.RequireRoot(t, "bash", "sleep")
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8090")
	fd := ns.Listen(t, addr, 16)
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "listener")
	defer f.Close()

	// The child holds 0, 1, 2 (/dev/null) and 3 (the listener); it closes
	// whatever else it inherited from the environment of the test. Its
	// soft RLIMIT_NOFILE is lowered to 4 once sleep has loaded its
	// libraries (the dynamic loader itself needs a free descriptor).
	const script = `for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 3 ] && eval "exec $n>&-"; done; exec sleep 30`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		maps, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
		if strings.Contains(string(maps), "libc") && countFDs(t, pid) == 4 {
			break
		}
		if time.Now().After(deadline) {
			ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
			t.Fatalf("child did not settle with 4 descriptors within 5 s: %v", ents)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var lim unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 4
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatal(err)
	}

	c := dialNS(t, tcpdiag.NetNSPath(ns.Path))
	ls, err := c.ListenersOnPort(addr.Port())
	if err != nil || len(ls) != 1 {
		t.Fatalf("ListenersOnPort = %v, %v", ls, err)
	}
	owned := owners(t, c, ls)
	byPID := map[int]tcpdiag.Process{}
	for _, p := range owned[0].Processes {
		byPID[p.PID] = p
	}
	child, ok := byPID[pid]
	if !ok || len(byPID) != 2 {
		t.Fatalf("owners = %+v, want this process and child %d", owned[0].Processes, pid)
	}
	if child.Command != "sleep" || child.OpenFiles != 4 || child.MaxOpenFiles != 4 || !child.AtFDLimit || !slices.Equal(child.FDs, []int{3}) {
		t.Errorf("child = %+v, want sleep with fd 3, 4 of 4 descriptors, at its limit", child)
	}
	self := byPID[os.Getpid()]
	if want := []int{min(fd, dup), max(fd, dup)}; self.AtFDLimit || !slices.Equal(self.FDs, want) {
		t.Errorf("self = %+v, want fds %v, not at its limit", self, want)
	}
}

// tcp_metrics is per namespace and keyed by (local, peer): the client's
// namespace lists the server it talked to.
func TestIntegrationTCPMetrics(t *testing.T) {
	nstest.RequireRoot(t)
	cns, sns := nstest.New(t), nstest.New(t)
	nstest.Veth(t, cns, "c0", "10.231.0.1/24", sns, "s0", "10.231.0.2/24")
	for _, ns := range []*nstest.NS{cns, sns} {
		ns.Sysctl(t, "net.ipv4.tcp_no_metrics_save", "0")
	}
	server := netip.MustParseAddrPort("10.231.0.2:8080")
	var ln net.Listener
	sns.Do(t, func() error {
		var err error
		ln, err = net.Listen("tcp", server.String())
		return err
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, conn)
			conn.Close()
		}
	})
	defer wg.Wait()
	defer ln.Close()

	for range 3 {
		conn, err := cns.Dial(t, server, 3*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", server, err)
		}
		if _, err := conn.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}

	c := dialNS(t, tcpdiag.NetNSPath(cns.Path))
	var ms []tcpdiag.Metrics
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		ms, err = c.TCPMetrics()
		if err != nil {
			t.Fatalf("TCPMetrics: %v", err)
		}
		if len(ms) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ms) != 1 {
		t.Fatalf("client metrics = %+v, want one entry for %v", ms, server.Addr())
	}
	m := ms[0]
	if m.Peer != server.Addr() || m.Local != netip.MustParseAddr("10.231.0.1") {
		t.Errorf("entry key = %v -> %v, want 10.231.0.1 -> %v", m.Local, m.Peer, server.Addr())
	}
	if !m.Has(tcpdiag.FieldRTT) || m.RTT <= 0 || m.RTT > time.Second || m.Age > time.Minute {
		t.Errorf("entry = %+v, want an RTT between 0 and 1 s", m)
	}
	// Kernels since 4.12 never record the TIME_WAIT timestamp.
	if m.Has(tcpdiag.FieldTWTimestamp) || m.TWTimestampFresh() {
		t.Errorf("entry has a TW timestamp on this kernel: %+v", m)
	}

	// The server's namespace has its own cache; the cache of a third,
	// unrelated namespace is empty.
	other := dialNS(t, tcpdiag.NetNSPath(nstest.New(t).Path))
	if ms, err := other.TCPMetrics(); err != nil || len(ms) != 0 {
		t.Errorf("metrics of an unrelated namespace = %v, %v; want none", ms, err)
	}
}
