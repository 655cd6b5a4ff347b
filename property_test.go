package paws

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var fuzzKernels = []string{
	"2.6.32.69", "2.6.32-642.6.2.el6.x86_64", "3.0.27", "3.7.2", "3.10.105", "3.10.0-1160.el7.x86_64",
	"3.18.140", "4.4.155", "4.9.229", "4.10.0", "4.11.0", "4.12.0", "4.14.5", "4.19.108",
	"5.4.286", "5.10.7", "6.1.158", "6.12.19", "6.13.7", "6.14.0", "6.16.0", "6.18.44", "7.0.0",
}

// streamGen turns bytes into an evaluator and an event stream. It is
// shared by the randomised property tests and FuzzEvaluator.
type streamGen struct {
	b []byte
}

func (g *streamGen) u8() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *streamGen) u32() uint32 {
	var x [4]byte
	for i := range x {
		x[i] = g.u8()
	}
	return binary.LittleEndian.Uint32(x[:])
}

// evaluator builds an Evaluator from the header bytes; timestamps < 0
// lets the bytes choose tcp_timestamps.
func (g *streamGen) evaluator(tb testing.TB, timestamps int) *Evaluator {
	k := MustParseKernelVersion(fuzzKernels[int(g.u8())%len(fuzzKernels)])
	p := ProfileFor(k)
	s := DefaultSettings(p)
	f := g.u8()
	if p.HasTWRecycle && f&1 != 0 {
		s.TCPTwRecycle = 1
	}
	s.TCPTimestamps = int(f>>1) % 3
	if !p.TimestampsMode2 && s.TCPTimestamps == 2 {
		s.TCPTimestamps = 1
	}
	if timestamps >= 0 {
		s.TCPTimestamps = timestamps
	}
	s.TCPSyncookies = int(f>>3) % 3
	if s.TCPSyncookies == 2 && !p.SyncookiesAlways {
		s.TCPSyncookies = 1
	}
	s.TCPRFC1337 = int(f>>5) & 1
	s.TCPAbortOnOverflow = int(f>>6) & 1
	s.TCPTwReuse = int(f >> 7)
	s.TCPMaxSynBacklog = 8 + int(g.u8())
	s.TCPMaxTwBuckets = 1 + int(g.u8())
	s.TCPSynackRetries = int(g.u8()) % 8
	backlog := int(g.u8()) % 64
	e, err := NewEvaluator(Config{Profile: p, Settings: s, Start: Time(1700000000e9), ServerTSval: Timestamp(g.u32()),
		Listener: Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: backlog}})
	if err != nil {
		tb.Fatalf("%s: %v", k, err)
	}
	return e
}

// next returns the next event, at or after t.
func (g *streamGen) next(t Time) Event {
	c := g.u8()
	dt := time.Duration(g.u8()) * time.Duration(1+int(c>>4)) * 10 * time.Millisecond
	host := g.u8()
	ev := Event{
		Time:  t.Add(dt),
		Type:  EventType(1 + int(c&7)%8),
		Src:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, 0, host & 7}), 40000+uint16(host>>3)),
		HasTS: c&8 != 0,
		TSval: Timestamp(g.u32()),
	}
	x := g.u8()
	ev.HasSeq, ev.Seq = x&1 != 0, uint32(g.u8())*100
	ev.HasTSecr, ev.TSecr = x&2 != 0, ev.TSval-Timestamp(g.u8())
	ev.Flags = Flags(x>>2) & (FlagFIN | FlagSYN | FlagRST | FlagACK)
	ev.Len = uint32(x>>6) * 100
	ev.FinWait2 = x&0x20 != 0
	ev.Bound = x&0x10 != 0
	if ev.Type == EventServerClose {
		ev.TSvalAt = ev.Time.Add(-time.Duration(g.u8()) * time.Millisecond)
	}
	if ev.Type == EventConnect {
		ev.Src, ev.Dst = netip.MustParseAddrPort("10.0.0.1:80"), ev.Src
	}
	return ev
}

// checkInvariants checks that the state is within its bounds.
func checkInvariants(t testing.TB, e *Evaluator) {
	t.Helper()
	q := e.Queues()
	if q.QLen < 0 || q.Young < 0 || q.Young > q.QLen || q.AcceptQ < 0 {
		t.Fatalf("bad queues %+v", q)
	}
	if e.nTW < 0 || e.nReq < 0 || e.nConn < 0 || e.nTW > e.maxTW || e.nTW > MaxTimeWait ||
		e.nReq > MaxRequests || e.nConn > MaxConnections || e.cache.n > MaxCacheEntries || e.cookies.n > MaxCookies {
		t.Fatalf("state out of bounds: tw %d req %d conn %d cache %d cookies %d", e.nTW, e.nReq, e.nConn, e.cache.n, e.cookies.n)
	}
	if e.socks.n != e.nTW+e.nConn+e.nReq-e.phantoms() {
		t.Fatalf("socket table has %d entries, counts say %d", e.socks.n, e.nTW+e.nConn+e.nReq)
	}
	if len(e.twQ) != e.nTW {
		t.Fatalf("%d TIME_WAIT timers for %d sockets", len(e.twQ), e.nTW)
	}
}

func (e *Evaluator) phantoms() int {
	n := 0
	for i := range e.slab {
		if sk := &e.slab[i]; sk.kind == sockReq && !sk.tracked {
			n++
		}
	}
	return n
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestPropertyNoPAWSPassiveFrom412: nothing under a 4.12+ profile moves
// PAWSPassive.
func TestPropertyNoPAWSPassiveFrom412(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 4))
	for run := 0; run < 300; run++ {
		g := &streamGen{b: randomBytes(rng, 4096)}
		g.b[0] = byte(11 + rng.IntN(len(fuzzKernels)-11)) // 4.12.0 and later
		e := g.evaluator(t, -1)
		if e.p.Kernel.AtLeast(4, 12, 0) == false {
			t.Fatalf("kernel %s", e.p.Kernel)
		}
		now := e.Now()
		for len(g.b) > 0 {
			ev := g.next(now)
			now = ev.Time
			if r := e.Step(ev); r.Counters[PAWSPassive] != 0 || r.Reason == ReasonPerHostPAWS {
				t.Fatalf("%s: %v", e.p.Kernel, r.Explain())
			}
		}
		checkInvariants(t, e)
	}
}

// TestPropertyTimestampsOff: with tcp_timestamps=0 no SYN moves a PAWS
// counter, and every answered SYN in particular.
func TestPropertyTimestampsOff(t *testing.T) {
	rng := rand.New(rand.NewPCG(0, 7))
	answered := 0
	for run := 0; run < 300; run++ {
		g := &streamGen{b: randomBytes(rng, 4096)}
		e := g.evaluator(t, 0)
		now := e.Now()
		for len(g.b) > 0 {
			ev := g.next(now)
			now = ev.Time
			r := e.Step(ev)
			if ev.Type != EventSYN {
				continue
			}
			if r.Outcome == OutcomeAnswer || r.Outcome == OutcomeAnswerCookie {
				answered++
			}
			for _, c := range []Counter{PAWSPassive, PAWSEstab, PAWSTimewait, PAWSOldAck, TSEcrRejected} {
				if r.Counters[c] != 0 {
					t.Fatalf("%s: %s", e.p.Kernel, r.Explain())
				}
			}
		}
	}
	if answered == 0 {
		t.Fatal("no SYN answered: the property was not exercised")
	}
}

// TestPropertyMonotonicHost: one host whose TSval clock is monotonic
// (no offsets, or one per host pair) is never dropped by per-host PAWS,
// whatever its connections and closes, on every kernel with
// tcp_tw_recycle=1.
func TestPropertyMonotonicHost(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	checked := 0
	for _, k := range fuzzKernels {
		p := ProfileFor(MustParseKernelVersion(k))
		if !p.HasTWRecycle {
			continue
		}
		for run := 0; run < 40; run++ {
			s := DefaultSettings(p)
			s.TCPTwRecycle = 1
			s.TCPSyncookies = rng.IntN(2)
			w0 := Time(1700000000e9)
			e, err := NewEvaluator(Config{Profile: p, Settings: s, Start: w0,
				Listener: Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: 128}})
			if err != nil {
				t.Fatal(err)
			}
			base := Timestamp(rng.Uint32())
			hz := int64(1000)
			if rng.IntN(2) == 0 {
				hz = 250
			}
			clock := func(t Time) Timestamp { return base + Timestamp(int64(t-w0)*hz/1e9) }
			now := w0
			var open []netip.AddrPort
			for i := 0; i < 400; i++ {
				now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
				src := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), uint16(1024+rng.IntN(60000)))
				switch n := rng.IntN(10); {
				case n < 5 || len(open) == 0:
					r := e.Step(Event{Time: now, Type: EventSYN, Src: src, HasTS: true, TSval: clock(now)})
					checked++
					if r.Reason == ReasonPerHostPAWS || r.Counters[PAWSPassive] != 0 {
						t.Fatalf("%s: monotonic host dropped: %s", k, r.Explain())
					}
					if r.Outcome == OutcomeAnswer {
						open = append(open, src)
					}
				case n < 8:
					j := rng.IntN(len(open))
					at := now.Add(-time.Duration(rng.IntN(2000)) * time.Millisecond)
					at = max(at, w0)
					e.Step(Event{Time: now, Type: EventServerClose, Src: open[j], HasTS: true, TSval: clock(at), TSvalAt: at})
					open = append(open[:j], open[j+1:]...)
				default:
					j := rng.IntN(len(open))
					e.Step(Event{Time: now, Type: EventClientClose, Src: open[j]})
					open = append(open[:j], open[j+1:]...)
				}
			}
			checkInvariants(t, e)
		}
	}
	if checked == 0 {
		t.Fatal("no SYN checked")
	}
}
