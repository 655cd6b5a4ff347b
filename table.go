package paws

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// tuple is a 4-tuple, or with zero ports the key of a per-host cache
// entry: both addresses in their 16-byte form (IPv4 as IPv4-mapped, no
// zone) as big-endian halves, so that hashing and comparing it is word
// arithmetic.
type tuple struct {
	lhi, llo, rhi, rlo uint64
	ports              uint32 // local port << 16 | remote port
}

func tupleOf(local, remote netip.AddrPort) tuple {
	var k tuple
	k.set(local, remote)
	return k
}

// set sets k to the 4-tuple of (local, remote). The hot path fills a key
// in place: a tuple (40 bytes) is too large for the compiler to keep in
// registers, and copying one just built field by field reads the fields'
// 8-byte stores back with 16-byte loads, which the CPU cannot forward:
// a stall of about 5 ns each time (pprof disasm of BenchmarkStepPath).
func (k *tuple) set(local, remote netip.AddrPort) {
	k.lhi, k.llo = addrWords(local.Addr())
	k.rhi, k.rlo = addrWords(remote.Addr())
	k.ports = uint32(local.Port())<<16 | uint32(remote.Port())
}

// addrWords returns the 16-byte form of a as big-endian halves. An IPv4
// address goes through As4, not As16, for the same reason: As16 fills
// its array with two 8-byte stores that the copy of the array reads with
// one 16-byte load.
func addrWords(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		v := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(v[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// copy sets k to o word by word: o is usually a key just filled field by
// field (set), which a whole-struct copy would read back with 16-byte
// loads that stall.
func (k *tuple) copy(o *tuple) {
	k.lhi, k.llo, k.rhi, k.rlo, k.ports = o.lhi, o.llo, o.rhi, o.rlo, o.ports
}

// eq is k == o without the call to the generated struct equality.
func (k *tuple) eq(o *tuple) bool {
	return k.lhi == o.lhi && k.llo == o.llo && k.rhi == o.rhi && k.rlo == o.rlo && k.ports == o.ports
}

func addrOf(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b).Unmap()
}

func (k tuple) localAP() netip.AddrPort {
	return netip.AddrPortFrom(addrOf(k.lhi, k.llo), uint16(k.ports>>16))
}

func (k tuple) remoteAP() netip.AddrPort {
	return netip.AddrPortFrom(addrOf(k.rhi, k.rlo), uint16(k.ports))
}

// mix is the folded 64×64→128-bit multiply of wyhash.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Constants of hashTuple, from wyhash.
const (
	hashM1 = 0xa0761d6478bd642f
	hashM2 = 0xe7037ed1a0b428db
	hashM3 = 0x8ebc6af09c88c6e3
)

// hashTuple returns the hash of k under seed, as stored in a tslot: never
// zero (bit 31 set), its low bits select the slot. It is hashJoin of the
// hashes of the two addresses, so that the keys of a 4-tuple and of its
// per-host cache entry (the same addresses, ports zero) share most of the
// work (Evaluator.hostOf).
func hashTuple(k *tuple, seed uint64) uint32 {
	return hashJoin(hashLocal(k.lhi, k.llo, seed), hashRemote(k.rhi, k.rlo, seed), k.ports, seed)
}

// hashLocal and hashRemote hash the halves of the local and the remote
// address; they differ so that swapping the addresses changes the hash.
func hashLocal(hi, lo, seed uint64) uint64  { return mix(hi^seed^hashM1, lo^hashM2) }
func hashRemote(hi, lo, seed uint64) uint64 { return mix(hi^hashM3, lo^seed^hashM1) }

// hashJoin combines the address hashes with the ports. Ports that differ
// in a few low bits (one client's) would change the product's middle bits
// little, packing keys into clusters: multiplied by an odd constant first,
// they change all of its bits, and the slot comes from the middle (bits
// 32–63), where the folded multiply mixes best. TestHashSpread measures
// the displacement of typical keys (as good as with a murmur3 finalizer,
// which costs two more multiplies).
func hashJoin(local, remote uint64, ports uint32, seed uint64) uint32 {
	h := mix(local^uint64(ports)*hashM2, remote^seed)
	return uint32(h>>32) | 1<<31
}

// tentry is an entry of a tupleMap.
type tentry[V any] struct {
	key tuple
	val V
}

// tupleMap is a hash table from tuple to V for the Evaluator's hot path:
// open addressing with linear probing. The hashes (computed once by the
// caller, hashTuple) are in an array of their own, sixteen to a cache
// line, so a lookup that misses, the common case for a SYN, usually reads
// one line of it; a hit reads one more, the entry. Deletion shifts the
// following entries back instead of leaving tombstones, so probe
// sequences stay short under any mix of inserts and deletes. It is at most
// half full: it doubles when needed and never shrinks, so at its working
// size it does not allocate. The Evaluator's random seed keeps an input
// from choosing collisions.
type tupleMap[V any] struct {
	hashes []uint32 // 0: empty slot
	ents   []tentry[V]
	mask   uint32 // len(hashes)-1 once allocated
	n      int
}

// find returns the slot of k, whose hash is h, or -1.
func (m *tupleMap[V]) find(k *tuple, h uint32) int {
	if m.n == 0 {
		return -1
	}
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		switch m.hashes[i] {
		case h:
			if m.ents[i].key.eq(k) {
				return int(i)
			}
		case 0:
			return -1
		}
	}
}

// get returns a pointer to the value of k, whose hash is h, or nil. The
// pointer is valid until the next put or delete.
func (m *tupleMap[V]) get(k *tuple, h uint32) *V {
	if i := m.find(k, h); i >= 0 {
		return &m.ents[i].val
	}
	return nil
}

// put returns a pointer to the value of k, whose hash is h, and whether k
// was there; a new entry has the zero value. The pointer is valid until
// the next put or delete.
// The table grows only to insert: a put of a key it holds does not make
// it grow, so a table filled to a bound of its user (MaxCookies) keeps
// its size.
func (m *tupleMap[V]) put(k *tuple, h uint32) (*V, bool) {
	if len(m.hashes) == 0 {
		m.grow()
	}
probe:
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		switch m.hashes[i] {
		case 0:
			if 2*(m.n+1) > len(m.hashes) {
				m.grow()
				goto probe
			}
			m.hashes[i] = h
			m.ents[i].key.copy(k)
			m.n++
			return &m.ents[i].val, false
		case h:
			if m.ents[i].key.eq(k) {
				return &m.ents[i].val, true
			}
		}
	}
}

// delete removes k, whose hash is h, if it is there.
func (m *tupleMap[V]) delete(k *tuple, h uint32) {
	if i := m.find(k, h); i >= 0 {
		m.deleteAt(uint32(i))
	}
}

// deleteAt empties slot i and moves back the entries of its cluster that
// may live there, so that no probe sequence crosses an empty slot.
func (m *tupleMap[V]) deleteAt(i uint32) {
	m.n--
	for j := i; ; {
		j = (j + 1) & m.mask
		h := m.hashes[j]
		if h == 0 {
			m.hashes[i] = 0
			m.ents[i] = tentry[V]{}
			return
		}
		// The entry at j can fill the hole at i if i lies on its probe
		// sequence, from its home slot to j.
		if home := h & m.mask; (j-home)&m.mask >= (j-i)&m.mask {
			m.hashes[i], m.ents[i] = h, m.ents[j]
			i = j
		}
	}
}

func (m *tupleMap[V]) grow() {
	hashes, ents := m.hashes, m.ents
	size := max(2*len(hashes), 16)
	m.hashes, m.ents = make([]uint32, size), make([]tentry[V], size)
	m.mask = uint32(size - 1)
	for i, h := range hashes {
		if h == 0 {
			continue
		}
		j := h & m.mask
		for m.hashes[j] != 0 {
			j = (j + 1) & m.mask
		}
		m.hashes[j], m.ents[j] = h, ents[i]
	}
}

// sockSlot is a slot of a sockIndex: the hash of a socket's 4-tuple (0:
// empty) and its index in the Evaluator's slab.
type sockSlot struct {
	hash uint32
	idx  int32
}

// sockIndex maps 4-tuples to the sockets of the Evaluator's slab. It is a
// tupleMap whose keys stay in the sockets: a slot is 8 bytes, not 48, so
// the index of the requests a SYN stream creates and expires (an insert
// and a delete per SYN) stays within the first-level cache, and a delete
// moves 8 bytes an entry. A lookup that finds its hash compares the key in
// the socket, which it reads next anyway. Probing, growth and deletion
// are those of tupleMap.
type sockIndex struct {
	slots []sockSlot
	mask  uint32
	n     int
}

// find returns the slab index of the socket of k, whose hash is h.
func (m *sockIndex) find(slab []sock, k *tuple, h uint32) (int32, bool) {
	if m.n == 0 {
		return 0, false
	}
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		s := m.slots[i]
		if s.hash == h && slab[s.idx].key.eq(k) {
			return s.idx, true
		}
		if s.hash == 0 {
			return 0, false
		}
	}
}

// insert adds the socket at slab index idx, whose key hashes to h and is
// not in the index.
func (m *sockIndex) insert(h uint32, idx int32) {
	if 4*(m.n+1) > len(m.slots) {
		m.grow()
	}
	i := h & m.mask
	for m.slots[i].hash != 0 {
		i = (i + 1) & m.mask
	}
	m.slots[i] = sockSlot{h, idx}
	m.n++
}

// remove removes the socket at slab index idx, whose key hashes to h, if
// it is there (a phantom request is not).
func (m *sockIndex) remove(h uint32, idx int32) {
	if m.n == 0 {
		return
	}
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		switch s := m.slots[i]; {
		case s.hash == 0:
			return
		case s.hash == h && s.idx == idx:
			m.deleteAt(i)
			return
		}
	}
}

// deleteAt is tupleMap.deleteAt.
func (m *sockIndex) deleteAt(i uint32) {
	m.n--
	for j := i; ; {
		j = (j + 1) & m.mask
		s := m.slots[j]
		if s.hash == 0 {
			m.slots[i] = sockSlot{}
			return
		}
		if home := s.hash & m.mask; (j-home)&m.mask >= (j-i)&m.mask {
			m.slots[i] = s
			i = j
		}
	}
}

func (m *sockIndex) grow() {
	old := m.slots
	size := max(2*len(old), 16)
	m.slots, m.mask = make([]sockSlot, size), uint32(size-1)
	for _, s := range old {
		if s.hash == 0 {
			continue
		}
		j := s.hash & m.mask
		for m.slots[j].hash != 0 {
			j = (j + 1) & m.mask
		}
		m.slots[j] = s
	}
}
