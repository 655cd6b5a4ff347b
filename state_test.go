package paws

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestCacheEviction checks that a full per-host cache evicts the entries
// created longest ago.
func TestCacheEviction(t *testing.T) {
	sim, err := NewSim("3.10.0-1160.el7.x86_64", "10.0.0.1:80", 128, Sysctl{SysctlTCPTwRecycle, 1})
	if err != nil {
		t.Fatal(err)
	}
	e := sim.E
	const extra = 10
	for i := 0; i < MaxCacheEntries+extra; i++ {
		if err := e.SeedCache(CacheEntry{Remote: clientAddr(i), TSval: Timestamp(i), Stamp: SimWallStart}); err != nil {
			t.Fatal(err)
		}
	}
	local := netip.MustParseAddr("10.0.0.1")
	for i := 0; i < MaxCacheEntries+extra; i++ {
		c, ok := e.Cache(local, clientAddr(i))
		if want := i >= extra; ok != want {
			t.Fatalf("entry %d present = %v, want %v", i, ok, want)
		}
		if ok && c.TSval != Timestamp(i) {
			t.Fatalf("entry %d holds TSval %d", i, c.TSval)
		}
	}
	// An entry written since the eviction last passed it gets a second
	// chance: the next oldest goes instead.
	k := e.hostKey(local, clientAddr(extra))
	e.putCache(&k, hashTuple(&k, e.seed)).ts = 1
	if err := e.SeedCache(CacheEntry{Remote: clientAddr(1 << 20)}); err != nil {
		t.Fatal(err)
	}
	if c, ok := e.Cache(local, clientAddr(extra)); !ok || c.TSval != 1 {
		t.Errorf("entry %d, written before the eviction, is gone", extra)
	}
	if _, ok := e.Cache(local, clientAddr(extra+1)); ok {
		t.Errorf("entry %d, the oldest not written, survived", extra+1)
	}
	if e.cache.n != MaxCacheEntries || e.cacheOrder.len() != MaxCacheEntries {
		t.Errorf("cache holds %d entries, order %d, want %d", e.cache.n, e.cacheOrder.len(), MaxCacheEntries)
	}
}

// TestSeedIndependence checks that predictions do not depend on the
// random seed of the tables: two Evaluators fed the same streams agree
// on every result.
func TestSeedIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for range 200 {
		data := randomBytes(rng, 2000)
		g1, g2 := &streamGen{b: data}, &streamGen{b: data}
		e1, e2 := g1.evaluator(t, -1), g2.evaluator(t, -1)
		if e1.seed == e2.seed {
			t.Fatal("two Evaluators with the same seed")
		}
		now := e1.Now()
		for len(g1.b) > 0 {
			ev := g1.next(now)
			g2.next(now)
			now = ev.Time
			if r1, r2 := e1.Step(ev), e2.Step(ev); r1 != r2 {
				t.Fatalf("seeds %#x and %#x disagree:\n%s\n%s", e1.seed, e2.seed, r1.Explain(), r2.Explain())
			}
		}
	}
	w1, w2 := wlMix(1024)(t), wlMix(1024)(t)
	for range 3 {
		for i := range w1.evs {
			if r1, r2 := w1.e.Step(w1.evs[i]), w2.e.Step(w2.evs[i]); r1 != r2 {
				t.Fatalf("mix: seeds disagree:\n%s\n%s", r1.Explain(), r2.Explain())
			}
		}
		w1.next()
		w2.next()
	}
}

// TestCookieQueueBounded checks that cookies sent again and again keep
// the cookie timers within bounds, and that the remembered cookies still
// work and expire.
func TestCookieQueueBounded(t *testing.T) {
	w := wlFlood(1)(t)
	e := w.e
	srcs := make([]netip.AddrPort, 10)
	for i := range srcs {
		srcs[i] = netip.AddrPortFrom(clientAddr(i), 40000)
	}
	now := benchStart
	longest := 0
	for i := 0; i < 3*MaxCookies; i++ {
		now += 1000
		r := e.Step(Event{Time: now, Type: EventSYN, Src: srcs[i%len(srcs)], HasTS: true, TSval: 1})
		if r.Outcome != OutcomeAnswerCookie {
			t.Fatalf("SYN %d: %s", i, r.Explain())
		}
		longest = max(longest, e.cookieQ.len())
	}
	if longest > 2*MaxCookies || e.cookies.n != len(srcs) {
		t.Fatalf("%d cookies remembered, up to %d timers queued; want %d, at most %d", e.cookies.n, longest, len(srcs), 2*MaxCookies)
	}
	if r := e.Step(Event{Time: now, Type: EventACK, Src: srcs[3], HasTS: true, TSval: 2}); r.Counters[SyncookiesRecv] != 1 {
		t.Fatalf("ACK of a remembered cookie: %s", r.Explain())
	}
	e.Advance(now.Add(2*time.Minute + 1))
	if e.cookies.n != 0 || e.cookieQ.len() != 0 {
		t.Fatalf("2 min later: %d cookies, %d timers", e.cookies.n, e.cookieQ.len())
	}
}
