package paws

import (
	"net/netip"
	"strconv"
	"time"
)

// Severity is how urgent a Finding is.
type Severity uint8

// Severities, in increasing order.
const (
	SeverityInfo     Severity = iota + 1 // a trade-off worth knowing; nothing is dropped
	SeverityWarning                      // SYNs will be dropped under conditions that are common
	SeverityCritical                     // SYNs are being dropped now
)

// String returns "info", "warning", "critical", or "Severity(N)".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String, so a Severity is a JSON string.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Check names the rule that produced a Finding. Its value is stable and
// suitable as a label or a JSON field.
type Check string

// The checks Diagnose runs.
const (
	CheckPerHostPAWSRisk  Check = "per-host-paws-risk"  // tcp_tw_recycle and timestamps on
	CheckPerHostPAWSDrops Check = "per-host-paws-drops" // PAWSPassive rising
	CheckTimeWaitPAWS     Check = "timewait-paws"       // PAWSTimewait (or PAWSEstab before 6.16) rising
	CheckAcceptQueueFull  Check = "accept-queue-full"   // a listener's accept queue is full now
	CheckListenOverflows  Check = "listen-overflows"    // ListenOverflows rising
	CheckSynQueueDrops    Check = "syn-queue-drops"     // TCPReqQFullDrop rising
	CheckFDLimit          Check = "fd-limit"            // a listener's owner is at RLIMIT_NOFILE
	CheckTWReuse          Check = "tw-reuse"            // tcp_tw_reuse trade-off
	CheckTimestamps       Check = "timestamps"          // tcp_timestamps trade-off
	CheckUnprovenPeer     Check = "unproven-peer-drops" // ListenDrops beyond the counted causes, syncookies off
	CheckSynCookies       Check = "syn-cookies"         // TCPReqQFullDoCookies rising
	CheckBacklogClamped   Check = "backlog-clamped"     // a backlog cut down to a small net.core.somaxconn
)

// Finding is one conclusion of Diagnose: what is wrong or risky, the
// numbers that show it, what it means and what to change.
//
// Its JSON form is {"check", "severity", "listener", "evidence",
// "explanation", "remedy"}, with "listener" ("127.0.0.1:8080") left out
// for a host-wide finding.
type Finding struct {
	Check    Check    `json:"check"`
	Severity Severity `json:"severity"`
	// Listener is the listener the finding is about; the zero AddrPort
	// for a host-wide finding.
	Listener netip.AddrPort `json:"listener,omitzero"`
	// Evidence is the numbers behind the finding, e.g.
	// "PAWSPassive +12, ListenDrops +12 in 5s; net.ipv4.tcp_tw_recycle = 1".
	Evidence string `json:"evidence"`
	// Explanation says what happens to SYNs, in an operator's words.
	Explanation string `json:"explanation"`
	// Remedy says what to change.
	Remedy string `json:"remedy"`
}

// HostListener is a listening socket as Diagnose sees it.
type HostListener struct {
	Addr netip.AddrPort
	// AcceptQueue and Backlog are ss -ltn's Recv-Q and Send-Q: the
	// connections waiting for accept() and the effective backlog. The
	// queue is full when AcceptQueue > Backlog.
	AcceptQueue, Backlog uint32
	// Drops is how many SYNs and handshake ACKs the kernel dropped on
	// behalf of this listener over the Host's Interval: the rise of the
	// socket's sk_drops, its share of ListenDrops (a full accept queue, a
	// full SYN queue without cookies, per-host PAWS and the other
	// listen-path drops). It is valid only when DropsKnown: kernels
	// before 4.9 may not count it, and a single reading has no interval.
	Drops      uint64
	DropsKnown bool
	// Owners are the processes that hold the socket, if known.
	Owners []HostProcess
}

// HostProcess is a process that holds a listening socket.
type HostProcess struct {
	PID          int
	Command      string
	OpenFiles    int
	MaxOpenFiles uint64
	// AtFDLimit reports that every descriptor below MaxOpenFiles is in
	// use, so accept() fails with EMFILE.
	AtFDLimit bool
}

// Host is what Diagnose reads: one host or network namespace observed
// over an interval. It holds plain values; the sysctl, netstat and tcpdiag
// packages fill it.
type Host struct {
	// Profile is the kernel's profile (ProfileFor, or sysctl's TCP.Profile).
	Profile Profile
	// Settings are the sysctls (DefaultSettings, or sysctl's TCP.Settings).
	Settings Settings
	// Absent names the sysctls (dotted /proc/sys form) that do not exist
	// in the observed namespace; their Settings fields hold defaults.
	Absent []string
	// Interval is how long Deltas were counted over; zero when there was
	// only one reading.
	Interval time.Duration
	// Deltas are how far the counters moved over Interval; Observed says
	// which counters the kernel has (a counter outside it is absent, not
	// zero).
	Deltas   Counters
	Observed CounterSet
	// Listeners are the listening sockets of the namespace.
	Listeners []HostListener
}
