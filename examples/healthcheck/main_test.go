package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/tcpdiag"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-port", "80,443", "-port", "8080", "-min-drops", "5", "-fill", "0.8", "-netns", "/run/netns/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.pol.ports, []uint16{80, 443, 8080}) || c.pol.minDrops != 5 || c.pol.fill != 0.8 || c.target.NetNS != "/run/netns/x" || c.listen != "127.0.0.1:9180" {
		t.Errorf("config %+v", c)
	}
	for _, args := range [][]string{
		{"-port", "0"},
		{"-port", "65536"},
		{"-port", "80,x"},
		{"-fill", "0"},
		{"-fill", "1.5"},
		{"-fill", "NaN"},
		{"-owners", "sometimes"},
		{"-nosuchflag"},
		{"extra"},
	} {
		if _, err := parseFlags(args, nil); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
}

// TestRunErrors checks that a bad command line or a namespace that cannot
// be entered ends the program with one line on stderr and a non-zero
// status.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-fill", "2"}, 2, "-fill 2"},
		{[]string{"-bogus"}, 2, "-bogus"},
		{[]string{"-netns", "/nonexistent/netns"}, 1, "/nonexistent/netns"},
		{[]string{"-pid", "1", "-netns", "/run/netns/x"}, 1, "not both"},
		{[]string{"-listen", "256.0.0.1:1"}, 1, "256.0.0.1"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := run(ctx, tc.args, &stderr)
		cancel()
		out := stderr.String()
		if code != tc.code || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "healthcheck: ") || !strings.Contains(out, tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and one line naming %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}

func TestFilling(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:80")
	b := netip.MustParseAddrPort("10.0.0.1:81")
	ls := []paws.HostListener{
		{Addr: a, AcceptQueue: 4, Backlog: 4},      // 4 of 5: 80 %
		{Addr: b, AcceptQueue: 3, Backlog: 4},      // 3 of 5: 60 %
		{Addr: a, AcceptQueue: 5, Backlog: 4},      // full: Diagnose's accept-queue-full
		{Addr: b, AcceptQueue: 0, Backlog: 0},      // empty
		{Addr: b, AcceptQueue: 819, Backlog: 4095}, // 819 of 4096: just under 20 %
	}
	got := filling(ls, 0.8)
	if len(got) != 1 || got[0].Listener != a || got[0].Check != checkAcceptQueueFilling || got[0].Severity != paws.SeverityCritical {
		t.Fatalf("filling(0.8) = %+v", got)
	}
	if !strings.Contains(got[0].Evidence, "holds 4 of 5") {
		t.Errorf("evidence %q", got[0].Evidence)
	}
	if got := filling(ls, 0.6); len(got) != 2 {
		t.Errorf("filling(0.6) = %d findings, want 2", len(got))
	}
	if got := filling(ls, 0.2); len(got) != 2 {
		t.Errorf("filling(0.2) = %d findings, want 2 (819 < ceil(0.2*4096) = 820)", len(got))
	}
}

func TestAssess(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:80")
	b := netip.MustParseAddrPort("[::]:8080")
	h := paws.Host{
		Profile:  paws.ProfileFor(paws.MustParseKernelVersion("6.18.0")),
		Interval: time.Second,
		Listeners: []paws.HostListener{
			{Addr: a, AcceptQueue: 4, Backlog: 4},
			{Addr: b, AcceptQueue: 90, Backlog: 100},
		},
	}
	h.Settings = paws.DefaultSettings(h.Profile)

	rep := assess(h, policy{fill: 0.8, minDrops: 1})
	if rep.Status != "critical" || rep.Interval != 1 || len(rep.Findings) != 2 {
		t.Fatalf("assess = %+v", rep)
	}
	rep = assess(h, policy{fill: 0.8, minDrops: 1, ports: []uint16{8080}})
	if rep.Status != "critical" || len(rep.Findings) != 1 || rep.Findings[0].Listener != "[::]:8080" {
		t.Fatalf("assess -port 8080 = %+v", rep)
	}
	if len(h.Listeners) != 2 {
		t.Fatal("assess changed the caller's listeners")
	}
	rep = assess(h, policy{fill: 0.95, minDrops: 1})
	if rep.Status != "ok" || len(rep.Findings) != 0 {
		t.Fatalf("assess -fill 0.95 = %+v", rep)
	}

	// The body has the documented shape, with an empty list (not null)
	// when there is nothing to say.
	j, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if string(j) != `{"status":"ok","interval_seconds":1,"findings":[]}` {
		t.Errorf("body %s", j)
	}
	j, _ = json.Marshal(assess(h, policy{fill: 0.8, minDrops: 1, ports: []uint16{80}}))
	var body struct {
		Status   string
		Findings []map[string]any
	}
	if err := json.Unmarshal(j, &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "critical" || len(body.Findings) != 1 {
		t.Fatalf("body %s", j)
	}
	for _, k := range []string{"check", "severity", "listener", "evidence", "explanation", "remedy"} {
		if s, ok := body.Findings[0][k].(string); !ok || s == "" {
			t.Errorf("finding field %q = %v in %s", k, body.Findings[0][k], j)
		}
	}
	if body.Findings[0]["severity"] != "critical" || body.Findings[0]["listener"] != "10.0.0.1:80" {
		t.Errorf("finding %v", body.Findings[0])
	}
}

// TestAssessMinDrops checks the noise floor: drops below -min-drops make
// a quiet interval, at or above it Diagnose sees every delta.
func TestAssessMinDrops(t *testing.T) {
	h := paws.Host{
		Profile:  paws.ProfileFor(paws.MustParseKernelVersion("6.18.0")),
		Interval: time.Second,
		Observed: paws.CounterSet(0).With(paws.ListenOverflows, paws.ListenDrops, paws.PassiveOpens),
		Listeners: []paws.HostListener{
			{Addr: netip.MustParseAddrPort("10.0.0.1:80"), AcceptQueue: 1, Backlog: 4},
		},
	}
	h.Settings = paws.DefaultSettings(h.Profile)
	h.Deltas[paws.ListenOverflows], h.Deltas[paws.ListenDrops], h.Deltas[paws.PassiveOpens] = 3, 3, 1000

	for _, tc := range []struct {
		minDrops uint64
		status   string
	}{{0, "critical"}, {1, "critical"}, {3, "critical"}, {4, "ok"}} {
		rep := assess(h, policy{minDrops: tc.minDrops, fill: 1})
		got := slices.ContainsFunc(rep.Findings, func(f finding) bool { return f.Check == paws.CheckListenOverflows })
		if rep.Status != tc.status || got != (tc.status == "critical") {
			t.Errorf("-min-drops %d: %+v, want status %s", tc.minDrops, rep, tc.status)
		}
	}
	if h.Deltas[paws.ListenDrops] != 3 {
		t.Error("assess changed the caller's deltas")
	}
}

// TestAssessPerListener checks -port with per-listener drops: the
// findings on namespace-wide listen-drop counters fail the check only when
// a watched listener dropped (at least -min-drops), and still do whenever
// some listener's drops are unknown.
func TestAssessPerListener(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:80")
	b := netip.MustParseAddrPort("[::]:8080")
	h := paws.Host{
		Profile:  paws.ProfileFor(paws.MustParseKernelVersion("6.18.0")),
		Interval: time.Second,
		Observed: paws.CounterSet(0).With(paws.ListenOverflows, paws.ListenDrops, paws.TCPReqQFullDrop),
		Listeners: []paws.HostListener{
			{Addr: a, DropsKnown: true},
			{Addr: b, AcceptQueue: 2, Backlog: 4, Drops: 9, DropsKnown: true},
		},
	}
	h.Settings = paws.DefaultSettings(h.Profile)
	h.Settings.TCPSyncookies = 0
	h.Deltas[paws.ListenOverflows], h.Deltas[paws.TCPReqQFullDrop], h.Deltas[paws.ListenDrops] = 5, 4, 20
	// 11 of the 20 drops were on behalf of a listener closed since.

	checks := func(rep report) []paws.Check {
		var cs []paws.Check
		for _, f := range rep.Findings {
			cs = append(cs, f.Check)
		}
		return cs
	}
	// ListenDrops exceeds the others: unproven-peer-drops too.
	all := []paws.Check{paws.CheckListenOverflows, paws.CheckSynQueueDrops, paws.CheckUnprovenPeer}
	for _, tc := range []struct {
		name     string
		ports    []uint16
		minDrops uint64
		unknown  bool // the drops of listener a are not known
		want     []paws.Check
	}{
		{"all ports", nil, 1, false, all},
		{"watched listener dropped", []uint16{8080}, 1, false, all},
		{"watched listener dropped -min-drops", []uint16{8080}, 9, false, all},
		{"watched listener dropped below -min-drops", []uint16{8080}, 10, false, nil},
		{"other listener dropped", []uint16{80}, 1, false, nil},
		{"no listener on the port", []uint16{443}, 1, false, nil},
		{"drops unknown", []uint16{80}, 1, true, all},
	} {
		h := h
		h.Listeners = slices.Clone(h.Listeners)
		h.Listeners[0].DropsKnown = !tc.unknown
		rep := assess(h, policy{ports: tc.ports, minDrops: tc.minDrops, fill: 1})
		if got := checks(rep); !slices.Equal(got, tc.want) || (rep.Status == "critical") != (len(tc.want) > 0) {
			t.Errorf("%s: %s %v, want %v", tc.name, rep.Status, got, tc.want)
		}
	}
}

func TestScanOwners(t *testing.T) {
	idle := tcpdiag.Listener{Local: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: 128}
	busy := tcpdiag.Listener{Local: netip.MustParseAddrPort("[::]:8080"), AcceptQueue: 1, Backlog: 128}
	for _, tc := range []struct {
		p    policy
		ls   []tcpdiag.Listener
		want bool
	}{
		{policy{owners: ownersAlways}, []tcpdiag.Listener{idle}, true},
		{policy{owners: ownersNever}, []tcpdiag.Listener{busy}, false},
		{policy{owners: ownersQueued}, []tcpdiag.Listener{idle}, false},
		{policy{owners: ownersQueued}, []tcpdiag.Listener{idle, busy}, true},
		{policy{owners: ownersQueued, ports: []uint16{80}}, []tcpdiag.Listener{idle, busy}, false},
		{policy{owners: ownersQueued, ports: []uint16{80, 8080}}, []tcpdiag.Listener{idle, busy}, true},
	} {
		if got := tc.p.scanOwners(tc.ls); got != tc.want {
			t.Errorf("%+v.scanOwners(%v) = %v", tc.p, tc.ls, got)
		}
	}
}
