//go:build linux

package netstat_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/netns"
	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/netstat"
)

// TestIntegrationListenOverflow overflows the accept queue of a listener
// in a fresh namespace and checks that the ListenOverflows and ListenDrops
// deltas read through a pid source and through a netns path source equal
// what nstat reports for the same namespace and interval.
func TestIntegrationListenOverflow(t *testing.T) {
	nstest.RequireRoot(t, "nstat", "sleep", "env")
	ns := nstest.New(t)

	// A process living in the namespace, for the /proc/PID/net source.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sleeper := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sleeper.Process.Kill()
		sleeper.Wait()
	})
	// ip netns exec execs sleep in place; wait until it has entered the
	// namespace (its ns/net link differs from ours).
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		link, err := os.Readlink("/proc/" + strconv.Itoa(sleeper.Process.Pid) + "/ns/net")
		if err == nil && link != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not enter netns %s", sleeper.Process.Pid, ns.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}

	byPID, err := netstat.OpenPID(sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer byPID.Close()
	byPath, err := netstat.OpenNetNS(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer byPath.Close()
	// The host's own counters must not be what we read.
	host, err := netstat.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()

	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	var lfd int
	ns.Do(t, func() error {
		var err error
		lfd, err = nstest.ListenRaw(addr, 4)
		return err
	})
	listenerOpen := true
	defer func() {
		if listenerOpen {
			unix.Close(lfd)
		}
	}()

	hist := filepath.Join(t.TempDir(), "nstat.hist")
	nstat := func(args ...string) string {
		return nstest.Cmd(t, "ip", append([]string{"netns", "exec", ns.Name, "env", "NSTAT_HISTORY=" + hist, "nstat"}, args...)...)
	}

	beforePID, beforePath, hostBefore := read(t, byPID), read(t, byPath), read(t, host)
	nstat("-n")

	// 30 connects, all at once, each bounded by a 3 s timeout.
	var wg sync.WaitGroup
	conns := make(chan net.Conn, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			netns.Do(ns.Target(), func() error {
				d := net.Dialer{Timeout: 3 * time.Second}
				if c, err := d.Dial("tcp", addr.String()); err == nil {
					conns <- c
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(conns)
	for c := range conns {
		c.Close()
	}
	// Closing the listener ends its SYN and accept queues, so the
	// counters stop moving before they are read.
	unix.Close(lfd)
	listenerOpen = false
	time.Sleep(200 * time.Millisecond)

	afterPID, afterPath := read(t, byPID), read(t, byPath)
	out := nstat("-z", "-s", "TcpExtListenOverflows", "TcpExtListenDrops")
	if again := read(t, byPID); !sameCounters(again, afterPID) {
		t.Log("counters still moved after the listener closed; nstat may differ")
	}
	want := parseNstat(t, out)

	for _, src := range []struct {
		name          string
		before, after *netstat.Snapshot
	}{{"pid", beforePID, afterPID}, {"netns path", beforePath, afterPath}} {
		d, err := src.after.Sub(src.before)
		if err != nil {
			t.Fatalf("%s: %v", src.name, err)
		}
		for _, c := range []netstat.Counter{netstat.TCPExtListenOverflows, netstat.TCPExtListenDrops} {
			got, ok := d.Get(c)
			if !ok {
				t.Fatalf("%s: %s missing", src.name, c)
			}
			if got == 0 {
				t.Errorf("%s: %s did not move", src.name, c)
			}
			t.Logf("%s: %s moved %d; nstat: %d", src.name, c, got, want[c.NstatName()])
			if w, ok := want[c.NstatName()]; !ok || got != w {
				t.Errorf("%s: %s moved %d, nstat says %d (%v)\n%s", src.name, c, got, w, ok, out)
			}
		}
	}

	// The overflow happened in the namespace, not on the host (the host
	// may move by itself, but not by exactly these amounts on both).
	hostAfter := read(t, host)
	hd, err := hostAfter.Sub(hostBefore)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := hd.Get(netstat.TCPExtListenOverflows); v == want["TcpExtListenOverflows"] {
		t.Errorf("host ListenOverflows moved by the namespace's %d", v)
	}
}

func read(t *testing.T, r *netstat.Reader) *netstat.Snapshot {
	t.Helper()
	s, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameCounters(a, b *netstat.Snapshot) bool {
	for c, v := range a.All() {
		if w, ok := b.Value(c); !ok || w != v {
			return false
		}
	}
	return a.Len() == b.Len()
}

// parseNstat reads "NAME VALUE RATE" lines of nstat.
func parseNstat(t *testing.T, out string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("nstat line %q: %v", line, err)
		}
		m[f[0]] = n
	}
	return m
}
