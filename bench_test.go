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

// mixStream is a SYN-heavy stream from many source addresses behind
// which several TSval clocks hide: cache hits that drop, cache hits that
// pass, misses, SYN-queue overflow into cookies, and a server-side close
// every 16 events that keeps the per-host entries fresh.
type mixStream struct {
	events []Event
	span   Time
}

func newMixStream(n, hosts int) mixStream {
	rng := rand.New(rand.NewPCG(1, 2))
	start := Time(1700000000 * 1e9)
	step := Time(200 * time.Microsecond)
	evs := make([]Event, n)
	for i := range evs {
		h := rng.IntN(hosts)
		ip := netip.AddrFrom4([4]byte{172, 16, byte(h >> 8), byte(h)})
		clock := Timestamp(uint32(h) * 2654435761)
		if rng.IntN(2) == 0 {
			clock += 1 << 30 // a second host behind the same address
		}
		t := start + Time(i)*step
		ev := Event{Time: t, Type: EventSYN, HasTS: true,
			Src:   netip.AddrPortFrom(ip, uint16(1024+rng.IntN(60000))),
			TSval: clock + Timestamp(int64(t-start)/1e6)}
		if i%16 == 0 {
			ev.Type = EventServerClose
			ev.TSvalAt = t
		}
		evs[i] = ev
	}
	return mixStream{events: evs, span: Time(n) * step}
}

func newMixEvaluator(tb testing.TB) *Evaluator {
	tb.Helper()
	p := ProfileFor(MustParseKernelVersion("3.10.0-1160.el7.x86_64"))
	s := DefaultSettings(p)
	for _, kv := range []struct {
		n string
		v int
	}{{SysctlTCPTwRecycle, 1}, {SysctlSomaxconn, 4096}, {SysctlTCPMaxSynBacklog, 4096}, {SysctlTCPSynackRetries, 0}} {
		if err := s.SetSysctl(kv.n, kv.v); err != nil {
			tb.Fatal(err)
		}
	}
	e, err := NewEvaluator(Config{Profile: p, Settings: s, Start: Time(1700000000 * 1e9),
		Listener: Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: 4096}})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// replay steps through the stream once, shifted by round spans.
func (m mixStream) replay(e *Evaluator, round int, fn func(Result)) {
	off := Time(round) * m.span
	for _, ev := range m.events {
		ev.Time += off
		r := e.Step(ev)
		if fn != nil {
			fn(r)
		}
	}
}

func BenchmarkStep(b *testing.B) {
	for _, hosts := range []int{256, 16384} {
		b.Run("hosts="+itoa(hosts), func(b *testing.B) {
			m := newMixStream(1<<16, hosts)
			e := newMixEvaluator(b)
			for round := 0; round < 3; round++ { // warm up: maps and queues at working size
				m.replay(e, round, nil)
			}
			round, i := 3, 0
			var outcomes [8]int
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ev := m.events[i]
				ev.Time += Time(round) * m.span
				sinkResult = e.Step(ev)
				outcomes[sinkResult.Outcome&7]++
				if i++; i == len(m.events) {
					i, round = 0, round+1
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(outcomes[OutcomeDrop])/float64(b.N), "drops/event")
		})
	}
}

func itoa(n int) string { return Timestamp(n).String() }

// TestStepAllocs asserts that Step does not allocate once the state has
// reached its working size.
func TestStepAllocs(t *testing.T) {
	m := newMixStream(1<<14, 1024)
	e := newMixEvaluator(t)
	for round := 0; round < 3; round++ {
		m.replay(e, round, nil)
	}
	var drops, answers, cookies int
	m.replay(e, 3, func(r Result) {
		switch r.Outcome {
		case OutcomeDrop:
			drops++
		case OutcomeAnswer:
			answers++
		case OutcomeAnswerCookie:
			cookies++
		}
	})
	if drops == 0 || answers+cookies == 0 {
		t.Fatalf("stream is not a mix: %d drops, %d answers, %d cookies", drops, answers, cookies)
	}
	round := 4
	allocs := testing.AllocsPerRun(5, func() {
		m.replay(e, round, func(r Result) { sinkOut = r.Outcome })
		round++
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v times per %d events in steady state, want 0", allocs, len(m.events))
	}
}

// BenchmarkStepPath measures single listen-path decisions that leave the
// state unchanged, so every iteration costs the same: a per-host PAWS
// drop (cache hit) on 3.10 and an accept-queue drop on 6.18.
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
				s.SYN(0, "10.200.0.1:"+itoa(1000+i), 1)
				s.ACK(0, "10.200.0.1:"+itoa(1000+i), 2)
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
