package paws

import (
	"fmt"
	"strconv"
	"time"
)

// Era is a generation of the kernel's listen path (tcp_v4_conn_request,
// later tcp_conn_request), which decides the order of the checks a SYN goes
// through.
type Era uint8

// The listen-path eras.
const (
	// EraInetPeer is 2.6.32 to 3.5 (and RHEL 6): the per-host cache is the
	// inet_peer of the remote address; ListenDrops does not count SYN drops
	// before 3.8.
	EraInetPeer Era = iota + 1
	// EraMetrics is 3.6 to 3.16: the per-host cache is tcp_metrics; a SYN
	// without a timestamp option skips the per-host check.
	EraMetrics
	// EraConnRequest is 3.17 to 4.11 (and RHEL 7 3.10.0-xxx): the shared
	// tcp_conn_request; a SYN without a timestamp option is dropped while
	// the per-host entry is fresh.
	EraConnRequest
	// EraNoRecycle is 4.12 and later: tcp_tw_recycle and the per-host check
	// are gone.
	EraNoRecycle
)

// String returns "E1" to "E4", or "Era(N)".
func (e Era) String() string {
	if e >= EraInetPeer && e <= EraNoRecycle {
		return "E" + strconv.Itoa(int(e))
	}
	return "Era(" + strconv.Itoa(int(e)) + ")"
}

// CacheKey is what the per-host timestamp cache is keyed by.
type CacheKey uint8

// Per-host cache keys.
const (
	CacheKeyNone        CacheKey = iota // no per-host cache (4.12+)
	CacheKeyRemote                      // the remote address only (≤ 3.14)
	CacheKeyLocalRemote                 // (local address, remote address) (3.15+)
)

// SynQueueRule is when the SYN queue (request sockets) counts as full.
type SynQueueRule uint8

// SYN-queue rules.
const (
	// SynQueuePow2 (≤ 4.3): full when qlen ≥ roundup_pow_of_two(max(8,
	// min(backlog, tcp_max_syn_backlog))+1).
	SynQueuePow2 SynQueueRule = iota
	// SynQueueBacklog (4.4 to 6.12): full when qlen ≥ the listen backlog.
	SynQueueBacklog
	// SynQueueBacklogStrict (6.13+ and some stable kernels): full when
	// qlen > the listen backlog.
	SynQueueBacklogStrict
)

// ProvenRule is what makes a peer "proven" for the last-quarter SYN-queue
// check (tcp_peer_is_proven without the PAWS part).
type ProvenRule uint8

// Proven-peer rules.
const (
	// ProvenNever (≤ 4.13): the route is not known when the check runs, so
	// no peer is ever proven.
	ProvenNever ProvenRule = iota
	// ProvenRTT (4.14+): a peer is proven when tcp_metrics holds an RTT for
	// (local, remote), written when an earlier connection closed.
	ProvenRTT
)

// TSOffset is how a sender offsets its TSval clock.
type TSOffset uint8

// TSval offset regimes of a Linux sender.
const (
	TSOffsetNone          TSOffset = iota // ≤ 4.9: TSval is the clock itself
	TSOffsetPerConnection                 // 4.10.0, 7.0+, 6.12.94+, 6.18.44+: per 4-tuple
	TSOffsetPerHostPair                   // 4.11 to 6.x: per (saddr, daddr)
)

// String returns "none", "per-4-tuple" or "per-host-pair".
func (o TSOffset) String() string {
	switch o {
	case TSOffsetNone:
		return "none"
	case TSOffsetPerConnection:
		return "per-4-tuple"
	case TSOffsetPerHostPair:
		return "per-host-pair"
	}
	return "TSOffset(" + strconv.Itoa(int(o)) + ")"
}

// TWReuseRule is when connect() may take over this host's own TIME_WAIT
// socket (tcp_twsk_unique) with tcp_tw_reuse on.
type TWReuseRule uint8

// tcp_tw_reuse rules.
const (
	// TWReuseAfter1s (≤ 4.18, RHEL 7): the peer's last timestamp is more
	// than 1 whole second old (now_s - ts_recent_stamp > 1).
	TWReuseAfter1s TWReuseRule = iota
	// TWReuseAfter0s (4.19 to 6.13): any later whole second
	// (time_after32(now_s, ts_recent_stamp)).
	TWReuseAfter0s
	// TWReuseDelay (6.14+): tcp_tw_reuse_delay milliseconds after the
	// socket entered TIME_WAIT.
	TWReuseDelay
)

// Profile is the set of kernel rules the Evaluator applies. ProfileFor
// derives it from a kernel release; every field may be changed afterwards
// to describe a vendor kernel with other backports.
type Profile struct {
	// Kernel is the release the profile was derived from.
	Kernel KernelVersion
	// Era is the listen-path generation.
	Era Era
	// HasTWRecycle reports whether net.ipv4.tcp_tw_recycle exists (≤ 4.11).
	HasTWRecycle bool
	// CacheKey is the key of the per-host timestamp cache.
	CacheKey CacheKey
	// PerHostIPv6 reports whether the per-host cache covers IPv6 peers
	// (not on vanilla 2.6.32 and RHEL 6).
	PerHostIPv6 bool
	// ListenCountersOnSYN reports whether SYN drops in the listen path
	// count ListenDrops (and ListenOverflows for a full accept queue):
	// 3.8 and later, and RHEL 7. The third-ACK overflow counts both in
	// every version.
	ListenCountersOnSYN bool
	// Counters is the set of counters this kernel has. Counters outside
	// the set never move.
	Counters CounterSet
	// SyncookiesAlways reports whether tcp_syncookies=2 (always send
	// cookies) is supported (3.12+, RHEL 7).
	SyncookiesAlways bool
	// SynQueue is the SYN-queue-full rule.
	SynQueue SynQueueRule
	// AcceptQueueYoung reports whether a SYN meeting a full accept queue
	// is dropped only when more than one young request is pending (≤ 4.9
	// without the 5ea8ea2cb7f1 backport).
	AcceptQueueYoung bool
	// Proven is the proven-peer rule of the last-quarter check.
	Proven ProvenRule
	// TimeoutInit is the first SYN-ACK retransmission timeout
	// (TCP_TIMEOUT_INIT): 3 s before 3.1, 1 s later. A request stops being
	// young when it fires.
	TimeoutInit time.Duration
	// HZ is CONFIG_HZ, the TSval clock rate up to 4.12.
	HZ int
	// TSClockHz is the TSval clock rate: HZ up to 4.12, 1000 from 4.13.
	TSClockHz int
	// TSOffset is the sender's TSval offset regime. The Evaluator reads
	// observed TSvals and does not use it; it tells a reader of a capture
	// whether distinct clocks behind one address mean distinct hosts.
	TSOffset TSOffset
	// TimeWaitPAWSCounter is the counter of a PAWS-rejected segment in
	// TIME_WAIT: PAWSEstab up to 6.15, PAWSTimewait from 6.16.
	TimeWaitPAWSCounter Counter
	// TSEcrCheck reports whether the third ACK's TSecr must lie within the
	// TSvals of the SYN-ACKs sent (6.15+).
	TSEcrCheck bool
	// PAWSOldAck reports whether an old pure ACK failing PAWS is dropped
	// silently and counted in PAWSOldAck (6.14+).
	PAWSOldAck bool
	// PAWSZeroExempt reports whether ts_recent == 0 passes PAWS (3.0+,
	// RHEL 6).
	PAWSZeroExempt bool
	// PAWSIdle is how long a ts_recent stays valid for PAWS: 24 days up to
	// 6.6, 2147 s (TCP_PAWS_WRAP) from 6.7.
	PAWSIdle time.Duration
	// OOWRateLimit reports whether ACKs answering out-of-window segments
	// are limited to one per tcp_invalid_ratelimit (4.0+, RHEL 7).
	OOWRateLimit bool
	// ChallengeACK reports whether a SYN on an established connection gets
	// a challenge ACK (3.6+, RHEL 6 and 7) rather than aborting it.
	ChallengeACK bool
	// TWCountOnEntry reports whether TW (or TWKilled for a TIME_WAIT
	// shorter than 4 s) counts sockets entering TIME_WAIT (4.1+) rather
	// than TIME_WAIT timers expiring.
	TWCountOnEntry bool
	// TWReuse is the tcp_tw_reuse rule of connect().
	TWReuse TWReuseRule
	// TWReuseLoopback reports whether tcp_tw_reuse=2 (loopback only)
	// exists (4.18+).
	TWReuseLoopback bool
	// TWReuseSkipFinWait2 reports whether a TIME_WAIT socket still in
	// substate FIN_WAIT2 is never reused (6.13+, 6.12.19+).
	TWReuseSkipFinWait2 bool
	// HasTWReuseDelay reports whether net.ipv4.tcp_tw_reuse_delay exists
	// (6.14+).
	HasTWReuseDelay bool
	// TimestampsMode2 reports whether tcp_timestamps=2 (no random offset)
	// exists (4.10+).
	TimestampsMode2 bool
	// DefaultSomaxconn is the default of net.core.somaxconn: 128, 4096
	// from 5.4.
	DefaultSomaxconn int
	// DefaultTWReuse is the default of net.ipv4.tcp_tw_reuse: 0, 2 from
	// 4.18.
	DefaultTWReuse int
	// DefaultSyncookies is the default of net.ipv4.tcp_syncookies: 0 on
	// vanilla 2.6.x, 1 later.
	DefaultSyncookies int
}

// ProfileFor returns the rules of kernel v, from the mainline version and
// the distribution backports it is known to carry (RHEL 6, RHEL 7). Stable
// backports are applied from the first sub-release in which they were
// confirmed: the strict SYN-queue rule in 6.12.19 and 6.1.158, the
// unconditional accept-queue rule in 4.9.229 and 3.16.81, per-4-tuple TSval
// offsets in 6.12.94 and 6.18.44 (measured on this 6.18.44 kernel).
func ProfileFor(v KernelVersion) Profile {
	at := v.AtLeast
	d := v.Distro()
	rhel6, rhel7 := d == DistroRHEL6, d == DistroRHEL7
	p := Profile{Kernel: v, HZ: 250, TimeoutInit: time.Second}

	switch {
	case rhel7:
		p.Era = EraConnRequest
	case rhel6, !at(3, 6, 0):
		p.Era = EraInetPeer
	case !at(3, 17, 0):
		p.Era = EraMetrics
	case !at(4, 12, 0):
		p.Era = EraConnRequest
	default:
		p.Era = EraNoRecycle
	}
	p.HasTWRecycle = p.Era != EraNoRecycle
	switch {
	case p.Era == EraNoRecycle:
		p.CacheKey = CacheKeyNone
	case p.Era == EraInetPeer, p.Era == EraMetrics && !at(3, 15, 0) && !rhel7:
		p.CacheKey = CacheKeyRemote
	default:
		p.CacheKey = CacheKeyLocalRemote
	}
	p.PerHostIPv6 = p.HasTWRecycle && at(3, 0, 0) && !rhel6
	p.ListenCountersOnSYN = at(3, 8, 0) && !rhel6 || rhel7

	p.Counters = CounterSet(0).With(PassiveOpens, AttemptFails, PAWSEstab, ListenOverflows,
		ListenDrops, SyncookiesSent, SyncookiesRecv, SyncookiesFailed, EmbryonicRsts, TW,
		TWRecycled, TWKilled, TCPAbortOnSyn)
	if p.HasTWRecycle {
		p.Counters = p.Counters.With(PAWSPassive)
	}
	if at(3, 0, 0) && !rhel6 {
		p.Counters = p.Counters.With(TCPTimeWaitOverflow)
	}
	if at(3, 2, 0) && !rhel6 {
		p.Counters = p.Counters.With(TCPReqQFullDrop, TCPReqQFullDoCookies)
	}
	p.ChallengeACK = at(3, 6, 0) || rhel6
	if p.ChallengeACK {
		p.Counters = p.Counters.With(TCPChallengeACK, TCPSYNChallenge)
	}
	p.OOWRateLimit = at(4, 0, 0) && !rhel6 || rhel7
	if p.OOWRateLimit {
		p.Counters = p.Counters.With(TCPACKSkippedSynRecv, TCPACKSkippedPAWS,
			TCPACKSkippedFinWait2, TCPACKSkippedTimeWait)
	}
	p.PAWSOldAck = at(6, 14, 0)
	p.TSEcrCheck = at(6, 15, 0)
	p.TimeWaitPAWSCounter = PAWSEstab
	if at(6, 16, 0) {
		p.TimeWaitPAWSCounter = PAWSTimewait
		p.Counters = p.Counters.With(PAWSTimewait)
	}
	if p.PAWSOldAck {
		p.Counters = p.Counters.With(PAWSOldAck)
	}
	if p.TSEcrCheck {
		p.Counters = p.Counters.With(TSEcrRejected)
	}

	p.SyncookiesAlways = at(3, 12, 0) && !rhel6 || rhel7
	stable := func(major, minor, patch int) bool {
		return v.Major == major && v.Minor == minor && v.Patch >= patch
	}
	switch {
	case !at(4, 4, 0) || rhel6 || rhel7:
		p.SynQueue = SynQueuePow2
	case at(6, 13, 0) || stable(6, 12, 19) || stable(6, 1, 158):
		p.SynQueue = SynQueueBacklogStrict
	default:
		p.SynQueue = SynQueueBacklog
	}
	p.AcceptQueueYoung = !at(4, 10, 0) && !stable(4, 9, 229) && !stable(3, 16, 81) || rhel7 || rhel6
	if at(4, 14, 0) && !rhel6 && !rhel7 {
		p.Proven = ProvenRTT
	}
	if !at(3, 1, 0) || rhel6 {
		p.TimeoutInit = 3 * time.Second
	}
	if rhel6 || rhel7 {
		p.HZ = 1000
	}
	p.TSClockHz = p.HZ
	if at(4, 13, 0) && !rhel6 && !rhel7 {
		p.TSClockHz = 1000
	}
	switch {
	case rhel6 || rhel7 || !at(4, 10, 0):
		p.TSOffset = TSOffsetNone
	case at(7, 0, 0) || stable(6, 12, 94) || stable(6, 18, 44) || v.Major == 4 && v.Minor == 10 && v.Patch == 0:
		p.TSOffset = TSOffsetPerConnection
	default:
		p.TSOffset = TSOffsetPerHostPair
	}
	p.PAWSZeroExempt = at(3, 0, 0) || rhel6
	p.PAWSIdle = 24 * 24 * time.Hour
	if at(6, 7, 0) {
		p.PAWSIdle = 2147 * time.Second
	}
	p.TWCountOnEntry = at(4, 1, 0) && !rhel6 && !rhel7
	switch {
	case at(6, 14, 0):
		p.TWReuse = TWReuseDelay
	case at(4, 19, 0) && !rhel6 && !rhel7:
		p.TWReuse = TWReuseAfter0s
	default:
		p.TWReuse = TWReuseAfter1s
	}
	p.TWReuseLoopback = at(4, 18, 0) && !rhel6 && !rhel7
	p.TWReuseSkipFinWait2 = at(6, 13, 0) || stable(6, 12, 19)
	p.HasTWReuseDelay = at(6, 14, 0)
	p.TimestampsMode2 = at(4, 10, 0) && !rhel6 && !rhel7
	p.DefaultSomaxconn = 128
	if at(5, 4, 0) {
		p.DefaultSomaxconn = 4096
	}
	if p.TWReuseLoopback {
		p.DefaultTWReuse = 2
	}
	p.DefaultSyncookies = 1
	if !at(3, 0, 0) && !rhel6 {
		p.DefaultSyncookies = 0
	}
	return p
}

// HasSysctl reports whether the kernel of p has the sysctl name (dotted,
// e.g. "net.ipv4.tcp_tw_recycle"). Names the Evaluator does not model are
// reported as absent.
func (p Profile) HasSysctl(name string) bool {
	switch name {
	case SysctlTCPTwRecycle:
		return p.HasTWRecycle
	case SysctlTCPTwReuseDelay:
		return p.HasTWReuseDelay
	case SysctlTCPInvalidRatelimit:
		return p.OOWRateLimit
	}
	_, ok := sysctlIndex(name)
	return ok
}

// String summarises the profile on one line.
func (p Profile) String() string {
	return fmt.Sprintf("%s: era %s, tw_recycle %t, synq rule %d, accept young %t, TS clock %d Hz, offsets %s, TIME_WAIT PAWS counter %s",
		p.Kernel, p.Era, p.HasTWRecycle, p.SynQueue, p.AcceptQueueYoung, p.TSClockHz, p.TSOffset, p.TimeWaitPAWSCounter)
}
