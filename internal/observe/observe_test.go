package observe

import (
	"errors"
	"io/fs"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/procfixture"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/sysctl"
	"github.com/paws-go/paws/tcpdiag"
)

func TestOpenInvalid(t *testing.T) {
	for _, tg := range []Target{{PID: 1, NetNS: "/run/netns/x"}, {PID: -3}} {
		o, err := Open(tg)
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%+v) = %v, %v; want an error matching fs.ErrInvalid", tg, o, err)
		}
	}
}

func TestTargetString(t *testing.T) {
	for tg, want := range map[Target]string{{}: "host", {PID: 42}: "pid 42", {NetNS: "/run/netns/a"}: "/run/netns/a"} {
		if got := tg.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", tg, got, want)
		}
	}
}

// fixture returns the /proc tree of kernel as a MapFS that the test may
// change.
func fixture(t *testing.T, kernel string) fstest.MapFS {
	t.Helper()
	src, err := procfixture.FS(kernel)
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	err = fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// bump adds n to counter name of protocol proto in a /proc/net/netstat or
// snmp text.
func bump(t *testing.T, text, proto, name string, n uint64) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != proto+":" || len(values) != len(names) {
			continue
		}
		if j := slices.Index(names, name); j > 0 {
			v, err := strconv.ParseUint(values[j], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			values[j] = strconv.FormatUint(v+n, 10)
			lines[i+1] = strings.Join(values, " ")
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no %s:%s in the fixture", proto, name)
	return ""
}

// observation builds an Observation of a fixture kernel over 2 s, with
// counters bumped by moves (by "Proto:Name"), the given sysctl file
// overrides and listeners.
func observation(t *testing.T, kernel string, sysctls map[string]string, moves map[string]uint64, ls []tcpdiag.Owned) *Observation {
	t.Helper()
	m := fixture(t, kernel)
	for path, v := range sysctls {
		m[path] = &fstest.MapFile{Data: []byte(v + "\n")}
	}
	tcp, err := sysctl.NewFSFromFS(m).TCP()
	if err != nil {
		t.Fatal(err)
	}
	text := string(m["net/netstat"].Data) + string(m["net/snmp"].Data)
	prev, err := netstat.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for c, n := range moves {
		proto, name, _ := strings.Cut(c, ":")
		text = bump(t, text, proto, name, n)
	}
	cur, err := netstat.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	prev.Time = time.Unix(1700000000, 0)
	cur.Time = prev.Time.Add(2 * time.Second)
	d, err := cur.Sub(prev)
	if err != nil {
		t.Fatal(err)
	}
	return &Observation{TCP: tcp, Counters: cur, Delta: d, Listeners: ls}
}

func TestHostOfRHEL7(t *testing.T) {
	kernel := "3.10.0-1160.el7.x86_64"
	ls := []tcpdiag.Owned{{
		Listener:  tcpdiag.Listener{Local: netip.MustParseAddrPort("0.0.0.0:80"), AcceptQueue: 129, Backlog: 128},
		Processes: []tcpdiag.Process{{PID: 7, Command: "httpd", OpenFiles: 1024, MaxOpenFiles: 1024, AtFDLimit: true}},
	}}
	ob := observation(t, kernel,
		map[string]string{"sys/net/ipv4/tcp_tw_recycle": "1"},
		map[string]uint64{"TcpExt:PAWSPassive": 5, "TcpExt:ListenDrops": 5}, ls)
	h := hostOf(ob)
	if h.Profile.Kernel.String() != kernel || !h.Profile.HasTWRecycle {
		t.Errorf("profile %v", h.Profile)
	}
	if h.Settings.TCPTwRecycle != 1 {
		t.Errorf("tcp_tw_recycle %d, want 1 from the fixture", h.Settings.TCPTwRecycle)
	}
	if !slices.Contains(h.Absent, paws.SysctlTCPTwReuseDelay) || slices.Contains(h.Absent, paws.SysctlTCPTwRecycle) {
		t.Errorf("absent %v: want tcp_tw_reuse_delay, not tcp_tw_recycle", h.Absent)
	}
	if !h.Observed.Has(paws.PAWSPassive) || h.Observed.Has(paws.PAWSTimewait) || !h.Observed.Has(paws.PassiveOpens) {
		t.Errorf("observed %b: want PAWSPassive and PassiveOpens, not PAWSTimewait", h.Observed)
	}
	if h.Deltas[paws.PAWSPassive] != 5 || h.Deltas[paws.ListenDrops] != 5 || h.Deltas[paws.ListenOverflows] != 0 {
		t.Errorf("deltas %v", h.Deltas)
	}
	if h.Interval != 2*time.Second {
		t.Errorf("interval %v", h.Interval)
	}
	wantL := []paws.HostListener{{Addr: netip.MustParseAddrPort("0.0.0.0:80"), AcceptQueue: 129, Backlog: 128,
		Owners: []paws.HostProcess{{PID: 7, Command: "httpd", OpenFiles: 1024, MaxOpenFiles: 1024, AtFDLimit: true}}}}
	if len(h.Listeners) != 1 || h.Listeners[0].Addr != wantL[0].Addr || !slices.Equal(h.Listeners[0].Owners, wantL[0].Owners) ||
		h.Listeners[0].AcceptQueue != 129 || h.Listeners[0].Backlog != 128 {
		t.Errorf("listeners %+v, want %+v", h.Listeners, wantL)
	}
	var checks []paws.Check
	for _, f := range paws.Diagnose(h) {
		checks = append(checks, f.Check)
	}
	for _, c := range []paws.Check{paws.CheckPerHostPAWSDrops, paws.CheckPerHostPAWSRisk, paws.CheckAcceptQueueFull, paws.CheckFDLimit} {
		if !slices.Contains(checks, c) {
			t.Errorf("Diagnose gave %v, missing %s", checks, c)
		}
	}
}

func TestHostOf618(t *testing.T) {
	ob := observation(t, "6.18.44-fc-v595", nil, map[string]uint64{"TcpExt:PAWSTimewait": 3, "Tcp:PassiveOpens": 40}, nil)
	h := hostOf(ob)
	if !slices.Contains(h.Absent, paws.SysctlTCPTwRecycle) {
		t.Errorf("absent %v: want tcp_tw_recycle", h.Absent)
	}
	if h.Observed.Has(paws.PAWSPassive) || !h.Observed.Has(paws.PAWSTimewait) {
		t.Errorf("observed %b", h.Observed)
	}
	if h.Deltas[paws.PAWSTimewait] != 3 || h.Deltas[paws.PassiveOpens] != 40 {
		t.Errorf("deltas %v", h.Deltas)
	}
	fs := paws.Diagnose(h)
	if len(fs) != 1 || fs[0].Check != paws.CheckTimeWaitPAWS {
		t.Errorf("findings %+v, want one timewait-paws", fs)
	}
}

// TestHostOfOneReading checks that without a Delta the Host has no
// interval and no deltas, but still which counters exist.
func TestHostOfOneReading(t *testing.T) {
	ob := observation(t, "6.18.44-fc-v595", nil, map[string]uint64{"TcpExt:ListenOverflows": 3}, nil)
	ob.Delta = nil
	h := hostOf(ob)
	if h.Interval != 0 || !h.Deltas.IsZero() || !h.Observed.Has(paws.ListenOverflows) {
		t.Errorf("interval %v, deltas %v, observed %b", h.Interval, h.Deltas, h.Observed)
	}
}

// TestDropDeltas checks the per-listener drops: none on the first dump,
// then the rise of each socket's counter by cookie, modulo 2^32, and all
// the drops of a socket opened since the previous dump.
func TestDropDeltas(t *testing.T) {
	o := &Observer{drops: map[uint64]uint32{}, prevDrops: map[uint64]uint32{}}
	owned := func(ls ...tcpdiag.Listener) []tcpdiag.Owned {
		out := make([]tcpdiag.Owned, len(ls))
		for i, l := range ls {
			out[i] = tcpdiag.Owned{Listener: l}
		}
		return out
	}
	if got := o.dropDeltas(owned(tcpdiag.Listener{Cookie: 1, Drops: 10}, tcpdiag.Listener{Cookie: 2, Drops: math.MaxUint32 - 1})); got != nil {
		t.Errorf("first dump: %v, want nil", got)
	}
	// Cookie 2 wraps; 3 is new; 1 is gone and a new socket 4 has its port.
	got := o.dropDeltas(owned(tcpdiag.Listener{Cookie: 2, Drops: 3}, tcpdiag.Listener{Cookie: 3, Drops: 7}, tcpdiag.Listener{Cookie: 4}))
	if want := []uint64{5, 7, 0}; !slices.Equal(got, want) {
		t.Errorf("second dump: %v, want %v", got, want)
	}
	got = o.dropDeltas(owned(tcpdiag.Listener{Cookie: 3, Drops: 7}, tcpdiag.Listener{Cookie: 1, Drops: 10}))
	if want := []uint64{0, 10}; !slices.Equal(got, want) {
		t.Errorf("third dump: %v, want %v (cookie 1 was not in the previous dump)", got, want)
	}
}

// TestHostOfDrops checks that the per-listener drops reach the Host only
// on kernels that count them.
func TestHostOfDrops(t *testing.T) {
	ls := []tcpdiag.Owned{
		{Listener: tcpdiag.Listener{Local: netip.MustParseAddrPort("127.0.0.1:8080")}},
		{Listener: tcpdiag.Listener{Local: netip.MustParseAddrPort("127.0.0.1:9090")}},
	}
	for _, tc := range []struct {
		kernel string
		drops  []uint64
		known  bool
	}{
		{"6.18.44-fc-v595", []uint64{0, 12}, true},
		{"6.18.44-fc-v595", nil, false}, // first reading, or NoDrops
		{"3.10.0-1160.el7.x86_64", []uint64{0, 12}, false},
	} {
		ob := observation(t, tc.kernel, nil, map[string]uint64{"TcpExt:ListenOverflows": 12, "TcpExt:ListenDrops": 12}, ls)
		ob.Drops = tc.drops
		h := hostOf(ob)
		for i, l := range h.Listeners {
			if l.DropsKnown != tc.known || (tc.known && l.Drops != tc.drops[i]) || (!tc.known && l.Drops != 0) {
				t.Errorf("%s, drops %v: listener %d %+v", tc.kernel, tc.drops, i, l)
			}
		}
		fs := paws.Diagnose(h)
		i := slices.IndexFunc(fs, func(f paws.Finding) bool { return f.Check == paws.CheckListenOverflows })
		if i < 0 {
			t.Fatalf("%s: no listen-overflows in %+v", tc.kernel, fs)
		}
		if want := netip.MustParseAddrPort("127.0.0.1:9090"); tc.known != (fs[i].Listener == want) {
			t.Errorf("%s, drops %v: listen-overflows about %v", tc.kernel, tc.drops, fs[i].Listener)
		}
	}
}
