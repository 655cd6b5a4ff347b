package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/paws-go/paws"
)

// Value is a sysctl value that the kernel may not have. The zero Value is
// absent. Value[T] is comparable when T is.
type Value[T any] struct {
	// V is the value; the zero T when Present is false.
	V T
	// Present is false when the sysctl does not exist on this kernel or in
	// this namespace, or could not be read; V is then the zero T.
	Present bool
}

// ValueOf returns a present Value holding v.
func ValueOf[T any](v T) Value[T] { return Value[T]{V: v, Present: true} }

// Get returns the value and whether it is present.
func (v Value[T]) Get() (T, bool) { return v.V, v.Present }

// Or returns the value if it is present and def otherwise.
func (v Value[T]) Or(def T) T {
	if v.Present {
		return v.V
	}
	return def
}

// String returns the value formatted with fmt, or "absent".
func (v Value[T]) String() string {
	if !v.Present {
		return "absent"
	}
	return fmt.Sprint(v.V)
}

// TimestampsMode is net.ipv4.tcp_timestamps. Up to 4.9 the kernel reads it
// as a boolean (see Enabled); values the kernel does not define are kept.
type TimestampsMode int32

// Values of net.ipv4.tcp_timestamps.
const (
	TimestampsOff         TimestampsMode = 0 // no TCP timestamps
	TimestampsOn          TimestampsMode = 1 // timestamps with a random per-host or per-connection offset (4.10+)
	TimestampsOnNoOffsets TimestampsMode = 2 // timestamps without random offsets (4.10+)
)

// Enabled reports whether the kernel sends and checks TCP timestamps.
func (m TimestampsMode) Enabled() bool { return m != TimestampsOff }

// String returns "off", "on", "on-without-offsets", or
// "TimestampsMode(N)" for another value.
func (m TimestampsMode) String() string {
	switch m {
	case TimestampsOff:
		return "off"
	case TimestampsOn:
		return "on"
	case TimestampsOnNoOffsets:
		return "on-without-offsets"
	}
	return "TimestampsMode(" + strconv.Itoa(int(m)) + ")"
}

// TWReuseMode is net.ipv4.tcp_tw_reuse: whether connect() may take over a
// local TIME_WAIT socket. It has no effect on incoming SYNs.
type TWReuseMode int32

// Values of net.ipv4.tcp_tw_reuse.
const (
	TWReuseOff          TWReuseMode = 0
	TWReuseOn           TWReuseMode = 1
	TWReuseLoopbackOnly TWReuseMode = 2 // 4.18+, and the default there
)

// String returns "off", "on", "loopback-only", or "TWReuseMode(N)".
func (m TWReuseMode) String() string {
	switch m {
	case TWReuseOff:
		return "off"
	case TWReuseOn:
		return "on"
	case TWReuseLoopbackOnly:
		return "loopback-only"
	}
	return "TWReuseMode(" + strconv.Itoa(int(m)) + ")"
}

// SynCookiesMode is net.ipv4.tcp_syncookies.
type SynCookiesMode int32

// Values of net.ipv4.tcp_syncookies.
const (
	SynCookiesOff    SynCookiesMode = 0
	SynCookiesOn     SynCookiesMode = 1 // cookies when a SYN queue overflows
	SynCookiesAlways SynCookiesMode = 2 // cookies for every SYN (3.12+)
)

// String returns "off", "on", "always", or "SynCookiesMode(N)".
func (m SynCookiesMode) String() string {
	switch m {
	case SynCookiesOff:
		return "off"
	case SynCookiesOn:
		return "on"
	case SynCookiesAlways:
		return "always"
	}
	return "SynCookiesMode(" + strconv.Itoa(int(m)) + ")"
}

// PortRange is net.ipv4.ip_local_port_range: the ports connect() and
// bind(0) choose from, First to Last inclusive.
type PortRange struct {
	First, Last uint16
}

// Len returns the number of ports in the range, 0 if Last < First.
func (r PortRange) Len() int {
	if r.Last < r.First {
		return 0
	}
	return int(r.Last) - int(r.First) + 1
}

// Contains reports whether port lies in the range.
func (r PortRange) Contains(port uint16) bool { return port >= r.First && port <= r.Last }

// String returns "First-Last", such as "32768-60999".
func (r PortRange) String() string {
	return strconv.Itoa(int(r.First)) + "-" + strconv.Itoa(int(r.Last))
}

// TCP holds the sysctls that decide whether the listen path answers or
// drops a SYN, read together from one source. Field names follow the
// sysctl names; units are in the field comments. TCP is comparable, so a
// poller can tell whether anything changed with ==.
type TCP struct {
	// Kernel is kernel.osrelease.
	Kernel paws.KernelVersion

	TWRecycle        Value[bool]           // net.ipv4.tcp_tw_recycle, ≤ 4.11 only
	Timestamps       Value[TimestampsMode] // net.ipv4.tcp_timestamps
	TWReuse          Value[TWReuseMode]    // net.ipv4.tcp_tw_reuse
	TWReuseDelay     Value[time.Duration]  // net.ipv4.tcp_tw_reuse_delay (ms in the file), 6.14+
	MaxSynBacklog    Value[int]            // net.ipv4.tcp_max_syn_backlog
	SoMaxConn        Value[int]            // net.core.somaxconn
	SynCookies       Value[SynCookiesMode] // net.ipv4.tcp_syncookies
	AbortOnOverflow  Value[bool]           // net.ipv4.tcp_abort_on_overflow
	RFC1337          Value[bool]           // net.ipv4.tcp_rfc1337
	FinTimeout       Value[time.Duration]  // net.ipv4.tcp_fin_timeout (s in the file); FIN_WAIT2 only, TIME_WAIT is always 60 s
	MaxTWBuckets     Value[int]            // net.ipv4.tcp_max_tw_buckets
	InvalidRatelimit Value[time.Duration]  // net.ipv4.tcp_invalid_ratelimit (ms in the file), 4.0+
	LocalPortRange   Value[PortRange]      // net.ipv4.ip_local_port_range
	SynRetries       Value[int]            // net.ipv4.tcp_syn_retries
	SynackRetries    Value[int]            // net.ipv4.tcp_synack_retries
	NoMetricsSave    Value[bool]           // net.ipv4.tcp_no_metrics_save

	// absent has bit i set when tcpFields[i] did not exist.
	absent uint32
}

// Absent returns the names of the sysctls that did not exist in the source,
// in the order of the TCP fields. A sysctl that existed but failed to read
// or parse is not listed: it is in the error of FS.TCP.
func (t TCP) Absent() []Name {
	var names []Name
	for i := range tcpFields {
		if t.absent&(1<<i) != 0 {
			names = append(names, tcpFields[i].name)
		}
	}
	return names
}

// tcpField is one sysctl of TCP: where it lives and how it is stored.
type tcpField struct {
	name Name
	path string
	// required sysctls exist on every kernel; their absence is an error.
	required bool
	store    func(t *TCP, b []byte) error
}

func store[T any](dst *Value[T], b []byte, parse func([]byte) (T, error)) error {
	v, err := parse(b)
	if err != nil {
		return err
	}
	*dst = Value[T]{V: v, Present: true}
	return nil
}

// tcpFields lists what TCP reads, in field order. It is never modified;
// TestTCPFieldPaths checks each path against Name.Path.
var tcpFields = [...]tcpField{
	{name: KernelOSRelease, path: "sys/kernel/osrelease", required: true, store: func(t *TCP, b []byte) error {
		v, err := paws.ParseKernelVersion(string(b))
		if err != nil {
			return err
		}
		t.Kernel = v
		return nil
	}},
	{name: NetIPv4TCPTWRecycle, path: "sys/net/ipv4/tcp_tw_recycle", store: func(t *TCP, b []byte) error { return store(&t.TWRecycle, b, parseBool) }},
	{name: NetIPv4TCPTimestamps, path: "sys/net/ipv4/tcp_timestamps", store: func(t *TCP, b []byte) error { return store(&t.Timestamps, b, parseTimestampsMode) }},
	{name: NetIPv4TCPTWReuse, path: "sys/net/ipv4/tcp_tw_reuse", store: func(t *TCP, b []byte) error { return store(&t.TWReuse, b, parseTWReuseMode) }},
	{name: NetIPv4TCPTWReuseDelay, path: "sys/net/ipv4/tcp_tw_reuse_delay", store: func(t *TCP, b []byte) error { return store(&t.TWReuseDelay, b, parseMillis) }},
	{name: NetIPv4TCPMaxSynBacklog, path: "sys/net/ipv4/tcp_max_syn_backlog", store: func(t *TCP, b []byte) error { return store(&t.MaxSynBacklog, b, parseCInt) }},
	{name: NetCoreSoMaxConn, path: "sys/net/core/somaxconn", store: func(t *TCP, b []byte) error { return store(&t.SoMaxConn, b, parseCInt) }},
	{name: NetIPv4TCPSynCookies, path: "sys/net/ipv4/tcp_syncookies", store: func(t *TCP, b []byte) error { return store(&t.SynCookies, b, parseSynCookiesMode) }},
	{name: NetIPv4TCPAbortOnOverflow, path: "sys/net/ipv4/tcp_abort_on_overflow", store: func(t *TCP, b []byte) error { return store(&t.AbortOnOverflow, b, parseBool) }},
	{name: NetIPv4TCPRFC1337, path: "sys/net/ipv4/tcp_rfc1337", store: func(t *TCP, b []byte) error { return store(&t.RFC1337, b, parseBool) }},
	{name: NetIPv4TCPFinTimeout, path: "sys/net/ipv4/tcp_fin_timeout", store: func(t *TCP, b []byte) error { return store(&t.FinTimeout, b, parseSeconds) }},
	{name: NetIPv4TCPMaxTWBuckets, path: "sys/net/ipv4/tcp_max_tw_buckets", store: func(t *TCP, b []byte) error { return store(&t.MaxTWBuckets, b, parseCInt) }},
	{name: NetIPv4TCPInvalidRatelimit, path: "sys/net/ipv4/tcp_invalid_ratelimit", store: func(t *TCP, b []byte) error { return store(&t.InvalidRatelimit, b, parseMillis) }},
	{name: NetIPv4IPLocalPortRange, path: "sys/net/ipv4/ip_local_port_range", store: func(t *TCP, b []byte) error { return store(&t.LocalPortRange, b, parsePortRange) }},
	{name: NetIPv4TCPSynRetries, path: "sys/net/ipv4/tcp_syn_retries", store: func(t *TCP, b []byte) error { return store(&t.SynRetries, b, parseCInt) }},
	{name: NetIPv4TCPSynackRetries, path: "sys/net/ipv4/tcp_synack_retries", store: func(t *TCP, b []byte) error { return store(&t.SynackRetries, b, parseCInt) }},
	{name: NetIPv4TCPNoMetricsSave, path: "sys/net/ipv4/tcp_no_metrics_save", store: func(t *TCP, b []byte) error { return store(&t.NoMetricsSave, b, parseBool) }},
}

// TCP reads every sysctl of the TCP type in one pass, and in one entry into
// the FS's network namespace.
//
// A sysctl the source does not have is absent (Value.Present false, listed
// by TCP.Absent) and is not an error, except kernel.osrelease, which every
// kernel has. Every other failure is collected: the returned TCP holds all
// values that could be read and the error joins one *Error per sysctl that
// could not, each matching fs.ErrNotExist, fs.ErrPermission or ErrParse as
// the cause was. Failing to enter the namespace returns a zero TCP.
func (f FS) TCP() (TCP, error) {
	if f.fsys == nil {
		return TCP{}, errZeroFS
	}
	var (
		t    TCP
		errs []error
	)
	err := f.do(func() error {
		buf := make([]byte, 0, 64)
		for i := range tcpFields {
			fd := &tcpFields[i]
			b, err := readFile(f.fsys, fd.path, buf)
			if len(b) <= maxValueSize {
				buf = b[:0] // keep a grown buffer for the next file
			}
			switch {
			case err == nil:
				if err := fd.store(&t, b); err != nil {
					errs = append(errs, f.parseErr(fd.name, fd.path, b, err))
				}
			case errors.Is(err, fs.ErrNotExist) && !fd.required:
				t.absent |= 1 << i
			default:
				errs = append(errs, &Error{Name: fd.name, NetNS: f.netnsName(), Err: err})
			}
		}
		return nil
	})
	if err != nil {
		return TCP{}, err
	}
	return t, errors.Join(errs...)
}
