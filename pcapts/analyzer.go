package pcapts

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/paws-go/paws"
)

// Outcome is the server's observed reaction to one SYN.
type Outcome uint8

// Reactions to a SYN.
const (
	// OutcomeUnanswered: nothing came back before the next SYN of the same
	// 4-tuple, or before the end of the capture.
	OutcomeUnanswered Outcome = iota
	// OutcomeAnswered: a SYN-ACK acknowledging the SYN (a normal one or a
	// SYN cookie).
	OutcomeAnswered
	// OutcomeACK: a bare ACK not acknowledging the SYN: the server holds
	// the 4-tuple in TIME_WAIT (or ESTABLISHED) and rejected the SYN.
	OutcomeACK
	// OutcomeRST: a reset.
	OutcomeRST
)

var outcomeNames = [...]string{"unanswered", "answered", "ack", "rst"}

// String returns "unanswered", "answered", "ack" or "rst".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Default caps of an Analyzer.
const (
	DefaultMaxFlows  = 1 << 20
	DefaultMaxAddrs  = 1 << 16
	DefaultMaxClocks = 64
)

// Config sets the caps and hooks of an Analyzer. The zero value uses the
// defaults.
type Config struct {
	// MaxFlows caps the connections tracked at once (default
	// DefaultMaxFlows). When it is reached, the least recently seen half
	// of the flows is dropped and counted in Report.EvictedFlows; a pending
	// SYN of a dropped flow is reported unanswered.
	MaxFlows int
	// MaxAddrs caps the client addresses tracked (default
	// DefaultMaxAddrs). SYNs from further addresses are counted in
	// Report.UntrackedSYNs only.
	MaxAddrs int
	// MaxClocks caps the clocks kept per address (default
	// DefaultMaxClocks). When it is reached, the least recently used clock
	// is folded into counters (Host.EvictedClocks) and its detail dropped.
	MaxClocks int
	// RegressionWindow is how recent the previous SYN of an address must
	// be for an older TSval to count as a regression (default 60 s, the
	// kernel's TCP_PAWS_MSL).
	RegressionWindow time.Duration
	// FlowIdleTimeout drops a flow that has seen no segment for this long
	// in capture time (default 5 minutes); a pending SYN of such a flow is
	// reported unanswered. Flows are also dropped as soon as both sides
	// have sent a FIN, or a reset ends an established connection, so
	// memory follows the open connections, not the capture's length.
	FlowIdleTimeout time.Duration
	// OnSYN, when set, is called for every client SYN once its outcome is
	// known (the answer arrived, the next SYN of the flow arrived, the flow
	// was evicted, or Flush was called). Calls are synchronous, from Add or
	// Flush, in the order the outcomes become known.
	OnSYN func(SYN)
	// Evaluator, when set, is fed the capture's events in order (SYNs,
	// third ACKs, accept() inferred from the server's first payload or
	// FIN, the first FIN of each side, client resets) and each SYN's
	// Explanation holds its prediction and the cause of its outcome. The
	// evaluator must model the capture's server: its listener address,
	// kernel profile and settings.
	Evaluator *paws.Evaluator
}

// SYN is one client SYN and the server's reaction to it.
type SYN struct {
	Time time.Time
	// Flow runs from the client to the server.
	Flow         Flow
	Seq          uint32
	TSval        uint32
	HasTimestamp bool
	// Retransmission reports a SYN with the same 4-tuple and sequence
	// number as the one before it.
	Retransmission bool
	Observed       Outcome
	// AnswerTime is when the answer was captured; zero when unanswered.
	AnswerTime time.Time
	// Explanation is the prediction for the SYN when the Analyzer was
	// made with an explainer; the zero value otherwise.
	Explanation Explanation
}

// side says which side closed a connection first.
type side uint8

// Sides of a connection.
const (
	closerNone side = iota
	closerClient
	closerServer
)

type flowState struct {
	flow     Flow // client → server
	host     int32
	clockID  uint32 // 0: no clock
	isn      uint32
	synT     int64
	synTS    uint32
	synHasTS bool
	retrans  bool
	pending  bool
	answered bool // a SYN-ACK was seen
	estab    bool // third ACK seen
	closer   side
	rst      bool
	lastTS   uint32 // last client TSval (ts_recent)
	lastTST  int64
	hasTS    bool
	lastSeen int64
	rcvNxt   uint32 // next client sequence number
	accepted bool
	// closePending: the server sent the first FIN; its close is passed to
	// the evaluator when the client's FIN completes it (TIME_WAIT with the
	// client's FIN in rcv_nxt and ts_recent).
	closePending bool
	finClient    bool
	finServer    bool
	expl         Explanation
}

type hostState struct {
	addr          netip.Addr
	syns          int
	retrans       int
	answered      int
	ackAnswered   int
	rstAnswered   int
	unanswered    int
	pending       int
	regressions   int
	noTS          int
	lastSynTS     uint32
	lastSynT      int64
	haveLastSyn   bool
	clocks        []clockState
	nextClock     uint32
	retiredSingle int
	retiredMulti  int
	evictedClocks int
	tsFlows       int
}

// Analyzer builds per-address statistics and TSval clocks from the
// segments of a capture, fed in capture order with Add. It is synchronous
// and keeps memory proportional to the open flows and the addresses, up
// to the caps of Config.
type Analyzer struct {
	cfg          Config
	flows        map[Flow]int32
	fs           []flowState
	free         []int32
	hosts        map[netip.Addr]int32
	hs           []hostState
	start        int64
	end          int64
	segments     uint64
	untracked    uint64
	evictedFlows uint64
	expiredFlows uint64
	lastSweep    int64
	scratch      []int64
}

// NewAnalyzer returns an Analyzer with the given caps and hooks.
func NewAnalyzer(cfg Config) *Analyzer {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.MaxAddrs <= 0 {
		cfg.MaxAddrs = DefaultMaxAddrs
	}
	if cfg.MaxClocks <= 0 {
		cfg.MaxClocks = DefaultMaxClocks
	}
	if cfg.RegressionWindow <= 0 {
		cfg.RegressionWindow = 60 * time.Second
	}
	if cfg.FlowIdleTimeout <= 0 {
		cfg.FlowIdleTimeout = 5 * time.Minute
	}
	return &Analyzer{cfg: cfg, flows: make(map[Flow]int32), hosts: make(map[netip.Addr]int32)}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Add feeds one segment. Segments must come in capture order.
func (a *Analyzer) Add(s Segment) {
	t := unixNano(s.Time)
	if a.segments == 0 || t < a.start {
		a.start = t
	}
	if t > a.end {
		a.end = t
	}
	a.segments++
	if t-a.lastSweep > int64(a.cfg.FlowIdleTimeout)/4 {
		a.expire(t)
	}
	if s.Flags&(FlagSYN|FlagACK) == FlagSYN {
		a.syn(&s, t)
		return
	}
	if i, ok := a.flows[s.Flow]; ok {
		a.fromClient(&a.fs[i], &s, t)
		return
	}
	if i, ok := a.flows[s.Flow.Reverse()]; ok {
		a.fromServer(&a.fs[i], &s, t)
	}
}

func (a *Analyzer) host(addr netip.Addr) int32 {
	if i, ok := a.hosts[addr]; ok {
		return i
	}
	if len(a.hs) >= a.cfg.MaxAddrs {
		return -1
	}
	i := int32(len(a.hs))
	a.hs = append(a.hs, hostState{addr: addr})
	a.hosts[addr] = i
	return i
}

func (a *Analyzer) syn(s *Segment, t int64) {
	hi := a.host(s.Flow.Src.Addr())
	if hi < 0 {
		a.untracked++
		return
	}
	h := &a.hs[hi]
	fi, ok := a.flows[s.Flow]
	var f *flowState
	retrans := false
	if ok {
		f = &a.fs[fi]
		if f.pending {
			a.resolve(f, OutcomeUnanswered, 0)
		}
		if f.closePending {
			f.closePending = false
			a.explainClose(f, closerServer, t)
		}
		retrans = f.synT != 0 && f.isn == s.Seq
		if retrans {
			// The connection has not started: a reset or close seen
			// since the first SYN belonged to an older connection of
			// the 4-tuple (a TIME_WAIT's ACK answered by a RST).
			f.closer, f.rst, f.estab, f.answered, f.accepted = closerNone, false, false, false, false
		} else {
			*f = flowState{flow: s.Flow, host: hi}
		}
	} else {
		fi = a.newFlow(s.Flow, hi)
		f = &a.fs[fi]
	}
	h.syns++
	if retrans {
		h.retrans++
	}
	if s.HasTimestamp {
		if h.haveLastSyn && t-h.lastSynT <= int64(a.cfg.RegressionWindow) && int32(s.TSval-h.lastSynTS) < 0 {
			h.regressions++
		}
		h.lastSynTS, h.lastSynT, h.haveLastSyn = s.TSval, t, true
		a.sample(h, f, t, s.TSval, true)
	} else {
		h.noTS++
	}
	f.isn, f.synT, f.synTS, f.synHasTS = s.Seq, t, s.TSval, s.HasTimestamp
	f.retrans, f.pending, f.lastSeen = retrans, true, t
	h.pending++
	if s.HasTimestamp {
		f.lastTS, f.lastTST, f.hasTS = s.TSval, t, true
	}
	f.rcvNxt = s.Seq + 1
	if a.cfg.Evaluator != nil {
		f.expl = a.explainSYN(s, t)
	}
}

// sample assigns a TSval sample of flow f to one of h's clocks.
func (a *Analyzer) sample(h *hostState, f *flowState, t int64, v uint32, syn bool) {
	if f.clockID != 0 {
		for i := range h.clocks {
			c := &h.clocks[i]
			if c.id == f.clockID {
				if c.fits(t, v) {
					c.add(t, v)
					if syn {
						c.syns++
					}
				}
				return
			}
		}
		return // the clock was evicted
	}
	h.tsFlows++
	for i := range h.clocks {
		c := &h.clocks[i]
		if c.fits(t, v) {
			c.add(t, v)
			c.flows++
			if syn {
				c.syns++
			}
			f.clockID = c.id
			return
		}
	}
	if len(h.clocks) >= a.cfg.MaxClocks {
		lru := 0
		for i := range h.clocks {
			if h.clocks[i].lastUse < h.clocks[lru].lastUse {
				lru = i
			}
		}
		if h.clocks[lru].flows > 1 {
			h.retiredMulti++
		} else {
			h.retiredSingle++
		}
		h.evictedClocks++
		h.clocks = slices.Delete(h.clocks, lru, lru+1)
	}
	h.nextClock++
	c := newClock(h.nextClock, t, v)
	c.flows = 1
	if syn {
		c.syns = 1
	}
	h.clocks = append(h.clocks, c)
	f.clockID = c.id
}

func (a *Analyzer) newFlow(fl Flow, hi int32) int32 {
	if len(a.flows) >= a.cfg.MaxFlows {
		a.evict()
	}
	var i int32
	if n := len(a.free); n > 0 {
		i = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		a.fs = append(a.fs, flowState{})
		i = int32(len(a.fs) - 1)
	}
	a.fs[i] = flowState{flow: fl, host: hi}
	a.flows[fl] = i
	return i
}

// evict drops the least recently seen half of the flows.
func (a *Analyzer) evict() {
	a.scratch = a.scratch[:0]
	for _, i := range a.flows {
		a.scratch = append(a.scratch, a.fs[i].lastSeen)
	}
	slices.Sort(a.scratch)
	cut := a.scratch[len(a.scratch)/2]
	for fl, i := range a.flows {
		f := &a.fs[i]
		if f.lastSeen > cut {
			continue
		}
		if f.pending {
			a.resolve(f, OutcomeUnanswered, 0)
		}
		delete(a.flows, fl)
		a.free = append(a.free, i)
		a.evictedFlows++
	}
}

// expire drops the flows idle for FlowIdleTimeout at capture time t.
func (a *Analyzer) expire(t int64) {
	a.lastSweep = t
	cut := t - int64(a.cfg.FlowIdleTimeout)
	for fl, i := range a.flows {
		f := &a.fs[i]
		if f.lastSeen >= cut {
			continue
		}
		if f.pending {
			a.resolve(f, OutcomeUnanswered, 0)
		}
		delete(a.flows, fl)
		a.free = append(a.free, i)
		a.expiredFlows++
	}
}

// finish drops a connection that has ended.
func (a *Analyzer) finish(f *flowState) {
	if f.pending {
		return
	}
	i, ok := a.flows[f.flow]
	if !ok {
		return
	}
	delete(a.flows, f.flow)
	a.free = append(a.free, i)
}

func (a *Analyzer) resolve(f *flowState, o Outcome, at int64) {
	f.pending = false
	if f.host < 0 {
		return
	}
	h := &a.hs[f.host]
	h.pending--
	switch o {
	case OutcomeAnswered:
		h.answered++
	case OutcomeACK:
		h.ackAnswered++
	case OutcomeRST:
		h.rstAnswered++
	default:
		h.unanswered++
	}
	f.expl.Cause = cause(o, f.expl)
	if a.cfg.OnSYN != nil {
		s := SYN{Time: time.Unix(0, f.synT), Flow: f.flow, Seq: f.isn, TSval: f.synTS, HasTimestamp: f.synHasTS,
			Retransmission: f.retrans, Observed: o, Explanation: f.expl}
		if at != 0 {
			s.AnswerTime = time.Unix(0, at)
		}
		a.cfg.OnSYN(s)
	}
}

func (a *Analyzer) fromClient(f *flowState, s *Segment, t int64) {
	f.lastSeen = t
	if s.HasTimestamp && f.host >= 0 {
		if !f.hasTS || int32(s.TSval-f.lastTS) >= 0 {
			f.lastTS, f.lastTST, f.hasTS = s.TSval, t, true
		}
		a.sample(&a.hs[f.host], f, t, s.TSval, false)
	}
	if end := s.Seq + uint32(s.PayloadLen); int32(end-f.rcvNxt) > 0 {
		f.rcvNxt = end
	}
	ev := a.cfg.Evaluator != nil
	if s.Flags.Has(FlagRST) {
		if f.closer == closerNone {
			f.rst, f.closer = true, closerClient
		}
		f.closePending = false
		if ev {
			a.explainClientRST(f, s, t)
		}
		if f.estab {
			a.finish(f)
		}
		return
	}
	if f.answered && !f.estab && s.Flags.Has(FlagACK) && s.Seq == f.isn+1 {
		f.estab = true
		if ev {
			a.explainThirdACK(f, s, t)
		}
	}
	if s.Flags.Has(FlagFIN) {
		f.rcvNxt = s.Seq + uint32(s.PayloadLen) + 1
		switch {
		case f.closer == closerNone:
			f.closer = closerClient
			if ev {
				a.explainClose(f, closerClient, t)
			}
		case f.closePending:
			f.closePending = false
			a.explainClose(f, closerServer, t)
		}
		f.finClient = true
		if f.finServer {
			a.finish(f)
		}
	}
}

func (a *Analyzer) fromServer(f *flowState, s *Segment, t int64) {
	f.lastSeen = t
	if f.pending {
		switch {
		case s.Flags.Has(FlagRST):
			a.resolve(f, OutcomeRST, t)
			f.rst, f.closer = true, closerServer
			return
		case s.Flags.Has(FlagSYN|FlagACK) && s.Ack == f.isn+1:
			f.answered = true
			a.resolve(f, OutcomeAnswered, t)
			return
		case s.Flags&(FlagSYN|FlagACK) == FlagACK && s.Ack != f.isn+1:
			a.resolve(f, OutcomeACK, t)
			return
		}
	}
	ev := a.cfg.Evaluator != nil
	if ev && (s.PayloadLen > 0 || s.Flags.Has(FlagFIN)) {
		a.explainAccept(f, t)
	}
	switch {
	case s.Flags.Has(FlagRST):
		if f.closer == closerNone {
			f.rst, f.closer = true, closerServer
		}
		if f.estab {
			f.closePending = false
			a.finish(f)
		}
	case s.Flags.Has(FlagFIN):
		if f.closer == closerNone {
			f.closer = closerServer
			f.closePending = ev
		}
		f.finServer = true
		if f.finClient {
			a.finish(f)
		}
	}
}

// Flush reports every SYN still waiting for an answer as unanswered (through
// Config.OnSYN). Call it at the end of the capture.
func (a *Analyzer) Flush() {
	// Resolve in SYN time order, so that OnSYN sees a stable order.
	var pend []int32
	for _, i := range a.flows {
		if a.fs[i].pending {
			pend = append(pend, i)
		}
	}
	slices.SortFunc(pend, func(x, y int32) int { return cmp.Compare(a.fs[x].synT, a.fs[y].synT) })
	for _, i := range pend {
		a.resolve(&a.fs[i], OutcomeUnanswered, 0)
	}
}

// Report is the state of an Analyzer.
type Report struct {
	// Start and End are the first and last segment times.
	Start, End time.Time
	// Segments is the number of segments fed.
	Segments uint64
	// Hosts has one entry per client address (an address that sent a SYN),
	// ordered by address.
	Hosts []Host
	// OpenFlows is the number of flows tracked now.
	OpenFlows int
	// EvictedFlows counts flows dropped at the MaxFlows cap, ExpiredFlows
	// those dropped after FlowIdleTimeout.
	EvictedFlows, ExpiredFlows uint64
	// UntrackedSYNs counts SYNs from addresses beyond the MaxAddrs cap.
	UntrackedSYNs uint64
}

// Host is what one client address did.
type Host struct {
	Addr netip.Addr
	// SYNs counts SYNs, retransmissions included; Retransmissions those
	// with the 4-tuple and sequence number of the SYN before.
	SYNs, Retransmissions int
	// Answered, ACKAnswered, RSTAnswered and Unanswered split SYNs by the
	// server's reaction (see Outcome). SYNs still waiting for an answer
	// count as unanswered.
	Answered, ACKAnswered, RSTAnswered, Unanswered int
	// TSRegressions counts SYNs whose TSval is older, in wrap-around
	// terms, than that of the address's previous SYN within the
	// regression window.
	TSRegressions int
	// NoTimestampSYNs counts SYNs without a timestamp option.
	NoTimestampSYNs int
	// Regime classifies the TSvals; see Regime.
	Regime Regime
	// ClockCount is the number of distinct TSval clocks found, evicted
	// ones included.
	ClockCount int
	// PerConnectionClocks is how many of them were followed by a single
	// connection.
	PerConnectionClocks int
	// MinHosts is the number of hosts the TSvals prove to be behind the
	// address: one per clock followed by several connections (or per clock
	// when there is no sign of per-connection offsets), plus one for
	// per-connection senders and one for SYNs without timestamps.
	MinHosts int
	// Clocks are the clocks kept, ordered by first sample.
	Clocks []Clock
	// EvictedClocks counts clocks dropped at the MaxClocks cap.
	EvictedClocks int
}

// perConnMin is the number of single-connection clocks from which an
// address is taken to have per-connection offsets: one or two such clocks
// are as likely to be hosts that connected once.
const perConnMin = 3

// Report returns the statistics so far. It does not change the Analyzer.
func (a *Analyzer) Report() Report {
	r := Report{Segments: a.segments, OpenFlows: len(a.flows), EvictedFlows: a.evictedFlows, ExpiredFlows: a.expiredFlows, UntrackedSYNs: a.untracked}
	if a.segments > 0 {
		r.Start, r.End = time.Unix(0, a.start), time.Unix(0, a.end)
	}
	for i := range a.hs {
		r.Hosts = append(r.Hosts, a.hs[i].export(a.start))
	}
	slices.SortFunc(r.Hosts, func(x, y Host) int { return x.Addr.Compare(y.Addr) })
	return r
}

func (h *hostState) export(ref int64) Host {
	out := Host{
		Addr: h.addr, SYNs: h.syns, Retransmissions: h.retrans, Answered: h.answered,
		ACKAnswered: h.ackAnswered, RSTAnswered: h.rstAnswered, Unanswered: h.unanswered + h.pending,
		TSRegressions: h.regressions, NoTimestampSYNs: h.noTS, EvictedClocks: h.evictedClocks,
	}
	multi, single := h.retiredMulti, h.retiredSingle
	for i := range h.clocks {
		if h.clocks[i].flows > 1 {
			multi++
		} else {
			single++
		}
		out.Clocks = append(out.Clocks, h.clocks[i].export(ref))
	}
	slices.SortFunc(out.Clocks, func(x, y Clock) int { return x.First.Compare(y.First) })
	out.ClockCount = multi + single
	out.PerConnectionClocks = single
	perConn := single >= perConnMin
	ts := multi+single > 0
	switch {
	case !ts && h.noTS > 0:
		out.Regime, out.MinHosts = RegimeNoTimestamps, 1
	case !ts:
		out.Regime = RegimeUnknown
	case perConn && multi == 0 && h.noTS == 0:
		out.Regime, out.MinHosts = RegimePerConnection, 1
	case perConn:
		out.Regime, out.MinHosts = RegimeMixed, multi+1
	case multi == 0 && single == 2 && h.noTS == 0:
		out.Regime, out.MinHosts = RegimeUnknown, 1
	default:
		out.MinHosts = multi + single
		switch {
		case h.noTS > 0:
			out.Regime = RegimeMixed
		case out.MinHosts == 1:
			out.Regime = RegimeSingleClock
		default:
			out.Regime = RegimeMultipleClocks
		}
	}
	if ts && h.noTS > 0 {
		out.MinHosts++
	}
	return out
}
