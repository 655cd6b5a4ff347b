package paws

import (
	"errors"
	"io/fs"
	"net/netip"
	"testing"
	"time"
)

func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTimestampWrap(t *testing.T) {
	tests := []struct {
		a, b   Timestamp
		before bool
		sub    int32
	}{
		{999, 1000, true, -1},
		{100, 4000000000, false, 294967396},
		{4000000000, 100, true, -294967396},
		{0x80000000, 0, true, -2147483648},
	}
	for _, tt := range tests {
		if got := tt.a.Before(tt.b); got != tt.before {
			t.Errorf("%d.Before(%d) = %v", tt.a, tt.b, got)
		}
		if got := tt.a.Sub(tt.b); got != tt.sub {
			t.Errorf("%d.Sub(%d) = %d, want %d", tt.a, tt.b, got, tt.sub)
		}
	}
	if s := Time(-1).Seconds(); s != -1 {
		t.Errorf("Time(-1).Seconds() = %d, want -1 (floor)", s)
	}
	if s := Time(1700000000999999999).Seconds(); s != 1700000000 {
		t.Errorf("Seconds = %d", s)
	}
}

func TestProfileFor(t *testing.T) {
	tests := []struct {
		kernel string
		check  func(p Profile) bool
		what   string
	}{
		{"3.10.0-1160.el7.x86_64", func(p Profile) bool {
			return p.Era == EraConnRequest && p.ListenCountersOnSYN && p.SynQueue == SynQueuePow2 && p.AcceptQueueYoung && p.SyncookiesAlways && p.HZ == 1000 && p.TWReuse == TWReuseAfter1s
		}, "RHEL 7 backports"},
		{"2.6.32-642.6.2.el6.x86_64", func(p Profile) bool {
			return p.Era == EraInetPeer && !p.ListenCountersOnSYN && !p.PerHostIPv6 && p.PAWSZeroExempt && p.ChallengeACK
		}, "RHEL 6"},
		{"2.6.32.69", func(p Profile) bool { return !p.PAWSZeroExempt && p.DefaultSyncookies == 0 && !p.PerHostIPv6 }, "vanilla 2.6.32"},
		{"3.7.2", func(p Profile) bool { return p.Era == EraMetrics && !p.ListenCountersOnSYN }, "3.7"},
		{"3.8.3", func(p Profile) bool { return p.ListenCountersOnSYN }, "3.8 ListenDrops"},
		{"4.9.0", func(p Profile) bool { return p.AcceptQueueYoung }, "4.9.0 young rule"},
		{"4.9.229", func(p Profile) bool { return !p.AcceptQueueYoung }, "4.9.229 backport"},
		{"4.11.0", func(p Profile) bool {
			return p.HasTWRecycle && p.Counters.Has(PAWSPassive) && p.TSOffset == TSOffsetPerHostPair
		}, "4.11"},
		{"4.12.0", func(p Profile) bool { return !p.HasTWRecycle && !p.Counters.Has(PAWSPassive) && p.TSClockHz == 250 }, "4.12"},
		{"4.13.4", func(p Profile) bool { return p.TSClockHz == 1000 && p.Proven == ProvenNever }, "4.13"},
		{"4.14.5", func(p Profile) bool { return p.Proven == ProvenRTT && p.TWReuse == TWReuseAfter1s }, "4.14"},
		{"4.19.108", func(p Profile) bool { return p.TWReuse == TWReuseAfter0s && p.DefaultTWReuse == 2 }, "4.19"},
		{"5.0.1", func(p Profile) bool { return p.DefaultSomaxconn == 128 }, "5.0 somaxconn"},
		{"5.4.286", func(p Profile) bool { return p.DefaultSomaxconn == 4096 && p.SynQueue == SynQueueBacklog }, "5.4"},
		{"6.13.7", func(p Profile) bool { return p.SynQueue == SynQueueBacklogStrict && !p.PAWSOldAck }, "6.13"},
		{"6.14.0", func(p Profile) bool { return p.PAWSOldAck && !p.TSEcrCheck && p.HasTWReuseDelay }, "6.14"},
		{"6.15.0", func(p Profile) bool { return p.TSEcrCheck && p.TimeWaitPAWSCounter == PAWSEstab }, "6.15"},
		{"6.16.0", func(p Profile) bool {
			return p.TimeWaitPAWSCounter == PAWSTimewait && p.TSOffset == TSOffsetPerHostPair
		}, "6.16"},
		{"6.18.44", func(p Profile) bool { return p.TSOffset == TSOffsetPerConnection && p.PAWSIdle == 2147*time.Second }, "6.18.44 lab"},
		{"6.12.94", func(p Profile) bool { return p.TSOffset == TSOffsetPerConnection }, "6.12.94 stable"},
		{"7.0.0", func(p Profile) bool { return p.TSOffset == TSOffsetPerConnection }, "7.0"},
		{"4.10.0", func(p Profile) bool { return p.TSOffset == TSOffsetPerConnection }, "4.10.0"},
	}
	for _, tt := range tests {
		if p := ProfileFor(MustParseKernelVersion(tt.kernel)); !tt.check(p) {
			t.Errorf("%s: %s: %v", tt.kernel, tt.what, p)
		}
	}
}

func TestSettings(t *testing.T) {
	p := ProfileFor(MustParseKernelVersion("6.18.44"))
	s := DefaultSettings(p)
	if s.Somaxconn != 4096 || s.TCPTwReuse != 2 || s.TCPSyncookies != 1 || s.TCPTimestamps != 1 {
		t.Errorf("defaults %+v", s)
	}
	if err := s.SetSysctl("net.ipv4.tcp_rfc1337", 1); err != nil || s.TCPRFC1337 != 1 {
		t.Errorf("SetSysctl: %v, %+v", err, s)
	}
	if err := s.SetSysctl("net.ipv4.tcp_timestamps", 3); !errors.Is(err, ErrSetting) {
		t.Errorf("out of range: %v", err)
	}
	if err := s.SetSysctl("net.ipv4.nope", 1); !errors.Is(err, ErrSetting) {
		t.Errorf("unknown: %v", err)
	}
	if v, ok := s.Sysctl(SysctlTCPRFC1337); !ok || v != 1 {
		t.Errorf("Sysctl = %d, %v", v, ok)
	}
	if p.HasSysctl(SysctlTCPTwRecycle) || !p.HasSysctl(SysctlTCPTwReuseDelay) || p.HasSysctl("net.ipv4.nope") {
		t.Error("HasSysctl")
	}
	s.TCPTwRecycle = 1
	_, err := NewEvaluator(Config{Profile: p, Settings: s, Listener: Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80")}})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("tw_recycle on 6.18: %v", err)
	}
	if _, err := NewEvaluator(Config{Profile: p, Settings: DefaultSettings(p)}); !errors.Is(err, ErrConfig) {
		t.Errorf("no listener: %v", err)
	}
}

func TestCounters(t *testing.T) {
	var c Counters
	c[PAWSPassive] = 2
	c[ListenDrops] = 1
	if c.String() != "PAWSPassive+2 ListenDrops+1" {
		t.Errorf("String = %q", c.String())
	}
	if m := c.Map(); len(m) != 2 || m["PAWSPassive"] != 2 {
		t.Errorf("Map = %v", m)
	}
	for i := 0; i < NumCounters; i++ {
		if got, ok := CounterByName(Counter(i).Name()); !ok || got != Counter(i) {
			t.Errorf("CounterByName(%s)", Counter(i).Name())
		}
	}
	if Counter(200).Name() != "Counter(200)" || PassiveOpens.Group() != "Tcp" || PAWSEstab.Group() != "TcpExt" {
		t.Error("Name/Group")
	}
	if (Counters{}).String() != "—" {
		t.Error("zero String")
	}
	n := testing.AllocsPerRun(100, func() { c.ForEach(func(Counter, uint64) {}) })
	if n != 0 {
		t.Errorf("ForEach allocates %v", n)
	}
}

// TestRules covers rules the vectors do not: request expiry and young,
// the SYN-queue capacity before 4.4, FIN_WAIT2 and its cache writer,
// syncookies=2 and the cookie third ACK, tcp_max_tw_buckets, TIME_WAIT
// expiry counting before 4.1, the ACK rate limit.
func TestRules(t *testing.T) {
	t.Run("young and expiry", func(t *testing.T) {
		sim, err := NewSim("3.10.105", "10.0.0.1:80", 128)
		if err != nil {
			t.Fatal(err)
		}
		sim.SYN(0, "198.51.100.1:1000", 1)
		sim.SYN(0.5, "198.51.100.1:1001", 1)
		if q := sim.E.Queues(); q.QLen != 2 || q.Young != 2 || q.SynLimit != 256 {
			t.Errorf("queues %+v", q)
		}
		sim.E.Advance(sim.At(1.2))
		if q := sim.E.Queues(); q.QLen != 2 || q.Young != 1 {
			t.Errorf("after 1.2 s: %+v", q)
		}
		sim.E.Advance(sim.At(63.6))
		if q := sim.E.Queues(); q.QLen != 0 || q.Young != 0 {
			t.Errorf("after 63.6 s: %+v", q)
		}
	})
	t.Run("fin_wait2 writer", func(t *testing.T) {
		sim, err := NewSim("3.10.105", "10.0.0.1:80", 128, Sysctl{SysctlTCPTwRecycle, 1})
		if err != nil {
			t.Fatal(err)
		}
		e := sim.E
		src := netip.MustParseAddrPort("198.51.100.7:1000")
		e.Step(Event{Time: sim.At(1), Type: EventServerClose, Src: src, HasTS: true, TSval: 500, FinWait2: true})
		r := e.Step(Event{Time: sim.At(3), Type: EventClientClose, Src: src, HasTS: true, TSval: 9000})
		if r.Outcome != OutcomeACK {
			t.Errorf("FIN: %v", r.Explain())
		}
		c, ok := e.Cache(netip4("10.0.0.1"), src.Addr())
		if !ok || c.TSval != 9000 || c.Stamp != SimWallStart+3 {
			t.Errorf("cache after FIN: %+v", c)
		}
		if tw, ok := e.TimeWait(netip.MustParseAddrPort("10.0.0.1:80"), src); !ok || tw.FinWait2 || tw.Expires != sim.At(3.7) {
			t.Errorf("TIME_WAIT %+v %v", tw, ok)
		}
		d := e.Advance(sim.At(4))
		if d[TWKilled] != 1 {
			t.Errorf("expiry of a recycled TIME_WAIT on 3.10 counts TWKilled: %v", d)
		}
	})
	t.Run("syncookies 2 and cookie ACK", func(t *testing.T) {
		sim, err := NewSim("6.18.44", "10.0.0.1:80", 1, Sysctl{SysctlTCPSyncookies, 2})
		if err != nil {
			t.Fatal(err)
		}
		r := sim.SYN(0, "198.51.100.8:1000", 1)
		if r.Outcome != OutcomeAnswerCookie || r.Counters[TCPReqQFullDoCookies] != 1 || r.Counters[SyncookiesSent] != 1 {
			t.Errorf("syncookies=2: %v %v", r.Explain(), r.Counters)
		}
		r = sim.ACK(0.1, "198.51.100.8:1000", 2)
		if r.Outcome != OutcomeAccept || r.Counters[SyncookiesRecv] != 1 || r.Counters[PassiveOpens] != 1 {
			t.Errorf("cookie ACK: %v %v", r.Explain(), r.Counters)
		}
		r = sim.ACK(0.2, "198.51.100.9:1000", 2)
		if r.Outcome != OutcomeRST || r.Counters[SyncookiesFailed] != 1 {
			t.Errorf("bad cookie ACK: %v %v", r.Explain(), r.Counters)
		}
		sim.SYN(0.3, "198.51.100.8:1001", 1)
		sim.SYN(0.3, "198.51.100.8:1002", 1)
		sim.ACK(0.4, "198.51.100.8:1001", 2)
		r = sim.ACK(0.6, "198.51.100.8:1002", 2)
		if r.Outcome != OutcomeDrop || r.Reason != ReasonAcceptqFull || r.Counters[ListenOverflows] != 1 {
			t.Errorf("cookie ACK into a full accept queue: %v %v", r.Explain(), r.Counters)
		}
	})
	t.Run("max tw buckets", func(t *testing.T) {
		sim, err := NewSim("6.18.44", "10.0.0.1:80", 128, Sysctl{SysctlTCPMaxTwBuckets, 1})
		if err != nil {
			t.Fatal(err)
		}
		sim.ServerClose(0, "198.51.100.1:1", 5, 0)
		r := sim.ServerClose(0, "198.51.100.1:2", 5, 0)
		if r.Counters[TCPTimeWaitOverflow] != 1 || r.Counters[TW] != 0 {
			t.Errorf("overflow: %v", r.Counters)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		sim, err := NewSim("6.18.44", "10.0.0.1:80", 128, Sysctl{SysctlTCPRFC1337, 1})
		if err != nil {
			t.Fatal(err)
		}
		sim.ServerClose(0, "198.51.100.1:1", 5000, 0)
		r1 := sim.SYN(1, "198.51.100.1:1", 4000)
		r2 := sim.SYN(1.01, "198.51.100.1:1", 4001)
		if r1.Outcome != OutcomeACK || r2.Outcome != OutcomeDrop || r2.Counters[TCPACKSkippedTimeWait] != 1 || r2.Counters[PAWSTimewait] != 1 {
			t.Errorf("rate limit: %v / %v %v", r1.Explain(), r2.Explain(), r2.Counters)
		}
	})
	t.Run("out of order clamp", func(t *testing.T) {
		sim, err := NewSim("6.18.44", "10.0.0.1:80", 128)
		if err != nil {
			t.Fatal(err)
		}
		sim.SYN(5, "198.51.100.1:1", 1)
		if r := sim.SYN(4, "198.51.100.1:2", 1); r.Event.Time != sim.At(5) {
			t.Errorf("time %v, want clamped to %v", r.Event.Time, sim.At(5))
		}
	})
	t.Run("listen clamp", func(t *testing.T) {
		for _, k := range []struct {
			kernel string
			want   int
		}{{"5.0.1", 128}, {"5.4.286", 1024}} {
			sim, err := NewSim(k.kernel, "10.0.0.1:80", 1024)
			if err != nil {
				t.Fatal(err)
			}
			if q := sim.E.Queues(); q.Backlog != k.want {
				t.Errorf("%s: listen(1024) backlog %d, want %d", k.kernel, q.Backlog, k.want)
			}
		}
	})
}
