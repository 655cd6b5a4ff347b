//go:build linux

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/internal/observe"
)

// scrape fetches url and parses the text exposition format.
func scrape(t testing.TB, client *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return mfs
}

// ssListener returns Recv-Q and Send-Q of the listener on port, as
// "ss -ltnH" prints them inside ns.
func ssListener(t *testing.T, ns *nstest.NS, port uint16) (recvQ, sendQ float64) {
	t.Helper()
	for line := range strings.Lines(ns.Exec(t, "ss", "-ltnH", "sport", "=", ":"+strconv.Itoa(int(port)))) {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] != "LISTEN" {
			continue
		}
		r, err1 := strconv.ParseFloat(f[1], 64)
		s, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("ss line %q", line)
		}
		return r, s
	}
	t.Fatalf("ss -ltnH shows no listener on port %d", port)
	return 0, 0
}

// TestIntegrationScrape floods a listener of backlog 4 with 10 connects
// in a namespace, scrapes /metrics over HTTP and compares the listener
// gauges with ss -ltn in that namespace.
func TestIntegrationScrape(t *testing.T) {
	nstest.RequireRoot(t, "ss")
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	ns.Listen(t, addr, 4)

	obs, err := observe.Open(observe.Target{NetNS: ns.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	if _, err := obs.Observe(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	h, err := handler(newCollector(obs, &log), &log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	if n := len(ns.DialMany(t, addr, 10, 1500*time.Millisecond)); n < 5 {
		t.Fatalf("%d of 10 connects succeeded, want at least 5 (backlog 4 holds 5)", n)
	}
	mfs := scrape(t, srv.Client(), srv.URL+"/metrics")
	recvQ, sendQ := ssListener(t, ns, addr.Port())
	if q, ok := value(mfs, "paws_listener_accept_queue", "addr", addr.String()); !ok || q != recvQ || !nstest.FullQueue(uint64(q), 4) {
		t.Errorf("paws_listener_accept_queue = %v (present %v), ss -ltn Recv-Q %v, want 5 (6 after a race)", q, ok, recvQ)
	}
	if b, ok := value(mfs, "paws_listener_backlog", "addr", addr.String()); !ok || b != sendQ || b != 4 {
		t.Errorf("paws_listener_backlog = %v (present %v), ss -ltn Send-Q %v, want 4", b, ok, sendQ)
	}
	if v, _ := value(mfs, "paws_tcpext_listen_overflows_total"); v < 1 {
		t.Errorf("paws_tcpext_listen_overflows_total = %v after 5 refused connects", v)
	}
	if v, _ := value(mfs, "paws_findings", "check", string(paws.CheckAcceptQueueFull)); v != 1 {
		t.Errorf("paws_findings{check=%q} = %v, want 1", paws.CheckAcceptQueueFull, v)
	}
	if v, _ := value(mfs, "paws_scrape_success"); v != 1 {
		t.Errorf("paws_scrape_success = %v; log: %s", v, log.String())
	}
	if _, ok := value(mfs, "paws_sysctl_net_ipv4_tcp_tw_recycle"); ok {
		t.Error("tcp_tw_recycle exported on a kernel without it")
	}
	var all []*dto.MetricFamily
	for _, mf := range mfs {
		all = append(all, mf)
	}
	lint(t, all)
}

// BenchmarkScrape measures one scrape over HTTP (Observe, Diagnose,
// encoding), on this host and in a namespace with 8 listeners.
func BenchmarkScrape(b *testing.B) {
	bench := func(b *testing.B, target observe.Target) {
		obs, err := observe.Open(target)
		if err != nil {
			b.Fatal(err)
		}
		defer obs.Close()
		if _, err := obs.Observe(); err != nil {
			b.Fatal(err)
		}
		h, err := handler(newCollector(obs, io.Discard), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(srv.URL + "/metrics")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("host", func(b *testing.B) { bench(b, observe.Target{}) })
	b.Run("netns-8-listeners", func(b *testing.B) {
		nstest.RequireRoot(b)
		ns := nstest.New(b)
		for i := range 8 {
			ns.Listen(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(8080+i)), 128)
		}
		bench(b, observe.Target{NetNS: ns.Path})
	})
}
