//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/internal/observe"
)

// get fetches /healthz and decodes the body.
func get(t *testing.T, url string) (int, report) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("GET %s: %d, body: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, rep
}

func has(rep report, check paws.Check, listener string) bool {
	return slices.ContainsFunc(rep.Findings, func(f finding) bool { return f.Check == check && f.Listener == listener })
}

// TestIntegrationHealthz floods a listener of backlog 2 in a namespace:
// /healthz answers 503 with the accept-queue-full finding for it, then,
// once the queue is drained and nothing was dropped since the previous
// request, 200.
func TestIntegrationHealthz(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	full := netip.MustParseAddrPort("127.0.0.1:8080")
	other := netip.MustParseAddrPort("127.0.0.1:9090")
	fd := ns.Listen(t, full, 2)
	ns.Listen(t, other, 16)

	obs, err := observe.Open(observe.Target{NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	s, err := newServer(obs, policy{minDrops: 1, fill: 1, owners: ownersQueued})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.mux())
	defer srv.Close()

	if code, rep := get(t, srv.URL+"/healthz"); code != http.StatusOK || rep.Status != "ok" {
		t.Fatalf("idle namespace: %d %+v", code, rep)
	}

	conns := ns.DialMany(t, full, 8, 1500*time.Millisecond)
	if len(conns) < 3 {
		t.Fatalf("%d of 8 connects succeeded, want at least 3 (backlog 2 holds 3)", len(conns))
	}
	code, rep := get(t, srv.URL+"/healthz")
	if code != http.StatusServiceUnavailable || rep.Status != "critical" || !has(rep, paws.CheckAcceptQueueFull, full.String()) {
		t.Fatalf("flooded listener: %d %+v", code, rep)
	}
	if has(rep, paws.CheckAcceptQueueFull, other.String()) {
		t.Errorf("the idle listener is reported full: %+v", rep)
	}
	// -owners=queued scanned /proc because the queue is not empty: the
	// finding names this process, which holds the socket.
	if i := slices.IndexFunc(rep.Findings, func(f finding) bool { return f.Check == paws.CheckAcceptQueueFull }); !strings.Contains(rep.Findings[i].Evidence, fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("accept-queue-full evidence does not name this process: %q", rep.Findings[i].Evidence)
	}
	t.Logf("flooded: %d %+v", code, rep)

	// Only port 9090: the full listener's findings are left out.
	setPorts := func(ports ...uint16) {
		s.mu.Lock()
		s.pol.ports = ports
		s.mu.Unlock()
	}
	setPorts(other.Port())
	if _, rep := get(t, srv.URL+"/healthz"); has(rep, paws.CheckAcceptQueueFull, full.String()) {
		t.Errorf("-port 9090 reports the listener on 8080: %+v", rep)
	}
	setPorts()

	// Accept and close every queued connection: the queue is empty and
	// no counter moved since the previous request.
	for range len(conns) {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			break
		}
		unix.Close(nfd)
	}
	for _, c := range conns {
		c.Close()
	}
	if code, rep := get(t, srv.URL+"/healthz"); code != http.StatusOK || rep.Status != "ok" || rep.Interval <= 0 {
		t.Fatalf("drained listener: %d %+v", code, rep)
	}
}

// TestIntegrationPortDrops floods the listener on 9090 of a namespace
// that also has one on 8080: the namespace-wide ListenOverflows rises, but
// only 9090's own drop counter does, so a check of -port 8080 answers 200
// and one of -port 9090 answers 503 with listen-overflows about it.
func TestIntegrationPortDrops(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	quiet := netip.MustParseAddrPort("127.0.0.1:8080")
	flooded := netip.MustParseAddrPort("127.0.0.1:9090")
	ns.Listen(t, quiet, 16)
	ns.Listen(t, flooded, 2)

	// One server per port, each with its baseline taken before the flood.
	healthz := func(port uint16) string {
		obs, err := observe.Open(observe.Target{NetNS: ns.Path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { obs.Close() })
		s, err := newServer(obs, policy{ports: []uint16{port}, minDrops: 1, fill: 1, owners: ownersNever})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.mux())
		t.Cleanup(srv.Close)
		return srv.URL + "/healthz"
	}
	quietURL, floodedURL := healthz(quiet.Port()), healthz(flooded.Port())

	ns.ConnectMany(t, flooded, 12)
	time.Sleep(1500 * time.Millisecond) // the first SYNs and one retransmission meet the full queue

	code, rep := get(t, quietURL)
	if code != http.StatusOK || rep.Status != "ok" || len(rep.Findings) != 0 {
		t.Errorf("-port 8080 while 9090 overflows: %d %+v", code, rep)
	}
	code, rep = get(t, floodedURL)
	if code != http.StatusServiceUnavailable || !has(rep, paws.CheckListenOverflows, flooded.String()) || !has(rep, paws.CheckAcceptQueueFull, flooded.String()) {
		t.Fatalf("-port 9090 while it overflows: %d %+v", code, rep)
	}
	i := slices.IndexFunc(rep.Findings, func(f finding) bool { return f.Check == paws.CheckListenOverflows })
	if ev := rep.Findings[i].Evidence; !strings.Contains(ev, "dropped by listener (sk_drops): 127.0.0.1:9090 +") {
		t.Errorf("listen-overflows evidence does not give 9090's drops: %q", ev)
	}
	t.Logf("-port 9090: %s", rep.Findings[i].Evidence)
}

// TestIntegrationRun runs the program against a namespace, fetches
// /healthz from the address it prints, and stops it.
func TestIntegrationRun(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	ns.Listen(t, netip.MustParseAddrPort("127.0.0.1:8080"), 8)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	codec := make(chan int, 1)
	go func() {
		codec <- run(ctx, []string{"-listen", "127.0.0.1:0", "-netns", ns.Path, "-port", "8080"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	var url string
	if _, err := fmt.Sscanf(line, "healthcheck: serving %s for", &url); err != nil || !strings.HasSuffix(url, "/healthz") {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, pr)
	if code, rep := get(t, url); code != http.StatusOK || rep.Status != "ok" {
		t.Errorf("GET %s: %d %+v", url, code, rep)
	}
	if resp, err := http.Post(url, "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %v %v", url, resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	select {
	case code := <-codec:
		if code != 0 {
			t.Errorf("exit status %d after cancel", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// BenchmarkHealthz measures one /healthz request end to end (HTTP on
// loopback, Observe, Diagnose, JSON), on this host and in a namespace
// with 8 idle listeners, scanning /proc for owners at every request
// (always) or only when a queue is not empty (queued: here never).
func BenchmarkHealthz(b *testing.B) {
	bench := func(b *testing.B, target observe.Target, owners string) {
		obs, err := observe.Open(target)
		if err != nil {
			b.Fatal(err)
		}
		defer obs.Close()
		s, err := newServer(obs, policy{minDrops: 1, fill: 1, owners: owners})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(s.mux())
		defer srv.Close()
		client := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(srv.URL + "/healthz")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	for _, owners := range []string{ownersAlways, ownersQueued} {
		b.Run("host/owners="+owners, func(b *testing.B) { bench(b, observe.Target{}, owners) })
		b.Run("netns-8-listeners/owners="+owners, func(b *testing.B) {
			nstest.RequireRoot(b)
			ns := nstest.New(b)
			for i := range 8 {
				ns.Listen(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(8080+i)), 128)
			}
			bench(b, observe.Target{NetNS: ns.Path}, owners)
		})
	}
}
