package capgen

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Format selects the container written.
type Format uint8

// Container formats.
const (
	PcapMicro Format = iota // pcap, microsecond time stamps
	PcapNano                // pcap, nanosecond time stamps
	PcapNG                  // pcapng
)

// Kind is the kind of client behind an address.
type Kind uint8

// Kinds of client address.
const (
	// Single is one host whose TSvals follow one clock (per-host offset).
	Single Kind = iota
	// NAT hides 2 to 8 hosts, each with its own clock, rate and offset.
	NAT
	// PerConnection is one host with a fresh TSval offset per connection
	// (Linux 4.10.0, 7.0, 6.12.94 and later stable kernels).
	PerConnection
	// NoTimestamps is one host that sends no timestamp option.
	NoTimestamps
	// Mixed hides per-host clocks, a per-connection sender and a host
	// without timestamps behind one address.
	Mixed
	numKinds
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Single:
		return "single"
	case NAT:
		return "nat"
	case PerConnection:
		return "per-connection"
	case NoTimestamps:
		return "no-timestamps"
	case Mixed:
		return "mixed"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Regime returns the regime an analyser should report for the kind, as
// named by package pcapts.
func (k Kind) Regime() string {
	switch k {
	case Single:
		return "single-clock"
	case NAT:
		return "multiple-clocks"
	case PerConnection:
		return "per-connection-offsets"
	case NoTimestamps:
		return "no-timestamps"
	}
	return "mixed"
}

// rates are the TSval clock rates hosts are given, in Hz.
var rates = [...]float64{100, 250, 300, 1000}

// Config describes a capture. The zero value of each field selects the
// default given in its comment.
type Config struct {
	Seed uint64
	// Addresses is the number of client addresses (default 100).
	Addresses int
	// ConnsPerHost is the number of connections each host makes (default 6,
	// at least 3 so that every clock spans several connections).
	ConnsPerHost int
	// Duration is the time span over which connections start (default 120 s).
	Duration time.Duration
	// Packets, when non-zero, makes the capture exactly this many packets
	// long: connections keep coming at the same rate until it is reached.
	Packets int
	// Kinds, when not nil, gives the kind of each address in turn
	// (cycled); otherwise kinds are drawn with weights single 35 %, NAT
	// 30 %, per-connection 15 %, no-timestamps 15 %, mixed 5 %.
	Kinds  []Kind
	Format Format
	// BigEndian writes pcap records or pcapng sections big-endian.
	BigEndian bool
	// Interfaces is the number of pcapng interfaces (default 1): interface
	// i uses link type Ethernet, Linux SLL2, raw IP, Linux SLL in turn,
	// with microsecond, nanosecond, 2^-20 s and 10^-4 s resolutions in
	// turn; interface 2 also has an if_tsoffset of 1 s.
	Interfaces int
	// Sections starts a new pcapng section (alternating byte order) after
	// every Packets/Sections packets; 0 or 1 writes one section.
	Sections int
	// VLAN tags every Ethernet frame with an 802.1Q header.
	VLAN bool
	// Snaplen cuts every packet (default 128).
	Snaplen int
	// IPv6Share is the fraction of addresses that are IPv6.
	IPv6Share float64
	// Start is the capture time of the first connection (default
	// 2024-01-02 03:04:05 UTC).
	Start time.Time
}

// Addr is the ground truth for one client address.
type Addr struct {
	Kind Kind
	// Hosts is the number of distinct hosts behind the address.
	Hosts int
	// Clocks is the number of per-host TSval clocks (hosts that send
	// timestamps with a per-host offset).
	Clocks int
	// SYNs counts every SYN written, retransmissions included.
	SYNs, Retransmissions int
	// Answered, ACKAnswered, RSTAnswered and Unanswered split the SYNs by
	// the server's reaction to each.
	Answered, ACKAnswered, RSTAnswered, Unanswered int
}

// Truth is the ground truth of a generated capture.
type Truth struct {
	Addrs   map[netip.Addr]*Addr
	Server4 netip.Addr
	Server6 netip.Addr
	// Packets is the number of packets written.
	Packets int
	// Start and End are the times of the first and last packet.
	Start, End time.Time
}

type host struct {
	rate    float64 // Hz; 0 for no timestamps
	offset  uint32
	drift   float64 // relative rate error
	perConn bool
	rtt     time.Duration
}

type address struct {
	addr  netip.Addr
	kind  Kind
	hosts []host
	port  uint16
	truth *Addr
}

// synOutcome is what the server does with a connection's SYNs.
type synOutcome uint8

const (
	outNormal     synOutcome = iota
	outRetransmit            // first SYN lost, second answered
	outUnanswered            // three SYNs, none answered
	outTimeWait              // first SYN answered by a bare ACK, client RST, second answered
	outReset                 // answered by RST
)

// pkt is one packet waiting in the time-ordered queue.
type pkt struct {
	t        int64 // ns since the capture start
	order    uint64
	src, dst netip.AddrPort
	flags    uint8
	seq, ack uint32
	tsval    uint32
	tsecr    uint32
	hasTS    bool
	syn      bool // carries SYN options
	payload  int
	truth    *Addr
	out      synOutcome // for SYNs: the server's reaction to this SYN
	retrans  bool
}

type pktHeap []pkt

func (h pktHeap) Len() int { return len(h) }
func (h pktHeap) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].order < h[j].order
}
func (h pktHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)   { *h = append(*h, x.(pkt)) }
func (h *pktHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Write generates the capture described by cfg into w and returns its
// ground truth.
func Write(w io.Writer, cfg Config) (*Truth, error) {
	g, err := newGen(w, cfg)
	if err != nil {
		return nil, err
	}
	return g.run()
}

type gen struct {
	cfg          Config
	rng          *rand.Rand
	bw           *bufio.Writer
	addrs        []*address
	server       [2]netip.Addr
	q            pktHeap
	order        uint64
	truth        *Truth
	buf          []byte
	rec          []byte
	be           bool
	sectionEvery int
	written      int
}

func newGen(w io.Writer, cfg Config) (*gen, error) {
	if cfg.Addresses == 0 {
		cfg.Addresses = 100
	}
	if cfg.ConnsPerHost == 0 {
		cfg.ConnsPerHost = 6
	}
	if cfg.Duration == 0 {
		cfg.Duration = 120 * time.Second
	}
	if cfg.Interfaces == 0 {
		cfg.Interfaces = 1
	}
	if cfg.Snaplen == 0 {
		cfg.Snaplen = 128
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	switch {
	case cfg.Addresses < 0, cfg.ConnsPerHost < 3, cfg.Duration < 0, cfg.Packets < 0,
		cfg.Interfaces < 1, cfg.Interfaces > 16, cfg.Snaplen < 54, cfg.Snaplen > 65535,
		cfg.IPv6Share < 0, cfg.IPv6Share > 1, cfg.Sections < 0:
		return nil, errors.New("capgen: config out of range")
	case cfg.Format > PcapNG:
		return nil, fmt.Errorf("capgen: unknown format %d", cfg.Format)
	}
	g := &gen{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		bw:     bufio.NewWriterSize(w, 1<<20),
		server: [2]netip.Addr{netip.MustParseAddr("10.210.0.1"), netip.MustParseAddr("fd00:210::1")},
		buf:    make([]byte, 0, 2048),
		be:     cfg.BigEndian,
	}
	g.truth = &Truth{Addrs: make(map[netip.Addr]*Addr), Server4: g.server[0], Server6: g.server[1]}
	if cfg.Sections > 1 && cfg.Packets > 0 {
		g.sectionEvery = (cfg.Packets + cfg.Sections - 1) / cfg.Sections
	}
	for i := range cfg.Addresses {
		g.addrs = append(g.addrs, g.newAddress(i))
	}
	return g, nil
}

func (g *gen) kind(i int) Kind {
	if g.cfg.Kinds != nil {
		return g.cfg.Kinds[i%len(g.cfg.Kinds)]
	}
	x := g.rng.IntN(100)
	switch {
	case x < 35:
		return Single
	case x < 65:
		return NAT
	case x < 80:
		return PerConnection
	case x < 95:
		return NoTimestamps
	}
	return Mixed
}

func (g *gen) perHostClock() host {
	return host{
		rate:   rates[g.rng.IntN(len(rates))],
		offset: g.rng.Uint32(),
		drift:  (g.rng.Float64()*2 - 1) * 50e-6,
	}
}

func (g *gen) newAddress(i int) *address {
	a := &address{kind: g.kind(i), port: uint16(1024 + g.rng.IntN(60000))}
	if g.rng.Float64() < g.cfg.IPv6Share {
		a.addr = netip.AddrFrom16([16]byte{0xfd, 0, 0x02, 0x20, 14: byte(i >> 8), 15: byte(i)})
	} else {
		a.addr = netip.AddrFrom4([4]byte{10, 220 + byte(i>>16), byte(i >> 8), byte(i)})
	}
	t := &Addr{Kind: a.kind}
	switch a.kind {
	case Single:
		a.hosts = []host{g.perHostClock()}
		t.Clocks = 1
	case NAT:
		for range 2 + g.rng.IntN(7) {
			a.hosts = append(a.hosts, g.perHostClock())
		}
		t.Clocks = len(a.hosts)
	case PerConnection:
		a.hosts = []host{{rate: 1000, perConn: true}}
	case NoTimestamps:
		a.hosts = []host{{}}
	case Mixed:
		a.hosts = []host{g.perHostClock(), g.perHostClock(), {rate: 1000, perConn: true}, {}}
		t.Clocks = 2
	}
	for j := range a.hosts {
		a.hosts[j].rtt = time.Duration(200+g.rng.IntN(40000)) * time.Microsecond
	}
	t.Hosts = len(a.hosts)
	a.truth = t
	g.truth.Addrs[a.addr] = t
	return a
}

func (g *gen) run() (*Truth, error) {
	if err := g.fileHeader(); err != nil {
		return nil, err
	}
	totalHosts := 0
	for _, a := range g.addrs {
		totalHosts += len(a.hosts)
	}
	conns := totalHosts * g.cfg.ConnsPerHost
	gap := float64(g.cfg.Duration) / float64(max(conns, 1))
	// Each host makes ConnsPerHost connections; the schedule is a list of
	// (address, host) pairs in random order, repeated while Packets asks
	// for more.
	type slot struct{ a, h int }
	sched := make([]slot, 0, conns)
	for i, a := range g.addrs {
		for h := range a.hosts {
			for range g.cfg.ConnsPerHost {
				sched = append(sched, slot{i, h})
			}
		}
	}
	var now float64
	for round := 0; ; round++ {
		g.rng.Shuffle(len(sched), func(i, j int) { sched[i], sched[j] = sched[j], sched[i] })
		for _, s := range sched {
			now += g.rng.ExpFloat64() * gap
			t := int64(now)
			if err := g.flush(t); err != nil {
				return nil, err
			}
			if g.cfg.Packets > 0 && g.written >= g.cfg.Packets {
				return g.finish()
			}
			g.connection(g.addrs[s.a], s.h, t)
		}
		if g.cfg.Packets == 0 || len(sched) == 0 {
			break
		}
	}
	if err := g.flush(math.MaxInt64); err != nil {
		return nil, err
	}
	return g.finish()
}

func (g *gen) finish() (*Truth, error) {
	g.truth.Packets = g.written
	if err := g.bw.Flush(); err != nil {
		return nil, fmt.Errorf("capgen: %w", err)
	}
	return g.truth, nil
}

func (g *gen) push(p pkt) {
	g.order++
	p.order = g.order
	heap.Push(&g.q, p)
}

// flush writes every queued packet earlier than t.
func (g *gen) flush(t int64) error {
	for len(g.q) > 0 && g.q[0].t < t {
		if g.cfg.Packets > 0 && g.written >= g.cfg.Packets {
			return nil
		}
		p := heap.Pop(&g.q).(pkt)
		if err := g.write(&p); err != nil {
			return err
		}
	}
	return nil
}

// tsval returns host h's TSval at capture time t (ns), for connection
// offset off.
func (h *host) tsval(t int64, off uint32) uint32 {
	ticks := float64(t) / 1e9 * h.rate * (1 + h.drift)
	return h.offset + off + uint32(int64(ticks))
}

// connection queues the packets of one connection from host hi of a,
// starting at t.
func (g *gen) connection(a *address, hi int, t int64) {
	h := &a.hosts[hi]
	a.port += uint16(1 + g.rng.IntN(7))
	if a.port < 1024 {
		a.port += 1024
	}
	srv := g.server[0]
	if a.addr.Is6() {
		srv = g.server[1]
	}
	c := netip.AddrPortFrom(a.addr, a.port)
	s := netip.AddrPortFrom(srv, 8080)
	var off uint32
	if h.perConn {
		off = g.rng.Uint32()
	}
	hasTS := h.rate != 0
	ts := func(t int64) uint32 {
		if !hasTS {
			return 0
		}
		return h.tsval(t, off)
	}
	var out synOutcome
	switch x := g.rng.IntN(100); {
	case x < 82:
		out = outNormal
	case x < 88:
		out = outRetransmit
	case x < 93:
		out = outUnanswered
	case x < 97:
		out = outTimeWait
	default:
		out = outReset
	}
	isn, sisn := g.rng.Uint32(), g.rng.Uint32()
	srvTS := uint32(t/1e6) + 0x40000000
	rtt := int64(h.rtt)
	half := rtt / 2
	syn := func(t int64, o synOutcome, retrans bool) {
		g.push(pkt{t: t, src: c, dst: s, flags: 0x02, seq: isn, tsval: ts(t), hasTS: hasTS, syn: true, truth: a.truth, out: o, retrans: retrans})
	}
	switch out {
	case outUnanswered:
		syn(t, outUnanswered, false)
		syn(t+1e9, outUnanswered, true)
		syn(t+3e9, outUnanswered, true)
		return
	case outReset:
		syn(t, outReset, false)
		g.push(pkt{t: t + half, src: s, dst: c, flags: 0x14, ack: isn + 1})
		return
	case outRetransmit:
		syn(t, outUnanswered, false)
		t += 1e9
		syn(t, outNormal, true)
	case outTimeWait:
		syn(t, outTimeWait, false)
		g.push(pkt{t: t + half, src: s, dst: c, flags: 0x10, seq: g.rng.Uint32(), ack: g.rng.Uint32(), tsval: srvTS, tsecr: g.rng.Uint32(), hasTS: hasTS})
		g.push(pkt{t: t + rtt, src: c, dst: s, flags: 0x04, seq: g.rng.Uint32()})
		t += 10e6 + rtt
		syn(t, outNormal, true)
	default:
		syn(t, outNormal, false)
	}
	t += half
	g.push(pkt{t: t, src: s, dst: c, flags: 0x12, seq: sisn, ack: isn + 1, tsval: srvTS, tsecr: ts(t - half), hasTS: hasTS, syn: true})
	t += half
	cseq, sseq := isn+1, sisn+1
	g.push(pkt{t: t, src: c, dst: s, flags: 0x10, seq: cseq, ack: sseq, tsval: ts(t), tsecr: srvTS, hasTS: hasTS})
	n := 1 + g.rng.IntN(3)
	for range n {
		t += int64(50e3 + g.rng.IntN(5e6))
		req := 20 + g.rng.IntN(1400)
		g.push(pkt{t: t, src: c, dst: s, flags: 0x18, seq: cseq, ack: sseq, tsval: ts(t), tsecr: srvTS, hasTS: hasTS, payload: req})
		cseq += uint32(req)
		t += half
		resp := 20 + g.rng.IntN(1400)
		g.push(pkt{t: t, src: s, dst: c, flags: 0x18, seq: sseq, ack: cseq, tsval: srvTS, tsecr: ts(t - half), hasTS: hasTS, payload: resp})
		sseq += uint32(resp)
		t += half
		g.push(pkt{t: t, src: c, dst: s, flags: 0x10, seq: cseq, ack: sseq, tsval: ts(t), tsecr: srvTS, hasTS: hasTS})
	}
	t += int64(g.rng.IntN(2e6))
	if g.rng.IntN(2) == 0 { // server closes first
		g.push(pkt{t: t, src: s, dst: c, flags: 0x11, seq: sseq, ack: cseq, tsval: srvTS, tsecr: ts(t), hasTS: hasTS})
		t += half
		g.push(pkt{t: t, src: c, dst: s, flags: 0x11, seq: cseq, ack: sseq + 1, tsval: ts(t), tsecr: srvTS, hasTS: hasTS})
		t += half
		g.push(pkt{t: t, src: s, dst: c, flags: 0x10, seq: sseq + 1, ack: cseq + 1, tsval: srvTS, tsecr: ts(t - half), hasTS: hasTS})
	} else {
		g.push(pkt{t: t, src: c, dst: s, flags: 0x11, seq: cseq, ack: sseq, tsval: ts(t), tsecr: srvTS, hasTS: hasTS})
		t += half
		g.push(pkt{t: t, src: s, dst: c, flags: 0x11, seq: sseq, ack: cseq + 1, tsval: srvTS, tsecr: ts(t - half), hasTS: hasTS})
		t += half
		g.push(pkt{t: t, src: c, dst: s, flags: 0x10, seq: cseq + 1, ack: sseq + 1, tsval: ts(t), tsecr: srvTS, hasTS: hasTS})
	}
}
