package tcpdiag

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paws-go/paws"
)

var (
	// ErrDumpInterrupted is returned, together with the results, when the
	// kernel flagged a dump with NLM_F_DUMP_INTR: the table changed while
	// it was being read, so an entry may be missing or appear twice. The
	// results are still useful; call again for a consistent view.
	ErrDumpInterrupted = errors.New("tcpdiag: dump interrupted, results may be incomplete or inconsistent")

	// ErrMalformed is wrapped by errors about kernel data that cannot be
	// decoded: netlink replies with truncated headers, attributes that run
	// past their message or have the wrong size (the message names the
	// byte offset), and /proc files that do not parse (it names the file).
	ErrMalformed = errors.New("tcpdiag: malformed kernel data")

	// ErrNotSupported is paws.ErrNotSupported, wrapped by every call on
	// systems other than Linux.
	ErrNotSupported = paws.ErrNotSupported
)

// PAWSMSL is TCP_PAWS_MSL, the number of seconds during which a cached
// per-peer timestamp makes per-host PAWS (tcp_tw_recycle, kernels 3.x to
// 4.11) reject SYNs carrying an older TSval.
const PAWSMSL = 60 * time.Second

// Listener is a TCP socket in the LISTEN state as reported by inet_diag
// (the data behind "ss -ltn"). It is a comparable value.
//
// For a listening socket the kernel reports its accept queue in the
// fields that ss prints as Recv-Q and Send-Q:
//
//	Recv-Q = AcceptQueue = sk_ack_backlog: established connections that
//	         the application has not accept()ed yet;
//	Send-Q = Backlog = sk_max_ack_backlog: min(listen() backlog,
//	         net.core.somaxconn) at the time listen() was called.
//
// The queue is full when AcceptQueue > Backlog (strictly greater, in every
// released kernel), so it holds Backlog+1 connections: "ss -ltn" showing
// Recv-Q 5 and Send-Q 4 is a full queue. While it is full the kernel drops
// new SYNs (ListenOverflows, ListenDrops) and, at the final ACK of a
// handshake, the ACK itself.
type Listener struct {
	// Local is the bound address and port: 0.0.0.0 or :: for a wildcard
	// bind. An IPv6 socket that also accepts IPv4 (not IPV6_V6ONLY) is
	// reported once, with its IPv6 address.
	Local netip.AddrPort
	// AcceptQueue is the current accept-queue length (idiag_rqueue).
	AcceptQueue uint32
	// Backlog is the effective backlog (idiag_wqueue), after the kernel
	// clamped the listen() argument to net.core.somaxconn. The requested
	// value is not kept anywhere.
	Backlog uint32
	// Inode is the socket's inode number, as in /proc/<pid>/fd links
	// "socket:[Inode]".
	Inode uint32
	// UID is the owner of the socket (the creator's effective uid).
	UID uint32
	// Interface is the index of the interface the socket is bound to with
	// SO_BINDTODEVICE, or 0. Indexes belong to the socket's namespace.
	Interface uint32
	// Cookie is the socket cookie (SO_COOKIE), unique for the boot.
	Cookie uint64
	// Drops is the socket's sk_drops counter. Kernels with
	// tcp_listendrop (4.9 has it, 4.4 does not) count here every SYN or
	// final ACK dropped on the listener's behalf, the per-socket share of
	// ListenDrops ("ss -ltnm" prints it as d<N>). Zero when the kernel
	// does not report it.
	Drops uint32
	// V6Only is the IPV6_V6ONLY option of an IPv6 socket.
	V6Only bool
}

// AcceptQueueFull reports whether the accept queue is full: the kernel
// drops SYNs for this listener until the application accepts.
func (l Listener) AcceptQueueFull() bool { return l.AcceptQueue > l.Backlog }

// Capacity returns the number of connections the accept queue holds,
// Backlog+1.
func (l Listener) Capacity() uint64 { return uint64(l.Backlog) + 1 }

// FillRatio returns AcceptQueue / Capacity: 1 when the queue is full, a
// little more when children made on several CPUs at once passed the
// kernel's unlocked fullness check together.
func (l Listener) FillRatio() float64 {
	return float64(l.AcceptQueue) / float64(l.Capacity())
}

// String formats the listener like a line of "ss -ltn".
func (l Listener) String() string {
	return fmt.Sprintf("LISTEN %d %d %s", l.AcceptQueue, l.Backlog, l.Local)
}

// MetricsField is a set of tcp_metrics values; Metrics.Present says which
// ones the kernel reported for an entry.
type MetricsField uint16

// The values a tcp_metrics entry may carry.
const (
	FieldRTT            MetricsField = 1 << iota // Metrics.RTT
	FieldRTTVar                                  // Metrics.RTTVar
	FieldSSThresh                                // Metrics.SSThresh
	FieldCWnd                                    // Metrics.CWnd
	FieldReordering                              // Metrics.Reordering
	FieldTWTimestamp                             // Metrics.TWTSVal and Metrics.TWTSValAge
	FieldFastOpenMSS                             // Metrics.FastOpenMSS
	FieldFastOpenDrops                           // Metrics.FastOpenSYNDrops and Metrics.FastOpenSYNDropAge
	FieldFastOpenCookie                          // Metrics.FastOpenCookie
)

var fieldNames = [...]string{"rtt", "rttvar", "ssthresh", "cwnd", "reordering", "tw_ts", "fo_mss", "fo_syn_drops", "fo_cookie"}

// String lists the fields of f, separated by "|".
func (f MetricsField) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for i, name := range fieldNames {
		if f&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
		f &^= 1 << i
	}
	if f != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x" + strconv.FormatUint(uint64(f), 16))
	}
	return b.String()
}

// FastOpenCookie is a TCP Fast Open cookie (at most 16 bytes). It is a
// comparable value.
type FastOpenCookie struct {
	b [16]byte
	n uint8
}

// Bytes returns a copy of the cookie.
func (c FastOpenCookie) Bytes() []byte { return append([]byte(nil), c.b[:c.n]...) }

// String returns the cookie in hexadecimal.
func (c FastOpenCookie) String() string { return hex.EncodeToString(c.b[:c.n]) }

// Metrics is one entry of the kernel's per-peer TCP metrics cache
// ("ip tcp_metrics show"). It is a comparable value.
//
// On kernels 3.7 to 4.11 the entry also holds the timestamp that per-host
// PAWS compares SYNs against when tcp_tw_recycle is on: the last TSval
// seen from the peer on a connection this host closed first (TWTSVal), and
// how long ago the kernel stored it (TWTSValAge). Newer kernels never fill
// them.
type Metrics struct {
	// Peer is the remote address (the cache key).
	Peer netip.Addr
	// Local is the local address of the key on kernels that key by
	// (local, remote), 3.16 and later; otherwise the zero Addr.
	Local netip.Addr
	// Age is the time since the entry was last updated.
	Age time.Duration
	// RTT and RTTVar are the cached smoothed round-trip time and its
	// variance, in microseconds where the kernel reports them so (4.1+),
	// otherwise in milliseconds.
	RTT, RTTVar time.Duration
	// SSThresh, CWnd and Reordering are the cached slow-start threshold,
	// congestion window (segments) and reordering degree.
	SSThresh, CWnd, Reordering uint32
	// TWTSVal is the cached TSval of the peer (tcpm_ts).
	TWTSVal uint32
	// TWTSValAge is how long ago TWTSVal was recorded, in whole seconds
	// (tcpm_ts_stamp). It is negative if the wall clock went backwards.
	TWTSValAge time.Duration
	// FastOpenMSS, FastOpenSYNDrops, FastOpenSYNDropAge and FastOpenCookie
	// are the TCP Fast Open client state for the peer.
	FastOpenMSS        uint16
	FastOpenSYNDrops   uint16
	FastOpenSYNDropAge time.Duration
	FastOpenCookie     FastOpenCookie
	// Present says which of the optional values the kernel reported.
	Present MetricsField
}

// Has reports whether all fields in f are present.
func (m Metrics) Has(f MetricsField) bool { return m.Present&f == f }

// TWTimestampFresh reports whether the entry holds a peer timestamp younger
// than PAWSMSL: with tcp_tw_recycle on (kernels before 4.12), a SYN from
// Peer whose TSval is older than TWTSVal is dropped silently (per-host
// PAWS, counted as PAWSPassive).
func (m Metrics) TWTimestampFresh() bool {
	return m.Has(FieldTWTimestamp) && m.TWTSValAge <= PAWSMSL
}

// Process is a process that holds a listening socket.
type Process struct {
	// PID is the process id in the pid namespace of the proc mount that
	// was scanned.
	PID int
	// Command is the process name (/proc/<pid>/comm).
	Command string
	// FDs are the descriptor numbers that refer to the socket.
	FDs []int
	// OpenFiles is the number of open descriptors of the process.
	OpenFiles int
	// MaxOpenFiles is the soft RLIMIT_NOFILE of the process.
	MaxOpenFiles uint64
	// AtFDLimit is true when every descriptor number below MaxOpenFiles
	// is in use: accept() then fails with EMFILE, connections stay in the
	// accept queue, the queue fills and the kernel drops SYNs.
	AtFDLimit bool
}

// Owned is a listener with the processes that hold it.
type Owned struct {
	Listener Listener
	// Processes hold a descriptor of the socket. It is empty when no
	// readable process does: the socket may be held only by processes
	// that could not be read (see ProcessError), or by the kernel.
	Processes []Process
	// SoMaxConn is net.core.somaxconn of the listener's namespace when it
	// was read.
	SoMaxConn uint32
}

// BacklogClamped reports whether the effective backlog equals
// net.core.somaxconn: the application probably asked for more (Go, Java
// and many servers pass a large value or -1), and the kernel cut it down.
func (o Owned) BacklogClamped() bool {
	return o.SoMaxConn != 0 && o.Listener.Backlog == o.SoMaxConn
}

// ProcessError lists the processes whose open descriptors could not be
// read. It matches fs.ErrPermission when Err does.
type ProcessError struct {
	// PIDs are the processes that could not be read, in ascending order.
	PIDs []int
	// Err is the error of the first one.
	Err error
}

// Error implements error.
func (e *ProcessError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "tcpdiag: descriptors of %d processes not readable (pid", len(e.PIDs))
	for i, pid := range e.PIDs {
		if i == show {
			fmt.Fprintf(&b, " and %d more", len(e.PIDs)-show)
			break
		}
		fmt.Fprintf(&b, " %d", pid)
	}
	fmt.Fprintf(&b, "): %v", e.Err)
	return b.String()
}

// Unwrap returns Err.
func (e *ProcessError) Unwrap() error { return e.Err }

// NetNS names a network namespace. The zero NetNS is the namespace of the
// calling thread. It is a comparable value.
type NetNS struct {
	path string
	fd   int
}

// NetNSPath names the namespace of a namespace file: /proc/<pid>/ns/net,
// /run/netns/<name>, or a bind mount of either.
func NetNSPath(path string) NetNS { return NetNS{path: path} }

// NetNSOfPID names the network namespace of process pid.
func NetNSOfPID(pid int) NetNS {
	return NetNS{path: "/proc/" + strconv.Itoa(pid) + "/ns/net"}
}

// NetNSFD names the namespace of an open namespace file descriptor. Dial
// duplicates it, so the caller may close fd afterwards.
func NetNSFD(fd int) NetNS { return NetNS{fd: fd} }

// IsZero reports whether n names the caller's own namespace.
func (n NetNS) IsZero() bool { return n.path == "" && n.fd <= 0 }

// String describes the namespace.
func (n NetNS) String() string {
	switch {
	case n.path != "":
		return n.path
	case n.fd > 0:
		return "netns fd " + strconv.Itoa(n.fd)
	}
	return "current netns"
}

// Config configures Dial. The zero Config (or nil) reads the calling
// thread's network namespace and /proc.
type Config struct {
	// NetNS is the network namespace to inspect.
	NetNS NetNS
	// ProcRoot is the proc mount scanned by Conn.Owners for processes
	// holding listeners; empty means "/proc". Use a proc mount of the
	// initial pid namespace to find owners in every container.
	ProcRoot string
	// Timeout bounds each wait for a kernel reply; zero means 5 seconds.
	Timeout time.Duration
	// ReadDrops asks the kernel for each listener's socket memory
	// counters (INET_DIAG_SKMEMINFO) to fill Listener.Drops. It costs:
	// a dump of 20,000 listeners takes 4.28 ms instead of 3.56 ms
	// (BenchmarkListeners/Dump/tcpdiag-drops), mostly in the kernel
	// (bare-skmeminfo against bare: 4.11 ms against 3.35 ms) and the
	// rest in reading the attributes, which the default request lets
	// the decoder skip for IPv4 listeners.
	ReadDrops bool
}

const defaultTimeout = 5 * time.Second

// errTimeout is returned when the kernel does not answer in time. It
// matches os.ErrDeadlineExceeded.
var errTimeout = fmt.Errorf("tcpdiag: no reply from the kernel: %w", os.ErrDeadlineExceeded)
