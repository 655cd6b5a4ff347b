package paws

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Limits of the state an Evaluator keeps. They bound its memory whatever
// the event stream; the kernel has limits of its own (tcp_max_tw_buckets,
// the SYN and accept queues) that usually bind first.
const (
	// MaxCacheEntries bounds the per-host cache (tcp_metrics or
	// inet_peer). When it is full an entry not written for a while is
	// evicted (second chance in creation order), as the kernel reclaims
	// the least recently updated entry of a full hash chain.
	MaxCacheEntries = 1 << 16
	// MaxTimeWait bounds the TIME_WAIT sockets, above tcp_max_tw_buckets;
	// beyond it no TIME_WAIT socket is made (TCPTimeWaitOverflow).
	MaxTimeWait = 1 << 18
	// MaxRequests bounds the requests tracked per 4-tuple. Requests beyond
	// it still count in the SYN queue and expire, but a third ACK or RST
	// does not find them.
	MaxRequests = 1 << 16
	// MaxConnections bounds the established connections tracked for
	// segments; connections beyond it are counted but not tracked.
	MaxConnections = 1 << 16
	// MaxCookies bounds the SYN cookies remembered for their third ACK;
	// a cookie not remembered is judged invalid at its ACK.
	MaxCookies = 1 << 16
)

// ErrConfig is wrapped by errors of NewEvaluator and the Seed methods.
var ErrConfig = errors.New("paws: invalid configuration")

// Listener is the listening socket the model serves.
type Listener struct {
	// Addr is the local address and port; an unspecified address accepts
	// SYNs to any address of the host.
	Addr netip.AddrPort
	// Backlog is the backlog passed to listen(); the effective backlog is
	// min(Backlog, net.core.somaxconn).
	Backlog int
	// QLen and Young are requests already in the SYN queue at the start,
	// of which Young have not had a SYN-ACK retransmitted yet. They stay
	// for the whole run.
	QLen, Young int
	// AcceptQ is the number of connections already waiting for accept().
	AcceptQ int
}

// Config configures an Evaluator.
type Config struct {
	// Profile is the kernel's rules (ProfileFor).
	Profile Profile
	// Settings are the sysctls (DefaultSettings, SetSysctl).
	Settings Settings
	// Listener is the listening socket.
	Listener Listener
	// Start is the time of the beginning of the run: the evaluator's clock
	// starts there and ServerTSval is this host's TSval at that time.
	Start Time
	// ServerTSval is this host's TSval clock at Start: the TSval of a
	// SYN-ACK sent at Start (TSEcr check, 6.15+).
	ServerTSval Timestamp
	// RTO is the retransmission timeout of closed connections; a TIME_WAIT
	// socket that tcp_tw_recycle shortens lives 3.5 × RTO. Zero means
	// 200 ms (TCP_RTO_MIN), so 700 ms.
	RTO time.Duration
}

// Queues is the state of the listener's queues.
type Queues struct {
	// Backlog is the effective backlog, min(listen() backlog, somaxconn).
	Backlog int
	// SynLimit is the SYN-queue size at which it counts as full.
	SynLimit int
	// QLen is the number of requests in the SYN queue, Young of them
	// without a SYN-ACK retransmission yet.
	QLen, Young int
	// AcceptQ is the number of connections waiting for accept().
	AcceptQ int
}

// CacheEntry is an entry of the per-host timestamp cache (tcp_metrics,
// inet_peer) or of the RTT metrics that prove a peer.
type CacheEntry struct {
	// Local is the local address; the zero Addr on kernels whose cache is
	// keyed by the remote address only.
	Local netip.Addr
	// Remote is the peer's address.
	Remote netip.Addr
	// TSval is the cached timestamp P and Stamp the wall second S it was
	// seen; Stamp 0 means never written.
	TSval Timestamp
	Stamp int64
	// RTT reports whether an RTT metric is cached (proven peer, 4.14+).
	RTT bool
}

// TimeWait is a TIME_WAIT socket of this host.
type TimeWait struct {
	// Local and Remote are the 4-tuple.
	Local, Remote netip.AddrPort
	// HasTS reports whether the connection used timestamps; TSRecent is
	// the peer's last TSval and TSRecentAt when it arrived.
	HasTS      bool
	TSRecent   Timestamp
	TSRecentAt Time
	// RcvNxt is the next sequence number expected from the peer, when
	// HasRcvNxt.
	RcvNxt    uint32
	HasRcvNxt bool
	// Entered is when the socket entered TIME_WAIT (tw_entry_stamp).
	Entered Time
	// Expires is when its timer fires; zero means Entered + 60 s.
	Expires Time
	// FinWait2 reports the FIN_WAIT2 substate: the peer has not sent its
	// FIN yet.
	FinWait2 bool
}

// Established is an established connection of the listener.
type Established struct {
	// Local and Remote are the 4-tuple; a zero Local means the listener's.
	Local, Remote netip.AddrPort
	// HasTS reports whether the connection uses timestamps; TSRecent is
	// ts_recent and TSRecentAt when it was stored.
	HasTS      bool
	TSRecent   Timestamp
	TSRecentAt Time
	// RcvNxt is the next sequence number expected, when HasRcvNxt.
	RcvNxt    uint32
	HasRcvNxt bool
}

type cacheEntry struct {
	ts      Timestamp
	writer  uint8
	rtt     bool
	written bool // since the eviction last passed it (putCache)
	stamp   int64
}

// Kinds of sockets in the socket table.
const (
	sockFree uint8 = iota
	sockTW
	sockReq
	sockConn
)

// sock is a TIME_WAIT socket, a request (SYN_RECV) or an established
// connection, in one slab shared by the three kinds. The index (socks)
// holds its hash and slab index; a lookup among many sockets costs one
// cache miss there and one here, where it compares the key and finds the
// state.
type sock struct {
	key       tuple  // its 4-tuple
	hash      uint32 // hashTuple of key, its key in the index (socks)
	gen       uint32
	kind      uint8
	finWait2  bool  // TIME_WAIT substate FIN_WAIT2
	hasTS     bool  // timestamps in use (ts_recent_stamp != 0)
	rcvKnown  bool  // rcvNxt (or a request's ISN) is known
	hasOOW    bool  // lastOOW is set
	recycleOK bool  // TIME_WAIT shortened by tcp_tw_recycle
	young     bool  // request without SYN-ACK retransmission yet
	acked     bool  // request whose ACK overflowed the accept queue
	tracked   bool  // request in the table (not a phantom)
	hpos      int32 // TIME_WAIT: position of its timer in twQ
	tsRecent  Timestamp
	rcvNxt    uint32 // rcv_nxt, or a request's ISN
	tsStamp   int64  // ts_recent_stamp, wall seconds
	expires   Time   // TIME_WAIT expiry; a request's rtxAt (below)
	entry     Time   // TIME_WAIT entry (tw_entry_stamp), request SYN time
	lastOOW   Time
}

// rtxAt is when a request last sent a SYN-ACK in answer to a
// retransmitted SYN. It shares the field of the TIME_WAIT expiry, which a
// request does not have.
func (sk *sock) rtxAt() Time { return sk.expires }

func (sk *sock) setRtxAt(t Time) { sk.expires = t }

type reqTimer struct {
	at  Time
	gen uint32
	idx int32
}

// cookieTimer is the expiry of a remembered cookie, 2 min after it was
// sent. A cookie sent again has a new timer; the old one is stale.
type cookieTimer struct {
	at   Time
	key  tuple
	hash uint32
}

// Evaluator is a model of one host's TCP listen path. It is built by
// NewEvaluator, fed events in time order with Step, and keeps the state
// the kernel keeps: the per-host timestamp cache, TIME_WAIT sockets,
// requests, the accept queue and established connections.
//
// An Evaluator is not safe for concurrent use. It starts no goroutines.
// Once its tables and queues have grown to the working size of a stream,
// Step does not allocate. Its tables hash with a random seed of their
// own, so that no input can be crafted to make lookups slow; predictions
// do not depend on it.
type Evaluator struct {
	p        Profile
	s        Settings
	l        Listener
	start    Time
	serverTS Timestamp
	now      Time
	nowS     int64 // now.Seconds() of the event being evaluated

	backlog   int
	synLimit  int
	qlen      int
	young     int
	acceptq   int
	twShort   time.Duration
	reqLife   time.Duration
	rtxSched  [32]time.Duration
	rtxCount  int
	ratelimit time.Duration
	maxTW     int

	gen        uint32
	lastCookie Time
	anyCookie  bool

	seed       uint64               // of hashTuple
	noLocal    uint64               // hashLocal of the zero address
	cache      tupleMap[cacheEntry] // per-host cache
	cacheOrder ring[tuple]          // its keys, oldest first
	socks      sockIndex            // of slab
	slab       []sock
	free       []int32
	nTW        int
	nReq       int
	nConn      int
	cookies    tupleMap[Time] // when a cookie was sent

	youngQ  ring[reqTimer]
	expireQ ring[reqTimer]
	cookieQ ring[cookieTimer]
	twQ     twHeap

	totals Counters
}

// NewEvaluator returns an Evaluator for cfg. It checks the settings
// against the profile: tcp_tw_recycle set on a kernel without it gives an
// error wrapping fs.ErrNotExist; a value out of range or unsupported by the
// kernel, ErrSetting; a bad listener, ErrConfig.
func NewEvaluator(cfg Config) (*Evaluator, error) {
	p, s := cfg.Profile, cfg.Settings
	if p.Era < EraInetPeer || p.Era > EraNoRecycle {
		return nil, fmt.Errorf("%w: profile has no era (use ProfileFor)", ErrConfig)
	}
	if s.TCPTwRecycle != 0 && !p.HasTWRecycle {
		return nil, fmt.Errorf("paws: sysctl %s does not exist on %s: %w", SysctlTCPTwRecycle, p.Kernel, fs.ErrNotExist)
	}
	if s.TCPSyncookies == 2 && !p.SyncookiesAlways {
		return nil, fmt.Errorf("%w: %s = 2 is not supported on %s", ErrSetting, SysctlTCPSyncookies, p.Kernel)
	}
	if s.TCPTwReuse == 2 && !p.TWReuseLoopback {
		return nil, fmt.Errorf("%w: %s = 2 is not supported on %s", ErrSetting, SysctlTCPTwReuse, p.Kernel)
	}
	for i := range sysctlDefs {
		d := &sysctlDefs[i]
		if v := *d.field(&s); v < d.min || v > d.max {
			return nil, fmt.Errorf("%w: %s = %d out of range [%d, %d]", ErrSetting, d.name, v, d.min, d.max)
		}
	}
	l := cfg.Listener
	if !l.Addr.IsValid() {
		return nil, fmt.Errorf("%w: listener address %v is not ip:port", ErrConfig, l.Addr)
	}
	if l.Backlog < 0 || l.QLen < 0 || l.Young < 0 || l.Young > l.QLen || l.AcceptQ < 0 || l.QLen > 1<<30 || l.AcceptQ > 1<<30 || l.Backlog > 1<<30 {
		return nil, fmt.Errorf("%w: listener backlog %d, qlen %d, young %d, acceptq %d", ErrConfig, l.Backlog, l.QLen, l.Young, l.AcceptQ)
	}
	l.Addr = unmapAP(l.Addr)
	e := &Evaluator{
		p: p, s: s, l: l,
		start:    cfg.Start,
		now:      cfg.Start,
		serverTS: cfg.ServerTSval,
		qlen:     l.QLen,
		young:    l.Young,
		acceptq:  l.AcceptQ,
		seed:     rand.Uint64(),
	}
	e.noLocal = hashLocal(0, 0, e.seed)
	e.backlog = min(l.Backlog, s.Somaxconn)
	switch p.SynQueue {
	case SynQueuePow2:
		n := max(min(e.backlog, s.TCPMaxSynBacklog), 8) + 1
		pow := 1
		for pow < n {
			pow <<= 1
		}
		e.synLimit = pow
	case SynQueueBacklog:
		e.synLimit = e.backlog
	default:
		e.synLimit = e.backlog + 1
	}
	rto := cfg.RTO
	if rto <= 0 {
		rto = 200 * time.Millisecond
	}
	e.twShort = 4*rto - rto/2
	e.ratelimit = time.Duration(s.TCPInvalidRatelimit) * time.Millisecond
	e.maxTW = min(s.TCPMaxTwBuckets, MaxTimeWait)
	// SYN-ACK retransmissions at TimeoutInit, doubling up to TCP_RTO_MAX
	// (120 s); the request dies at the timeout after the last one.
	init := p.TimeoutInit
	if init <= 0 {
		init = time.Second
	}
	var sum time.Duration
	n := min(s.TCPSynackRetries, len(e.rtxSched)-1)
	for k := 0; k <= n; k++ {
		sum += min(init<<k, 120*time.Second)
		if k < n {
			e.rtxSched[k] = sum
		}
	}
	e.rtxCount = n
	e.reqLife = sum
	return e, nil
}

// Profile returns the profile the Evaluator applies.
func (e *Evaluator) Profile() Profile { return e.p }

// Settings returns the settings the Evaluator applies.
func (e *Evaluator) Settings() Settings { return e.s }

// Now returns the time of the last event or Advance.
func (e *Evaluator) Now() Time { return e.now }

// Totals returns the sum of the counter deltas of every event and timer
// so far.
func (e *Evaluator) Totals() Counters { return e.totals }

// Queues returns the listener's queue state.
func (e *Evaluator) Queues() Queues {
	return Queues{Backlog: e.backlog, SynLimit: e.synLimit, QLen: e.qlen, Young: e.young, AcceptQ: e.acceptq}
}

// Cache returns the per-host cache entry for (local, remote); local is
// ignored on kernels whose cache is keyed by the remote address only.
func (e *Evaluator) Cache(local, remote netip.Addr) (CacheEntry, bool) {
	local, remote = local.Unmap(), remote.Unmap()
	k := e.hostKey(local, remote)
	c := e.cache.get(&k, hashTuple(&k, e.seed))
	if c == nil {
		return CacheEntry{}, false
	}
	if e.p.CacheKey == CacheKeyRemote {
		local = netip.Addr{}
	}
	return CacheEntry{Local: local, Remote: remote, TSval: c.ts, Stamp: c.stamp, RTT: c.rtt}, true
}

// TimeWait returns this host's TIME_WAIT socket of (local, remote).
func (e *Evaluator) TimeWait(local, remote netip.AddrPort) (TimeWait, bool) {
	k := tupleOf(unmapAP(local), unmapAP(remote))
	idx, ok := e.sockOf(&k, hashTuple(&k, e.seed))
	if !ok || e.slab[idx].kind != sockTW {
		return TimeWait{}, false
	}
	sk := &e.slab[idx]
	return TimeWait{
		Local: k.localAP(), Remote: k.remoteAP(), HasTS: sk.hasTS, TSRecent: sk.tsRecent,
		TSRecentAt: Time(sk.tsStamp * 1e9), RcvNxt: sk.rcvNxt, HasRcvNxt: sk.rcvKnown,
		Entered: sk.entry, Expires: sk.expires, FinWait2: sk.finWait2,
	}, true
}

// SeedCache puts an entry into the per-host cache, as the kernel would
// have it before the first event. A zero Local means the listener's
// address.
func (e *Evaluator) SeedCache(c CacheEntry) error {
	if !c.Remote.IsValid() {
		return fmt.Errorf("%w: cache entry without remote address", ErrConfig)
	}
	local := c.Local
	if !local.IsValid() {
		local = e.l.Addr.Addr()
	}
	k := e.hostKey(local, c.Remote)
	*e.putCache(&k, hashTuple(&k, e.seed)) = cacheEntry{ts: c.TSval, stamp: c.Stamp, rtt: c.RTT, writer: writerSeed}
	return nil
}

// SeedTimeWait adds a TIME_WAIT socket, as the kernel would have it before
// the first event. A zero Local means the listener's address.
func (e *Evaluator) SeedTimeWait(t TimeWait) error {
	exp := t.Expires
	if exp == 0 {
		exp = t.Entered.Add(60 * time.Second)
	}
	idx, sk, err := e.seedSock(t.Local, t.Remote, sockTW)
	if err != nil {
		return err
	}
	sk.finWait2, sk.hasTS, sk.rcvKnown = t.FinWait2, t.HasTS, t.HasRcvNxt
	sk.tsRecent, sk.rcvNxt, sk.expires, sk.entry = t.TSRecent, t.RcvNxt, exp, t.Entered
	if t.HasTS {
		sk.tsStamp = t.TSRecentAt.Seconds()
	}
	e.twPush(idx, exp)
	return nil
}

// SeedEstablished adds an established connection. A zero Local means the
// listener's address.
func (e *Evaluator) SeedEstablished(c Established) error {
	_, sk, err := e.seedSock(c.Local, c.Remote, sockConn)
	if err != nil {
		return err
	}
	sk.hasTS, sk.rcvKnown, sk.tsRecent, sk.rcvNxt = c.HasTS, c.HasRcvNxt, c.TSRecent, c.RcvNxt
	if c.HasTS {
		sk.tsStamp = c.TSRecentAt.Seconds()
	}
	return nil
}

// seedSock makes a socket of kind (sockTW or sockConn) for (local,
// remote), a zero local meaning the listener's, in place of any socket
// of that 4-tuple, if that kind is below its bound.
func (e *Evaluator) seedSock(local, remote netip.AddrPort, kind uint8) (int32, *sock, error) {
	what, n, limit := "connection", e.nConn, MaxConnections
	if kind == sockTW {
		what, n, limit = "TIME_WAIT socket", e.nTW, MaxTimeWait
	}
	if !remote.IsValid() {
		return 0, nil, fmt.Errorf("%w: %s without remote address", ErrConfig, what)
	}
	if !local.IsValid() {
		local = e.l.Addr
	}
	if n >= limit {
		return 0, nil, fmt.Errorf("%w: more than %d %ss", ErrConfig, limit, what)
	}
	k := tupleOf(unmapAP(local), unmapAP(remote))
	h := hashTuple(&k, e.seed)
	e.remove(&k, h)
	idx, sk := e.newSock(&k, h, kind)
	return idx, sk, nil
}

func unmapAP(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// sockOf returns the slab index of the socket of k, whose hash is h.
func (e *Evaluator) sockOf(k *tuple, h uint32) (int32, bool) {
	return e.socks.find(e.slab, k, h)
}

// newSock adds a socket for k, whose hash is h and which must not have
// one; it may move the slab, invalidating pointers into it.
func (e *Evaluator) newSock(k *tuple, h uint32, kind uint8) (int32, *sock) {
	idx := e.allocSock(k, h, kind)
	e.socks.insert(h, idx)
	e.count(kind, 1)
	return idx, &e.slab[idx]
}

// allocSock takes a slab entry for a socket of k, whose hash is h,
// without adding it to the index.
func (e *Evaluator) allocSock(k *tuple, h uint32, kind uint8) int32 {
	var idx int32
	if n := len(e.free); n > 0 {
		idx = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		e.slab = append(e.slab, sock{})
		idx = int32(len(e.slab) - 1)
	}
	e.gen++
	sk := &e.slab[idx]
	*sk = sock{hash: h, gen: e.gen, kind: kind}
	sk.key.copy(k)
	return idx
}

func (e *Evaluator) count(kind uint8, d int) {
	switch kind {
	case sockTW:
		e.nTW += d
	case sockReq:
		e.nReq += d
	case sockConn:
		e.nConn += d
	}
}

// release frees the socket at idx and removes it from the table.
func (e *Evaluator) release(idx int32) {
	sk := &e.slab[idx]
	e.count(sk.kind, -1)
	if sk.kind == sockTW {
		e.twRemove(int(sk.hpos))
	}
	e.socks.remove(sk.hash, idx)
	*sk = sock{}
	e.free = append(e.free, idx)
}

// remove removes the socket of k, whatever its kind, keeping the queue
// counts right for a request.
func (e *Evaluator) remove(k *tuple, h uint32) {
	if idx, ok := e.sockOf(k, h); ok {
		if e.slab[idx].kind == sockReq {
			e.dropRequest(idx)
			return
		}
		e.release(idx)
	}
}

// flow is the 4-tuple of an event, the key of its sockets, with its hash
// and the hashes of its addresses, from which the hash of its per-host
// cache key follows with one more step (hostOf).
type flow struct {
	k    tuple
	h    uint32
	a, b uint64 // hashLocal and hashRemote of k
}

// setFlow sets f to the flow of (local, remote), unmapped addresses.
func (e *Evaluator) setFlow(f *flow, local, remote netip.AddrPort) {
	f.k.set(local, remote)
	f.a, f.b = hashLocal(f.k.lhi, f.k.llo, e.seed), hashRemote(f.k.rhi, f.k.rlo, e.seed)
	f.h = hashJoin(f.a, f.b, f.k.ports, e.seed)
}

// hostOf sets k to the per-host cache key of f and returns its hash.
// It copies the addresses word by word, not as k = f.k: f.k was just
// filled field by field (tuple.set), and a whole-struct copy would stall.
func (e *Evaluator) hostOf(f *flow, k *tuple) uint32 {
	k.rhi, k.rlo, k.ports = f.k.rhi, f.k.rlo, 0
	if e.p.CacheKey == CacheKeyRemote {
		k.lhi, k.llo = 0, 0
		return hashJoin(e.noLocal, f.b, 0, e.seed)
	}
	k.lhi, k.llo = f.k.lhi, f.k.llo
	return hashJoin(f.a, f.b, 0, e.seed)
}

// toHostKey turns the 4-tuple k into its per-host cache key: its
// addresses, only the remote one on kernels whose cache is keyed by it.
func (e *Evaluator) toHostKey(k *tuple) {
	k.ports = 0
	if e.p.CacheKey == CacheKeyRemote {
		k.lhi, k.llo = 0, 0
	}
}

// hostKey returns the per-host cache key of (local, remote).
func (e *Evaluator) hostKey(local, remote netip.Addr) tuple {
	k := tupleOf(netip.AddrPortFrom(local.Unmap(), 0), netip.AddrPortFrom(remote.Unmap(), 0))
	e.toHostKey(&k)
	return k
}

// hostEntry returns the per-host cache entry of f, or nil; the pointer is
// valid until the next change of the cache.
func (e *Evaluator) hostEntry(f *flow) *cacheEntry {
	var k tuple
	h := e.hostOf(f, &k)
	return e.cache.get(&k, h)
}

// putCache returns the cache entry of k, whose hash is h, for writing, a
// zero one if k has none. When the cache is full an entry makes room that
// has not been written since the eviction last passed it (second chance,
// in creation order): the model's stand-in for the kernel reclaiming the
// least recently updated entry of a full hash chain.
func (e *Evaluator) putCache(k *tuple, h uint32) *cacheEntry {
	if c := e.cache.get(k, h); c != nil {
		c.written = true
		return c
	}
	for e.cache.n >= MaxCacheEntries {
		old := *e.cacheOrder.front()
		e.cacheOrder.pop()
		oh := hashTuple(&old, e.seed)
		if c := e.cache.get(&old, oh); c.written {
			c.written = false
			e.cacheOrder.push(old)
			continue
		}
		e.cache.delete(&old, oh)
	}
	c, _ := e.cache.put(k, h)
	e.cacheOrder.push(*k)
	return c
}

func (e *Evaluator) inc(r *Result, c Counter) {
	if e.p.Counters.Has(c) {
		r.Counters[c]++
		e.totals[c]++
	}
}

// serverTSval is this host's TSval clock at t.
func (e *Evaluator) serverTSval(t Time) Timestamp {
	d := int64(t - e.start)
	if d < 0 {
		d = 0
	}
	hz := int64(e.p.TSClockHz)
	if hz <= 0 {
		hz = 1000
	}
	return e.serverTS + Timestamp(uint64(d/1e9)*uint64(hz)+uint64(d%1e9)*uint64(hz)/1e9)
}

// cookieOf returns the slot in the cookie table of the cookie whose timer
// is ct, or -1 if ct is stale.
func (e *Evaluator) cookieOf(ct *cookieTimer) int {
	i := e.cookies.find(&ct.key, ct.hash)
	if i < 0 || e.cookies.ents[i].val.Add(2*time.Minute) != ct.at {
		return -1
	}
	return i
}

// pushCookieTimer queues ct. Before the queue holds 2 × MaxCookies timers
// it drops the stale ones, keeping the order: a remembered cookie has one
// live timer, so the queue stays within bounds however often cookies are
// sent again, at an amortized constant cost.
func (e *Evaluator) pushCookieTimer(ct cookieTimer) {
	if n := e.cookieQ.len(); n >= 2*MaxCookies {
		for range n {
			c := *e.cookieQ.front()
			e.cookieQ.pop()
			if e.cookieOf(&c) >= 0 {
				e.cookieQ.push(c)
			}
		}
	}
	e.cookieQ.push(ct)
}

// Advance moves the clock to t, firing the timers due: requests aging
// and expiring, TIME_WAIT sockets expiring. It returns the counter deltas
// of those timers (TW and TWKilled at expiry before 4.1), which are also in
// Totals. Step calls it with the event's time; an earlier t is ignored.
func (e *Evaluator) Advance(t Time) Counters {
	var d Counters
	e.advance(t, &d)
	return d
}

// advance is Advance adding the timers' counter deltas to d, if not nil,
// besides the totals.
func (e *Evaluator) advance(t Time, d *Counters) {
	if t < e.now {
		return
	}
	e.now = t
	for e.youngQ.len() > 0 && e.youngQ.front().at <= t {
		rt := *e.youngQ.front()
		e.youngQ.pop()
		if sk := &e.slab[rt.idx]; sk.gen == rt.gen && sk.young {
			sk.young = false
			e.young--
		}
	}
	for e.expireQ.len() > 0 && e.expireQ.front().at <= t {
		rt := *e.expireQ.front()
		e.expireQ.pop()
		if e.slab[rt.idx].gen == rt.gen {
			e.dropRequest(rt.idx)
		}
	}
	for e.cookieQ.len() > 0 && e.cookieQ.front().at <= t {
		ct := *e.cookieQ.front()
		e.cookieQ.pop()
		if i := e.cookieOf(&ct); i >= 0 {
			e.cookies.deleteAt(uint32(i))
		}
	}
	for len(e.twQ) > 0 && e.twQ[0].at <= t {
		idx := e.twQ[0].idx
		sk := &e.slab[idx]
		if sk.expires > e.twQ[0].at {
			e.twQ[0].at = sk.expires
			e.twDown(0)
			continue
		}
		short := sk.recycleOK
		e.release(idx)
		if !e.p.TWCountOnEntry {
			c := TW
			if short {
				c = TWKilled
			}
			if e.p.Counters.Has(c) {
				if d != nil {
					d[c]++
				}
				e.totals[c]++
			}
		}
	}
}

// Step evaluates one event and returns the prediction. Events must come
// in time order: an event earlier than the previous one is evaluated at
// the previous one's time (Result.Event shows the time used).
func (e *Evaluator) Step(ev Event) (r Result) {
	e.step(&r, &ev)
	return
}

// step is Step writing the prediction for *ev to *r, which it overwrites
// whole.
func (e *Evaluator) step(r *Result, ev *Event) {
	// The event is copied whole first and normalized in place: changing
	// fields of ev and then copying it would read those fields' narrow
	// stores back with the copy's wide loads, a store-forwarding stall.
	// For the same reason the copy goes straight into r: *r =
	// Result{Event: *ev} builds the Result on the stack first.
	*r = Result{}
	r.Event = *ev
	e.normalize(&r.Event)
	e.advance(r.Event.Time, nil)
	e.nowS = r.Event.Time.Seconds()
	switch r.Event.Type {
	case EventSYN:
		e.syn(r)
	case EventServerClose:
		e.serverClose(r)
	case EventClientClose:
		e.clientClose(r)
	case EventClientRST:
		e.segment(r, FlagRST)
	case EventACK:
		e.segment(r, FlagACK)
	case EventSegment:
		e.segment(r, segFlags(r.Event.Flags))
	case EventAccept:
		if e.acceptq > 0 {
			e.acceptq--
			r.Outcome, r.note, r.qlen = OutcomeAccept, noteAccept, int32(e.acceptq)
		} else {
			r.Outcome, r.note = OutcomeRefuse, noteAcceptEmpty
		}
	case EventConnect:
		e.connect(r)
	}
}

// normalize clamps ev's time, unmaps its addresses and fills in the
// defaults of Dst and TSvalAt.
func (e *Evaluator) normalize(ev *Event) {
	if ev.Time < e.now {
		ev.Time = e.now
	}
	if ev.Src.Addr().Is4In6() {
		ev.Src = unmapAP(ev.Src)
	}
	if ev.Dst.Addr().Is4In6() {
		ev.Dst = unmapAP(ev.Dst)
	}
	if ev.Type != EventConnect && !ev.Dst.IsValid() {
		ev.Dst = e.l.Addr
	}
	if ev.Type == EventServerClose && ev.TSvalAt == 0 || ev.TSvalAt > ev.Time {
		ev.TSvalAt = ev.Time
	}
}

func (e *Evaluator) listens(dst netip.AddrPort) bool {
	if dst == e.l.Addr {
		return true
	}
	if dst.Port() != e.l.Addr.Port() {
		return false
	}
	la := e.l.Addr.Addr()
	return la.IsUnspecified() && la.Is4() == dst.Addr().Is4() || la == dst.Addr()
}

func (e *Evaluator) sawTS(ev *Event) bool { return ev.HasTS && e.s.TCPTimestamps != 0 }

func (e *Evaluator) syn(r *Result) {
	ev := &r.Event
	var f flow
	e.setFlow(&f, ev.Dst, ev.Src)
	isn := false
	if idx, ok := e.sockOf(&f.k, f.h); ok {
		sk := &e.slab[idx]
		switch sk.kind {
		case sockTW:
			if !e.timewait(r, idx, FlagSYN) {
				return
			}
			isn = true
		case sockConn:
			e.established(r, idx, FlagSYN)
			return
		case sockReq:
			if ev.HasSeq && sk.rcvKnown && ev.Seq != sk.rcvNxt {
				e.dropRequest(idx)
				e.inc(r, AttemptFails)
				e.inc(r, EmbryonicRsts)
				r.Outcome, r.note = OutcomeRST, noteEmbryonic
				return
			}
			sk.setRtxAt(e.now)
			r.Outcome, r.note = OutcomeAnswer, noteSynRetransmit
			return
		}
	}
	if !e.listens(ev.Dst) {
		r.Outcome, r.note = OutcomeRST, noteNoSocket
		return
	}
	e.listen(r, &f, isn)
}

func (e *Evaluator) listenDrop(r *Result) {
	if e.p.ListenCountersOnSYN {
		e.inc(r, ListenDrops)
	}
	r.Outcome = OutcomeDrop
}

// listen is the listener's SYN path (§12.4 step 2).
func (e *Evaluator) listen(r *Result, f *flow, isn bool) {
	ev := &r.Event
	p, s := &e.p, &e.s
	saw := e.sawTS(ev)
	wantCookie := false
	always := s.TCPSyncookies == 2 && p.SyncookiesAlways
	if !isn && (always || e.qlen >= e.synLimit) {
		r.qlen, r.limit = int32(e.qlen), int32(e.synLimit)
		if s.TCPSyncookies != 0 {
			wantCookie = true
			e.inc(r, TCPReqQFullDoCookies)
		} else {
			e.inc(r, TCPReqQFullDrop)
			e.listenDrop(r)
			r.Reason, r.note = ReasonSynqFull, noteSynqFull
			return
		}
	}
	if e.acceptq > e.backlog && (!p.AcceptQueueYoung || e.young > 1) {
		if p.ListenCountersOnSYN {
			e.inc(r, ListenOverflows)
		}
		e.listenDrop(r)
		r.Reason, r.note = ReasonAcceptqFull, noteAcceptqSYN
		r.qlen, r.limit = int32(e.acceptq), int32(e.backlog)
		return
	}
	if !wantCookie && !isn {
		recycle := s.TCPTwRecycle != 0 && p.HasTWRecycle
		covered := ev.Src.Addr().Is4() || p.PerHostIPv6
		var reject, unproven bool
		switch p.Era {
		case EraInetPeer, EraMetrics:
			if saw && recycle && covered {
				reject = e.perHostReject(r, f, saw)
			} else {
				unproven = e.unproven(f)
			}
		case EraConnRequest:
			if recycle {
				reject = covered && e.perHostReject(r, f, saw)
			} else {
				unproven = e.unproven(f)
			}
		default:
			unproven = e.unproven(f)
		}
		if reject {
			e.inc(r, PAWSPassive)
			e.listenDrop(r)
			r.Reason, r.note = ReasonPerHostPAWS, notePerHost
			return
		}
		if unproven {
			e.listenDrop(r)
			r.Reason, r.note = ReasonUnprovenPeer, noteUnproven
			r.qlen, r.limit = int32(e.qlen), int32(s.TCPMaxSynBacklog)
			return
		}
	}
	if wantCookie {
		e.inc(r, SyncookiesSent)
		r.Outcome, r.note = OutcomeAnswerCookie, noteCookie
		if always && e.qlen < e.synLimit {
			r.note = noteCookieAlways
		}
		e.lastCookie, e.anyCookie = e.now, true
		if e.cookies.n < MaxCookies || e.cookies.find(&f.k, f.h) >= 0 {
			if sent, ok := e.cookies.put(&f.k, f.h); !ok || *sent != e.now {
				*sent = e.now
				e.pushCookieTimer(cookieTimer{at: e.now.Add(2 * time.Minute), key: f.k, hash: f.h})
			}
		}
		return
	}
	var idx int32
	if e.nReq < MaxRequests {
		var sk *sock
		idx, sk = e.newSock(&f.k, f.h, sockReq)
		sk.tracked = true
		e.fillRequest(sk, ev, saw)
	} else {
		// A phantom: it counts in the queue and expires, but is not
		// in the table.
		idx = e.allocSock(&f.k, f.h, sockReq)
		e.fillRequest(&e.slab[idx], ev, saw)
		e.nReq++
	}
	gen := e.slab[idx].gen
	e.qlen++
	e.young++
	e.youngQ.push(reqTimer{at: e.now.Add(e.p.TimeoutInit), gen: gen, idx: idx})
	e.expireQ.push(reqTimer{at: e.now.Add(e.reqLife), gen: gen, idx: idx})
	r.Outcome, r.note, r.qlen = OutcomeAnswer, noteNewRequest, int32(e.qlen)
}

func (e *Evaluator) fillRequest(sk *sock, ev *Event, saw bool) {
	sk.hasTS, sk.young, sk.rcvKnown, sk.rcvNxt, sk.entry = saw, true, ev.HasSeq, ev.Seq, e.now
	if saw {
		sk.tsRecent = ev.TSval
	}
}

// perHostReject is the per-host PAWS check (tcp_peer_is_proven with
// paws_check, or the inet_peer test before 3.6).
func (e *Evaluator) perHostReject(r *Result, f *flow, saw bool) bool {
	c := e.hostEntry(f)
	if c == nil || uint32(e.nowS)-uint32(c.stamp) >= 60 {
		return false
	}
	r.cached, r.stamp, r.writer = c.ts, c.stamp, c.writer
	if saw {
		return int32(c.ts-r.Event.TSval) > 1
	}
	return e.p.Era == EraConnRequest
}

// unproven is the last-quarter check of tcp_max_syn_backlog (§3).
func (e *Evaluator) unproven(f *flow) bool {
	msb := e.s.TCPMaxSynBacklog
	if e.s.TCPSyncookies != 0 || msb-e.qlen >= msb>>2 {
		return false
	}
	if e.p.Proven == ProvenRTT {
		if c := e.hostEntry(f); c != nil && c.rtt {
			return false
		}
	}
	return true
}

// remember is tcp_remember_stamp / tcp_tw_remember_stamp: it offers
// (L, T) to the per-host cache and reports whether an entry exists
// (recycle_ok).
func (e *Evaluator) remember(f *flow, remote netip.Addr, l Timestamp, t int64, writer uint8) (bool, cacheEntry) {
	if e.s.TCPTwRecycle == 0 || !e.p.HasTWRecycle || !(remote.Is4() || e.p.PerHostIPv6) {
		return false, cacheEntry{}
	}
	var k tuple
	c := e.putCache(&k, e.hostOf(f, &k))
	if int32(c.ts-l) <= 0 || uint32(e.nowS)-uint32(c.stamp) > 60 && uint32(c.stamp) <= uint32(t) {
		c.ts, c.stamp, c.writer = l, t, writer
	}
	return true, *c
}

func (e *Evaluator) saveRTT(f *flow) {
	if e.s.TCPNoMetricsSave != 0 {
		return
	}
	var k tuple
	h := e.hostOf(f, &k)
	if c := e.cache.get(&k, h); c == nil || !c.rtt {
		e.putCache(&k, h).rtt = true
	}
}

// dropRequest removes the request at idx from the SYN queue.
func (e *Evaluator) dropRequest(idx int32) {
	sk := &e.slab[idx]
	e.qlen--
	if sk.young {
		e.young--
	}
	e.release(idx)
}

func (e *Evaluator) serverClose(r *Result) {
	ev := &r.Event
	var f flow
	e.setFlow(&f, ev.Dst, ev.Src)
	e.remove(&f.k, f.h)
	hasTS := ev.HasTS && e.s.TCPTimestamps != 0
	stamp := ev.TSvalAt.Seconds()
	recycleOK := false
	if hasTS {
		var c cacheEntry
		recycleOK, c = e.remember(&f, ev.Src.Addr(), ev.TSval, stamp, writerServerClose)
		if recycleOK {
			r.cached, r.stamp, r.writer = c.ts, c.stamp, c.writer
		}
	}
	e.saveRTT(&f)
	r.Outcome = OutcomeNone
	if e.nTW >= e.maxTW {
		e.inc(r, TCPTimeWaitOverflow)
		r.note = noteServerCloseNoTW
		return
	}
	dur := 60 * time.Second
	short := recycleOK && !ev.FinWait2
	if short {
		dur = e.twShort
	}
	idx, sk := e.newSock(&f.k, f.h, sockTW)
	sk.finWait2, sk.hasTS, sk.rcvKnown, sk.rcvNxt = ev.FinWait2, hasTS, ev.HasSeq, ev.Seq
	sk.expires, sk.entry, sk.recycleOK = e.now.Add(dur), e.now, short
	if hasTS {
		sk.tsRecent, sk.tsStamp = ev.TSval, stamp
	}
	if e.p.TWCountOnEntry {
		if dur <= 4*time.Second {
			e.inc(r, TWKilled)
		} else {
			e.inc(r, TW)
		}
	}
	e.twPush(idx, sk.expires)
	r.note, r.limit = noteServerClose, int32(dur/time.Millisecond)
}

func (e *Evaluator) clientClose(r *Result) {
	ev := &r.Event
	var f flow
	e.setFlow(&f, ev.Dst, ev.Src)
	if idx, ok := e.sockOf(&f.k, f.h); ok && e.slab[idx].kind == sockTW {
		sk := &e.slab[idx]
		if !sk.finWait2 {
			e.timewait(r, idx, FlagFIN|FlagACK)
			return
		}
		// The peer's FIN reaches the FIN_WAIT2 timewait socket.
		saw := sk.hasTS && e.sawTS(ev)
		if saw && e.pawsReject(sk.tsRecent, sk.tsStamp, ev.TSval, false) {
			e.timewaitOOW(r, sk, TCPACKSkippedFinWait2, noteTWFW2Ack)
			return
		}
		sk.finWait2 = false
		if sk.rcvKnown {
			sk.rcvNxt++
		}
		dur := 60 * time.Second
		if saw {
			sk.tsRecent, sk.tsStamp, sk.entry = ev.TSval, e.nowS, e.now
			if ok, c := e.remember(&f, ev.Src.Addr(), ev.TSval, e.nowS, writerFIN); ok {
				dur = e.twShort
				sk.recycleOK = true
				r.cached, r.stamp, r.writer = c.ts, c.stamp, c.writer
			}
		}
		sk.expires = e.now.Add(dur)
		if pos := int(sk.hpos); sk.expires < e.twQ[pos].at {
			e.twQ[pos].at = sk.expires
			e.twUp(pos)
		}
		r.Outcome, r.note = OutcomeACK, noteTWFin
		return
	}
	e.remove(&f.k, f.h)
	e.saveRTT(&f)
	r.Outcome, r.note = OutcomeNone, noteClientClose
}

// pawsReject is tcp_paws_reject against (tsRecent, stamp).
func (e *Evaluator) pawsReject(tsRecent Timestamp, stamp int64, tsval Timestamp, rst bool) bool {
	if int32(tsRecent-tsval) <= 0 {
		return false
	}
	nowS := e.nowS
	if int32(uint32(nowS)-uint32(stamp+int64(e.p.PAWSIdle/time.Second))) >= 0 {
		return false
	}
	if e.p.PAWSZeroExempt && tsRecent == 0 {
		return false
	}
	if rst && int32(uint32(nowS)-uint32(stamp+60)) >= 0 {
		return false
	}
	return true
}

// oowLimited is tcp_oow_rate_limited for an ACK answering an
// out-of-window segment of sk.
func (e *Evaluator) oowLimited(r *Result, sk *sock, mib Counter) bool {
	ev := &r.Event
	if !e.p.OOWRateLimit {
		return false
	}
	if ev.Type == EventSegment && ev.Len > 0 && ev.Flags&FlagSYN == 0 {
		return false
	}
	if sk.hasOOW {
		el := e.now - sk.lastOOW
		if el >= 0 && el < Time(e.ratelimit) {
			e.inc(r, mib)
			return true
		}
	}
	sk.hasOOW, sk.lastOOW = true, e.now
	return false
}

func (e *Evaluator) timewaitOOW(r *Result, sk *sock, mib Counter, n note) {
	if e.oowLimited(r, sk, mib) {
		r.Outcome = OutcomeDrop
		return
	}
	r.Outcome, r.note = OutcomeACK, n
}

// timewait is tcp_timewait_state_process. It reports whether a SYN is
// accepted (TCP_TW_SYN) and must go on to the listener; the socket is
// then gone.
func (e *Evaluator) timewait(r *Result, idx int32, flags Flags) bool {
	ev := &r.Event
	sk := &e.slab[idx]
	rst, syn, ack := flags&FlagRST != 0, flags&FlagSYN != 0, flags&FlagACK != 0
	saw := sk.hasTS && e.sawTS(ev)
	paws := saw && e.pawsReject(sk.tsRecent, sk.tsStamp, ev.TSval, rst)
	r.cached, r.stamp = sk.tsRecent, sk.tsStamp
	seqKnown := ev.HasSeq && sk.rcvKnown
	after := seqKnown && int32(ev.Seq-sk.rcvNxt) > 0
	if sk.finWait2 {
		inWindow := !seqKnown || uint32(ev.Seq-sk.rcvNxt) <= 65535
		switch {
		case paws || !inWindow:
			e.timewaitOOW(r, sk, TCPACKSkippedFinWait2, noteTWFW2Ack)
		case rst:
			e.release(idx)
			r.Outcome, r.note = OutcomeNone, noteTWKilled
		case syn:
			e.release(idx)
			r.Outcome, r.note = OutcomeRST, noteTWFW2Rst
		default:
			r.Outcome, r.note = OutcomeDrop, noteTWFW2Ack
		}
		return false
	}
	seqEq := !seqKnown || ev.Seq == sk.rcvNxt
	pure := flags&(FlagSYN|FlagFIN) == 0 && ev.Len == 0
	if !paws && seqEq && (rst || pure && ack) {
		if rst {
			if e.s.TCPRFC1337 == 0 {
				e.release(idx)
				r.Outcome, r.note = OutcomeNone, noteTWKilled
				return false
			}
			r.note = noteTWRstIgnored
		} else {
			r.note = noteTWAck
			sk.expires = e.now.Add(60 * time.Second)
		}
		if saw {
			sk.tsRecent, sk.tsStamp = ev.TSval, e.nowS
		}
		r.Outcome = OutcomeNone
		return false
	}
	if syn && !rst && !ack && !paws && (after || saw && int32(sk.tsRecent-ev.TSval) < 0) {
		e.release(idx)
		return true
	}
	if paws {
		e.inc(r, e.p.TimeWaitPAWSCounter)
		r.Reason = ReasonTimewaitPAWS
	}
	if rst {
		r.Outcome, r.note = OutcomeNone, noteTWRstIgnored
		return false
	}
	if paws || ack {
		sk.expires = e.now.Add(60 * time.Second)
	}
	if e.oowLimited(r, sk, TCPACKSkippedTimeWait) {
		r.Outcome, r.note = OutcomeDrop, noteTWNotNewerLimited
		if paws {
			r.note = noteTWPAWSLimited
		}
	} else {
		r.Outcome, r.note = OutcomeACK, noteTWNotNewer
		if paws {
			r.note = noteTWPAWS
		}
	}
	return false
}

// segment handles a non-SYN segment: TIME_WAIT, established connection,
// request, or the listener.
func (e *Evaluator) segment(r *Result, flags Flags) {
	ev := &r.Event
	k := tupleOf(ev.Dst, ev.Src)
	h := hashTuple(&k, e.seed)
	if idx, ok := e.sockOf(&k, h); ok {
		switch e.slab[idx].kind {
		case sockTW:
			e.timewait(r, idx, flags)
		case sockConn:
			e.established(r, idx, flags)
		case sockReq:
			e.synRecv(r, &k, idx, flags)
		}
		return
	}
	if flags&FlagRST != 0 || flags&FlagACK == 0 {
		r.Outcome, r.note = OutcomeNone, noteNoState
		return
	}
	// A bare ACK to the listener: a SYN cookie, or a RST.
	if !e.listens(ev.Dst) {
		r.Outcome, r.note = OutcomeRST, noteNoSocket
		return
	}
	if e.s.TCPSyncookies != 0 && e.anyCookie && e.now-e.lastCookie < Time(2*time.Minute) {
		if i := e.cookies.find(&k, h); i >= 0 && e.now-e.cookies.ents[i].val < Time(2*time.Minute) {
			e.cookies.deleteAt(uint32(i))
			e.inc(r, SyncookiesRecv)
			e.child(r, &k, h, sock{hasTS: ev.HasTS, tsRecent: ev.TSval, tsStamp: e.nowS}, true)
			return
		}
		e.inc(r, SyncookiesFailed)
		r.Outcome, r.note = OutcomeRST, noteCookieFailed
		return
	}
	r.Outcome, r.note = OutcomeRST, noteNoSocket
}

// child creates a connection from a request or a cookie
// (tcp_v4_syn_recv_sock) with the state of c. It reports false on
// accept-queue overflow. The slab may move.
func (e *Evaluator) child(r *Result, k *tuple, h uint32, c sock, cookie bool) bool {
	if e.acceptq > e.backlog {
		e.inc(r, ListenOverflows)
		e.inc(r, ListenDrops)
		r.Reason = ReasonAcceptqFull
		r.qlen, r.limit = int32(e.acceptq), int32(e.backlog)
		if cookie {
			r.Outcome, r.note = OutcomeDrop, noteAcceptqCookie
		}
		return false
	}
	e.inc(r, PassiveOpens)
	e.acceptq++
	if e.nConn < MaxConnections {
		_, sk := e.newSock(k, h, sockConn)
		sk.hasTS, sk.rcvKnown, sk.tsRecent, sk.rcvNxt, sk.tsStamp = c.hasTS, c.rcvKnown, c.tsRecent, c.rcvNxt, c.tsStamp
	}
	r.Outcome, r.qlen = OutcomeAccept, int32(e.acceptq)
	r.note = noteChild
	if cookie {
		r.note = noteCookieChild
	}
	return true
}

// synRecv is tcp_check_req for a segment of k matching the request at idx.
func (e *Evaluator) synRecv(r *Result, k *tuple, idx int32, flags Flags) {
	ev := &r.Event
	sk := &e.slab[idx]
	saw := sk.hasTS && ev.HasTS
	paws := saw && e.pawsReject(sk.tsRecent, e.nowS, ev.TSval, flags&FlagRST != 0)
	tsecr := false
	if e.p.TSEcrCheck && saw && ev.HasTSecr && ev.TSecr != 0 {
		first, last := e.serverTSval(sk.entry), e.serverTSval(e.lastSynAck(sk))
		tsecr = int32(ev.TSecr-first) < 0 || int32(last-ev.TSecr) < 0
		r.cached, r.stamp = first, int64(last)
	}
	if paws || tsecr {
		limited := flags&FlagRST == 0 && e.oowLimited(r, sk, TCPACKSkippedSynRecv)
		if paws {
			e.inc(r, PAWSEstab)
			r.Reason, r.note = ReasonPAWSEstab, noteReqPAWS
			r.cached = sk.tsRecent
		} else {
			e.inc(r, TSEcrRejected)
			r.Reason, r.note = ReasonTSecr, noteTSecr
		}
		r.Outcome = OutcomeACK
		if limited || flags&FlagRST != 0 {
			r.Outcome = OutcomeDrop
		}
		return
	}
	if flags&(FlagRST|FlagSYN) != 0 {
		e.inc(r, AttemptFails)
		e.inc(r, EmbryonicRsts)
		e.dropRequest(idx)
		r.Outcome, r.note = OutcomeNone, noteRequestReset
		if flags&FlagRST == 0 {
			r.Outcome = OutcomeRST
		}
		return
	}
	if flags&FlagACK == 0 {
		r.Outcome, r.note = OutcomeDrop, noteNoState
		return
	}
	c := sock{hasTS: sk.hasTS, tsRecent: sk.tsRecent, tsStamp: e.nowS, rcvKnown: sk.rcvKnown, rcvNxt: sk.rcvNxt + 1}
	if saw && int32(ev.TSval-c.tsRecent) > 0 {
		c.tsRecent = ev.TSval
	}
	if e.acceptq > e.backlog {
		e.child(r, k, sk.hash, c, false)
		if e.s.TCPAbortOnOverflow == 0 {
			sk.acked = true
			r.Outcome, r.note = OutcomeDrop, noteAcceptqAck
			return
		}
		e.inc(r, EmbryonicRsts)
		e.dropRequest(idx)
		r.Outcome, r.note = OutcomeRST, noteAcceptqAckAbort
		return
	}
	h := sk.hash
	e.dropRequest(idx)
	e.child(r, k, h, c, false)
}

// lastSynAck is when the last SYN-ACK of the request sk was sent: by the
// timer or in answer to a retransmitted SYN.
func (e *Evaluator) lastSynAck(sk *sock) Time {
	last := sk.entry
	for i := 0; i < e.rtxCount; i++ {
		at := sk.entry.Add(e.rtxSched[i])
		if at > e.now {
			break
		}
		last = at
	}
	return max(last, sk.rtxAt())
}

// established is tcp_validate_incoming and the in-order receive path for
// the connection at idx.
func (e *Evaluator) established(r *Result, idx int32, flags Flags) {
	ev := &r.Event
	c := &e.slab[idx]
	r.cached, r.stamp = c.tsRecent, c.tsStamp
	if flags&FlagSYN != 0 {
		if !e.p.ChallengeACK {
			e.inc(r, TCPAbortOnSyn)
			e.release(idx)
			r.Outcome, r.note = OutcomeNone, noteEstabAbort
			return
		}
		e.inc(r, TCPSYNChallenge)
		e.inc(r, TCPChallengeACK)
		r.Outcome, r.note = OutcomeACK, noteEstabChallenge
		return
	}
	seq := c.rcvNxt
	if ev.HasSeq {
		seq = ev.Seq
	}
	rst := flags&FlagRST != 0
	if ev.HasTS && c.hasTS && !rst {
		ok := int32(c.tsRecent-ev.TSval) <= 1 ||
			int32(uint32(e.nowS)-uint32(c.tsStamp+int64(e.p.PAWSIdle/time.Second))) >= 0 ||
			e.p.PAWSZeroExempt && c.tsRecent == 0
		if !ok {
			pureAck := flags&FlagACK != 0 && flags&(FlagFIN|FlagSYN) == 0 && ev.Len == 0
			r.Reason = ReasonPAWSEstab
			if e.p.PAWSOldAck && pureAck && c.rcvKnown && int32(seq-c.rcvNxt) < 0 {
				e.inc(r, PAWSOldAck)
				r.Outcome, r.note = OutcomeDrop, noteEstabOldAck
				return
			}
			e.inc(r, PAWSEstab)
			if e.oowLimited(r, c, TCPACKSkippedPAWS) {
				r.Outcome, r.note = OutcomeDrop, noteEstabPAWSLimited
			} else {
				r.Outcome, r.note = OutcomeACK, noteEstabPAWS
			}
			return
		}
	}
	if rst {
		e.release(idx)
		r.Outcome, r.note = OutcomeNone, noteConnReset
		return
	}
	if !c.rcvKnown || seq == c.rcvNxt {
		if ev.HasTS && c.hasTS && int32(ev.TSval-c.tsRecent) >= 0 {
			c.tsRecent, c.tsStamp = ev.TSval, e.nowS
		}
		if c.rcvKnown {
			c.rcvNxt += ev.Len
			if flags&FlagFIN != 0 {
				c.rcvNxt++
			}
		}
	}
	r.Outcome, r.note = OutcomeAccept, noteEstabAccept
}

func isLoopback(a netip.AddrPort) bool { return a.Addr().Unmap().IsLoopback() }

// connect is tcp_twsk_unique for connect() against this host's own
// TIME_WAIT socket.
func (e *Evaluator) connect(r *Result) {
	ev := &r.Event
	k := tupleOf(ev.Src, ev.Dst)
	idx, ok := e.sockOf(&k, hashTuple(&k, e.seed))
	if !ok || e.slab[idx].kind != sockTW {
		r.Outcome, r.note = OutcomeAccept, noteConnectNoTW
		return
	}
	tw := &e.slab[idx]
	r.cached, r.stamp = tw.tsRecent, tw.tsStamp
	allowed := false
	if tw.hasTS {
		if ev.Bound {
			allowed = true
		} else {
			reuse := e.s.TCPTwReuse
			if e.p.TWReuseSkipFinWait2 && tw.finWait2 {
				reuse = 0
			}
			if reuse == 2 && !(isLoopback(ev.Src) || isLoopback(ev.Dst)) {
				reuse = 0
			}
			if reuse != 0 {
				switch e.p.TWReuse {
				case TWReuseAfter1s:
					allowed = e.nowS-tw.tsStamp > 1
				case TWReuseAfter0s:
					allowed = int32(uint32(e.nowS)-uint32(tw.tsStamp)) > 0
				default:
					thresh := tw.entry.Milliseconds() + int64(e.s.TCPTwReuseDelay)
					allowed = int32(uint32(e.now.Milliseconds())-uint32(thresh)) > 0
				}
			}
		}
	}
	if !allowed {
		r.Outcome, r.note = OutcomeRefuse, noteConnectRefused
		return
	}
	e.release(idx)
	e.inc(r, TWRecycled)
	r.Outcome, r.note = OutcomeAccept, noteConnectReuse
}
