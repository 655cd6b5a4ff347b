package paws

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// checkTupleMap compares m with the reference ref and checks that every
// entry is reachable from its home slot without crossing an empty slot.
func checkTupleMap(t *testing.T, m *tupleMap[int32], ref map[tuple]int32, hashOf func(*tuple) uint32) {
	t.Helper()
	if m.n != len(ref) {
		t.Fatalf("n = %d, reference has %d", m.n, len(ref))
	}
	if m.n > 0 && 2*m.n > len(m.hashes) {
		t.Fatalf("%d entries in %d slots: more than half full", m.n, len(m.hashes))
	}
	for k, v := range ref {
		p := m.get(&k, hashOf(&k))
		if p == nil || *p != v {
			t.Fatalf("get(%x) = %v, want %d", k, p, v)
		}
	}
	n := 0
	for i, h := range m.hashes {
		if h == 0 {
			continue
		}
		n++
		if k := &m.ents[i].key; h != hashOf(k) {
			t.Fatalf("slot %d holds hash %#x for a key hashing to %#x", i, h, hashOf(k))
		}
		for j := h & m.mask; j != uint32(i); j = (j + 1) & m.mask {
			if m.hashes[j] == 0 {
				t.Fatalf("slot %d: empty slot %d on the way from home %d", i, j, h&m.mask)
			}
		}
	}
	if n != m.n {
		t.Fatalf("%d occupied slots, n = %d", n, m.n)
	}
}

// runTupleMapOps applies the operations encoded in ops to a tupleMap and
// to a Go map: 64 keys, whose hashes collide in groups of 8 when
// collide is set, so that clusters form, wrap around the end of the slots
// and are cut by deletions.
func runTupleMapOps(t *testing.T, ops []byte, collide bool) {
	keys := make([]tuple, 64)
	for i := range keys {
		keys[i] = tuple{llo: 0xffff0a000001, rlo: 0xffff0b000000 | uint64(i), ports: 80<<16 | uint32(i)}
	}
	seed := uint64(0x9e3779b97f4a7c15)
	hashOf := func(k *tuple) uint32 {
		if collide {
			// 8 home slots near the end of the table, whatever its size.
			return 1<<31 | 0x7ffffff8 | uint32(k.ports&7)
		}
		return hashTuple(k, seed)
	}
	var m tupleMap[int32]
	ref := map[tuple]int32{}
	for i, op := range ops {
		k := &keys[op&63]
		h := hashOf(k)
		switch op >> 6 {
		case 0, 1:
			v, ok := m.put(k, h)
			if _, had := ref[*k]; ok != had {
				t.Fatalf("op %d: put(%x) reports present=%v, reference %v", i, *k, ok, had)
			}
			*v = int32(i)
			ref[*k] = int32(i)
		case 2:
			m.delete(k, h)
			delete(ref, *k)
		case 3:
			if got, want := m.find(k, h) >= 0, hasKey(ref, k); got != want {
				t.Fatalf("op %d: find(%x) = %v, want %v", i, *k, got, want)
			}
		}
		checkTupleMap(t, &m, ref, hashOf)
	}
}

func hasKey(m map[tuple]int32, k *tuple) bool {
	_, ok := m[*k]
	return ok
}

// randomOps runs run on 50 random strings of 400 operations, with and
// without colliding hashes.
func randomOps(t *testing.T, seed uint64, run func(*testing.T, []byte, bool)) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for _, collide := range []bool{false, true} {
		for range 50 {
			ops := make([]byte, 400)
			for i := range ops {
				ops[i] = byte(rng.Uint32())
			}
			run(t, ops, collide)
		}
	}
}

// fuzzOps fuzzes run with operation strings of up to 512 operations.
func fuzzOps(f *testing.F, run func(*testing.T, []byte, bool)) {
	f.Add([]byte{0, 1, 2, 3, 128, 129, 192, 64, 130}, true)
	f.Add([]byte{0, 8, 16, 24, 32, 40, 48, 56, 128, 136, 192, 200}, true)
	f.Fuzz(func(t *testing.T, ops []byte, collide bool) {
		if len(ops) > 512 {
			return
		}
		run(t, ops, collide)
	})
}

func TestTupleMap(t *testing.T) { randomOps(t, 11, runTupleMapOps) }

func FuzzTupleMap(f *testing.F) { fuzzOps(f, runTupleMapOps) }

// runSockIndexOps applies the operations encoded in ops to a sockIndex
// over a slab of 64 sockets and to a Go map, as runTupleMapOps does: an
// insert of a key not held, a remove, a find.
func runSockIndexOps(t *testing.T, ops []byte, collide bool) {
	slab := make([]sock, 64)
	seed := uint64(0x9e3779b97f4a7c15)
	hashOf := func(k *tuple) uint32 {
		if collide {
			return 1<<31 | 0x7ffffff8 | uint32(k.ports&7)
		}
		return hashTuple(k, seed)
	}
	for i := range slab {
		slab[i].key = tuple{llo: 0xffff0a000001, rlo: 0xffff0b000000 | uint64(i), ports: 80<<16 | uint32(i)}
		slab[i].hash = hashOf(&slab[i].key)
	}
	var m sockIndex
	ref := map[tuple]int32{}
	for i, op := range ops {
		idx := int32(op & 63)
		sk := &slab[idx]
		switch op >> 6 {
		case 0, 1:
			if _, had := ref[sk.key]; !had {
				m.insert(sk.hash, idx)
				ref[sk.key] = idx
			}
		case 2:
			m.remove(sk.hash, idx)
			delete(ref, sk.key)
		case 3:
			got, ok := m.find(slab, &sk.key, sk.hash)
			if want, had := ref[sk.key]; ok != had || ok && got != want {
				t.Fatalf("op %d: find(%x) = %d, %v; want %d, %v", i, sk.key, got, ok, want, had)
			}
		}
		checkSockIndex(t, &m, slab, ref)
	}
}

// checkSockIndex compares m with the reference ref, checks its load (at
// most 1/4) and that every slot is reachable from its home slot.
func checkSockIndex(t *testing.T, m *sockIndex, slab []sock, ref map[tuple]int32) {
	t.Helper()
	if m.n != len(ref) || m.n > 0 && 4*m.n > len(m.slots) {
		t.Fatalf("n = %d in %d slots, reference has %d", m.n, len(m.slots), len(ref))
	}
	for k, want := range ref {
		if got, ok := m.find(slab, &k, slab[want].hash); !ok || got != want {
			t.Fatalf("find(%x) = %d, %v; want %d", k, got, ok, want)
		}
	}
	n := 0
	for i, s := range m.slots {
		if s.hash == 0 {
			continue
		}
		n++
		if s.hash != slab[s.idx].hash {
			t.Fatalf("slot %d holds hash %#x for socket %d hashing to %#x", i, s.hash, s.idx, slab[s.idx].hash)
		}
		for j := s.hash & m.mask; j != uint32(i); j = (j + 1) & m.mask {
			if m.slots[j].hash == 0 {
				t.Fatalf("slot %d: empty slot %d on the way from home %d", i, j, s.hash&m.mask)
			}
		}
	}
	if n != m.n {
		t.Fatalf("%d occupied slots, n = %d", n, m.n)
	}
}

func TestSockIndex(t *testing.T) { randomOps(t, 15, runSockIndexOps) }

func FuzzSockIndex(f *testing.F) { fuzzOps(f, runSockIndexOps) }

// TestFlowHashes checks that the hashes the hot path derives from a flow
// are those of the keys (hashTuple), for both per-host cache keys.
func TestFlowHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kernel := range []string{"3.10.105", "3.18.140", "6.18.44"} {
		e, err := NewSim(kernel, "10.0.0.1:80", 128)
		if err != nil {
			t.Fatal(err)
		}
		for range 1000 {
			var a16 [16]byte
			binary.LittleEndian.PutUint64(a16[:8], rng.Uint64())
			binary.LittleEndian.PutUint64(a16[8:], rng.Uint64())
			remote := netip.AddrPortFrom(netip.AddrFrom16(a16).Unmap(), uint16(rng.Uint32()))
			if rng.IntN(2) == 0 {
				remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a16[:4])), remote.Port())
			}
			local := netip.MustParseAddrPort("10.0.0.1:80")
			var f flow
			e.E.setFlow(&f, local, remote)
			if got, want := f.h, hashTuple(&f.k, e.E.seed); got != want {
				t.Fatalf("%s: flow hash %#x, hashTuple %#x", kernel, got, want)
			}
			if f.k.localAP() != local || f.k.remoteAP() != remote {
				t.Fatalf("tuple of (%v, %v) gives back (%v, %v)", local, remote, f.k.localAP(), f.k.remoteAP())
			}
			var hk tuple
			hh := e.E.hostOf(&f, &hk)
			want := f.k
			e.E.toHostKey(&want)
			if hk != want {
				t.Fatalf("%s: host key %x, want %x", kernel, hk, want)
			}
			if want := hashTuple(&hk, e.E.seed); hh != want {
				t.Fatalf("%s: host hash %#x, hashTuple %#x", kernel, hh, want)
			}
		}
	}
}

// TestHashSpread checks that the keys of a typical load, addresses and
// ports that differ in a few low bits, spread over the slots: linear
// probing stays short only if they do.
func TestHashSpread(t *testing.T) {
	local := netip.MustParseAddrPort("10.0.0.1:443")
	for _, tc := range []struct {
		name string
		src  func(i int) netip.AddrPort
	}{
		{"addresses", func(i int) netip.AddrPort { return netip.AddrPortFrom(clientAddr(i), 40000) }},
		{"ports", func(i int) netip.AddrPort { return netip.AddrPortFrom(clientAddr(i>>14), uint16(1024+i&(1<<14-1))) }},
		{"ipv6", func(i int) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)}), uint16(i>>16))
		}},
	} {
		var m tupleMap[int32]
		seed := rand.Uint64()
		const n = 1 << 16
		for i := range n {
			k := tupleOf(local, tc.src(i))
			if _, ok := m.put(&k, hashTuple(&k, seed)); ok {
				t.Fatalf("%s: key %d is a duplicate", tc.name, i)
			}
		}
		total, longest := 0, 0
		for i, h := range m.hashes {
			if h != 0 {
				d := int((uint32(i) - h&m.mask) & m.mask)
				total += d
				longest = max(longest, d)
			}
		}
		// A random hash at load 1/2 gives a mean displacement of 1/2
		// and a longest one of a few tens (at most 0.52 and 55 over 200
		// seeds; with the ports not multiplied first in hashJoin,
		// "ports" reached thousands).
		if mean := float64(total) / n; mean > 0.6 || longest > 100 {
			t.Errorf("%s: mean displacement %.2f, longest %d", tc.name, mean, longest)
		}
	}
}
