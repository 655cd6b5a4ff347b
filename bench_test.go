package paws

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var (
	sinkResult Result
	sinkOut    Outcome
)

// workload is an evaluator and a stream of events that can be replayed
// round after round, shifted by span, with the evaluator's state staying
// the same size: the steady state that BenchmarkStep measures and
// TestStepAllocs checks.
type workload struct {
	e    *Evaluator
	evs  []Event
	span Time
	// want and reason are the outcome and reason most events must have in
	// steady state, so that a change of the model cannot silently turn
	// the benchmark into another path; unless mixed is set.
	want   Outcome
	reason Reason
	mixed  bool
	// rounds is the number of warm-up rounds that bring the state to its
	// working size; at least 3.
	rounds int
	// fresh, if set, gives the source of the n-th event of the run, each
	// a new 4-tuple: next renews the sources with it.
	fresh func(n int) netip.AddrPort
	seq   int
}

// next shifts the stream to the next round: times by span, TSvals by as
// many ticks of a 1000 Hz clock.
func (w *workload) next() {
	for i := range w.evs {
		ev := &w.evs[i]
		ev.Time += w.span
		ev.TSval += Timestamp(w.span / 1e6)
		if ev.TSvalAt != 0 {
			ev.TSvalAt += w.span
		}
		if w.fresh != nil {
			ev.Src = w.fresh(w.seq)
			w.seq++
		}
	}
}

// replay steps through the stream once and moves it to the next round.
func (w *workload) replay(fn func(Result)) {
	for i := range w.evs {
		r := w.e.Step(w.evs[i])
		if fn != nil {
			fn(r)
		}
	}
	w.next()
}

const benchStart = Time(SimWallStart * 1e9)

func newSimT(tb testing.TB, kernel string, backlog int, sysctls ...Sysctl) *Evaluator {
	tb.Helper()
	sim, err := NewSim(kernel, "10.0.0.1:80", backlog, sysctls...)
	if err != nil {
		tb.Fatal(err)
	}
	return sim.E
}

// clientAddr returns the i-th of 2^24 client addresses in 11.0.0.0/8.
func clientAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
}

// synStream returns n SYNs dt apart from src(i), with timestamps.
func synStream(n int, dt time.Duration, src func(i int) (netip.AddrPort, Timestamp)) ([]Event, Time) {
	evs := make([]Event, n)
	for i := range evs {
		a, ts := src(i)
		evs[i] = Event{Time: benchStart.Add(time.Duration(i) * dt), Type: EventSYN, Src: a, HasTS: true, TSval: ts}
	}
	return evs, Time(n) * Time(dt)
}

// The workloads of BenchmarkStep.

// wlDistinct: every SYN comes from a new 4-tuple (6.18, defaults); each
// creates a request that expires 1 s later (tcp_synack_retries=0), so
// the SYN queue holds about 2000 requests: a table insert and, at expiry,
// a delete per SYN.
func wlDistinct(tb testing.TB) *workload {
	e := newSimT(tb, "6.18.44", 4096, Sysctl{SysctlSomaxconn, 4096}, Sysctl{SysctlTCPMaxSynBacklog, 4096}, Sysctl{SysctlTCPSynackRetries, 0})
	rng := rand.New(rand.NewPCG(1, 2))
	evs, span := synStream(1<<16, 500*time.Microsecond, func(i int) (netip.AddrPort, Timestamp) {
		return netip.AddrPortFrom(clientAddr(rng.IntN(1<<20)), uint16(1024+rng.IntN(60000))), Timestamp(rng.Uint32())
	})
	return &workload{e: e, evs: evs, span: span, want: OutcomeAnswer}
}

// wlTimeWait: 2^17 TIME_WAIT sockets, each hit once per round in random
// order by a SYN whose TSval is older than its ts_recent: TIME_WAIT PAWS
// (6.18), answered with an ACK (the last one to that socket is 1.3 s
// old, beyond tcp_invalid_ratelimit) that re-arms its timer. Lookups spread over a table far
// larger than the CPU caches.
func wlTimeWait(tb testing.TB) *workload {
	const n = 1 << 17
	e := newSimT(tb, "6.18.44", 4096)
	rng := rand.New(rand.NewPCG(3, 4))
	srcs := make([]netip.AddrPort, n)
	for i := range srcs {
		srcs[i] = netip.AddrPortFrom(clientAddr(i), uint16(1024+rng.IntN(60000)))
		if err := e.SeedTimeWait(TimeWait{Remote: srcs[i], HasTS: true, TSRecent: 1 << 31, TSRecentAt: benchStart, Entered: benchStart}); err != nil {
			tb.Fatal(err)
		}
	}
	rng.Shuffle(n, func(i, j int) { srcs[i], srcs[j] = srcs[j], srcs[i] })
	evs, span := synStream(n, 10*time.Microsecond, func(i int) (netip.AddrPort, Timestamp) { return srcs[i], 1 << 30 })
	return &workload{e: e, evs: evs, span: span, want: OutcomeACK, reason: ReasonTimewaitPAWS}
}

// wlPerHost: 3.10 (RHEL 7) with tcp_tw_recycle=1 and 4096 hosts in the
// per-host cache; every SYN carries a TSval older than its host's entry
// and is dropped (PAWSPassive): a cache hit per SYN, no state change.
func wlPerHost(tb testing.TB) *workload {
	const hosts = 4096
	e := newSimT(tb, "3.10.0-1160.el7.x86_64", 4096, Sysctl{SysctlTCPTwRecycle, 1})
	for h := 0; h < hosts; h++ {
		if err := e.SeedCache(CacheEntry{Remote: clientAddr(h), TSval: 1 << 31, Stamp: SimWallStart}); err != nil {
			tb.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	evs, span := synStream(1<<16, 100*time.Nanosecond, func(i int) (netip.AddrPort, Timestamp) {
		return netip.AddrPortFrom(clientAddr(rng.IntN(hosts)), uint16(1024+rng.IntN(60000))), 1 << 30
	})
	return &workload{e: e, evs: evs, span: span, want: OutcomeDrop, reason: ReasonPerHostPAWS}
}

// wlFlood: a SYN flood from random spoofed sources, a new 4-tuple for
// every SYN, into a full SYN queue (6.18); with cookies each SYN is
// answered with one, remembered as long as the cookie table has room (the
// first round fills it), without them it is dropped (TCPReqQFullDrop).
func wlFlood(cookies int) func(testing.TB) *workload {
	return func(tb testing.TB) *workload {
		sim, err := NewSim("6.18.44", "10.0.0.1:80", 4096, Sysctl{SysctlSomaxconn, 4096}, Sysctl{SysctlTCPSyncookies, cookies})
		if err != nil {
			tb.Fatal(err)
		}
		cfg := Config{Profile: sim.E.Profile(), Settings: sim.E.Settings(), Start: benchStart,
			Listener: Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: 4096, QLen: sim.E.Queues().SynLimit}}
		e, err := NewEvaluator(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		// Spoofed sources: 2^24 addresses in scrambled order, then the
		// next source port.
		fresh := func(n int) netip.AddrPort {
			return netip.AddrPortFrom(clientAddr(n*0x9e3779&(1<<24-1)), uint16(1024+n>>24))
		}
		rng := rand.New(rand.NewPCG(7, 8))
		evs, span := synStream(1<<16, 100*time.Nanosecond, func(i int) (netip.AddrPort, Timestamp) {
			return fresh(i), Timestamp(rng.Uint32())
		})
		w := &workload{e: e, evs: evs, span: span, want: OutcomeDrop, reason: ReasonSynqFull, fresh: fresh, seq: len(evs)}
		if cookies != 0 {
			w.want, w.reason = OutcomeAnswerCookie, ReasonNone
		}
		return w
	}
}

// wlMix is a SYN-heavy stream on 3.10 with tcp_tw_recycle=1 from hosts
// addresses behind which two TSval clocks hide: cache hits that drop,
// cache hits that pass, misses, SYN-queue overflow into cookies, and a
// server-side close every 16 events that keeps the per-host entries
// fresh.
func wlMix(hosts int) func(testing.TB) *workload {
	return func(tb testing.TB) *workload {
		e := newSimT(tb, "3.10.0-1160.el7.x86_64", 4096, Sysctl{SysctlTCPTwRecycle, 1}, Sysctl{SysctlSomaxconn, 4096},
			Sysctl{SysctlTCPMaxSynBacklog, 4096}, Sysctl{SysctlTCPSynackRetries, 0})
		rng := rand.New(rand.NewPCG(1, 2))
		evs, span := synStream(1<<16, 200*time.Microsecond, func(i int) (netip.AddrPort, Timestamp) {
			h := rng.IntN(hosts)
			clock := Timestamp(uint32(h) * 2654435761)
			if rng.IntN(2) == 0 {
				clock += 1 << 30 // a second host behind the same address
			}
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, byte(h >> 8), byte(h)}), uint16(1024+rng.IntN(60000))),
				clock + Timestamp(i/5) // 1000 Hz at 5000 events/s
		})
		for i := 0; i < len(evs); i += 16 {
			evs[i].Type, evs[i].TSvalAt = EventServerClose, evs[i].Time
		}
		// Cookies live 2 min: 12 rounds of 13 s fill their queue.
		return &workload{e: e, evs: evs, span: span, mixed: true, rounds: 12}
	}
}

var workloads = []struct {
	name string
	mk   func(testing.TB) *workload
}{
	{"distinct", wlDistinct}, {"timewait", wlTimeWait}, {"perhost-hit", wlPerHost},
	{"synflood-drop", wlFlood(0)}, {"synflood-cookies", wlFlood(1)},
	{"mix/hosts=256", wlMix(256)}, {"mix/hosts=16384", wlMix(16384)},
}

// warm replays w three times and checks that its steady state is the
// path it is named after.
func warm(tb testing.TB, w *workload) {
	tb.Helper()
	w.rounds = max(w.rounds, 3)
	for range w.rounds {
		w.replay(nil)
	}
	if w.mixed {
		return
	}
	n := 0
	w.replay(func(r Result) {
		if r.Outcome == w.want && r.Reason == w.reason {
			n++
		}
	})
	if n < len(w.evs)*9/10 {
		tb.Fatalf("%d of %d events have outcome %v, reason %v", n, len(w.evs), w.want, w.reason)
	}
}

// BenchmarkStep measures Step in the steady state of each workload. The
// loop reads the outcome, as a caller does; storing whole Results is the
// caller's cost, measured by BenchmarkStepPath.
func BenchmarkStep(b *testing.B) {
	for _, wl := range workloads {
		b.Run(wl.name, func(b *testing.B) {
			w := wl.mk(b)
			warm(b, w)
			i := 0
			var outcomes [256]int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				outcomes[w.e.Step(w.evs[i]).Outcome]++
				if i++; i == len(w.evs) {
					w.next() // a few additions per event, part of the measure
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(outcomes[OutcomeDrop])/float64(b.N), "drops/event")
		})
	}
}

// TestStepAllocs asserts that Step does not allocate once the state of a
// workload has reached its working size, and that the workloads take the
// paths they are named after.
func TestStepAllocs(t *testing.T) {
	for _, wl := range workloads {
		t.Run(wl.name, func(t *testing.T) {
			w := wl.mk(t)
			warm(t, w)
			allocs := testing.AllocsPerRun(2, func() {
				w.replay(func(r Result) { sinkOut = r.Outcome })
			})
			if allocs != 0 {
				t.Errorf("Step allocates %v times per %d events in steady state, want 0", allocs, len(w.evs))
			}
		})
	}
}

// TestMixOutcomes checks that the mix workload is a mix.
func TestMixOutcomes(t *testing.T) {
	w := wlMix(1024)(t)
	warm(t, w)
	var drops, answers int
	w.replay(func(r Result) {
		switch r.Outcome {
		case OutcomeDrop:
			drops++
		case OutcomeAnswer, OutcomeAnswerCookie:
			answers++
		}
	})
	if drops == 0 || answers == 0 {
		t.Fatalf("stream is not a mix: %d drops, %d answers", drops, answers)
	}
}

// BenchmarkStepPath measures single listen-path decisions that leave the
// state unchanged, so every iteration costs the same: a per-host PAWS
// drop (cache hit) on 3.10 and an accept-queue drop on 6.18. The loop
// stores the whole Result.
func BenchmarkStepPath(b *testing.B) {
	src := netip.MustParseAddrPort("172.16.0.13:40001")
	for _, tc := range []struct {
		name   string
		kernel string
		setup  func(*Sim)
		sys    []Sysctl
	}{
		{"per-host-drop", "3.10.0-1160.el7.x86_64", func(s *Sim) { s.ServerClose(0, "172.16.0.13:51000", 2088983950, 0) }, []Sysctl{{SysctlTCPTwRecycle, 1}}},
		{"acceptq-drop", "6.18.44", func(s *Sim) {
			for i := 0; i < 3; i++ {
				s.SYN(0, "10.200.0.1:"+Timestamp(1000+i).String(), 1)
				s.ACK(0, "10.200.0.1:"+Timestamp(1000+i).String(), 2)
			}
		}, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sim, err := NewSim(tc.kernel, "10.0.0.1:80", 1, tc.sys...)
			if err != nil {
				b.Fatal(err)
			}
			tc.setup(sim)
			ev := Event{Time: sim.At(1), Type: EventSYN, Src: src, HasTS: true, TSval: 271344470}
			if r := sim.E.Step(ev); r.Outcome != OutcomeDrop {
				b.Fatalf("not a drop: %s", r.Explain())
			}
			b.ReportAllocs()
			for b.Loop() {
				ev.Time += 1000
				sinkResult = sim.E.Step(ev)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
