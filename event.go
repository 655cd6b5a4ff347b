package paws

import (
	"net/netip"
	"strconv"
	"time"
)

// Timestamp is a TCP timestamp value (TSval or TSecr). Comparisons wrap
// around 2^32 as the kernel's do.
type Timestamp uint32

// Before reports whether a is older than b in the kernel's wrap-around
// arithmetic: (s32)(a - b) < 0.
func (a Timestamp) Before(b Timestamp) bool { return int32(a-b) < 0 }

// Sub returns (s32)(a - b), the signed distance from b to a.
func (a Timestamp) Sub(b Timestamp) int32 { return int32(a - b) }

// String returns the decimal value.
func (a Timestamp) String() string { return strconv.FormatUint(uint64(a), 10) }

// Time is a wall-clock instant in nanoseconds since the Unix epoch: a pcap
// timestamp converts with time.Time.UnixNano, a scenario's t with
// wall_start*1e9 + t*1e9. The kernel's whole-second stamps are Seconds.
type Time int64

// TimeOf returns the Time of t.
func TimeOf(t time.Time) Time { return Time(t.UnixNano()) }

// Seconds returns the whole seconds of t, rounded down: the kernel's
// get_seconds() at that instant.
func (t Time) Seconds() int64 {
	s := int64(t) / 1e9
	if int64(t)%1e9 < 0 {
		s--
	}
	return s
}

// Milliseconds returns the whole milliseconds of t, rounded down.
func (t Time) Milliseconds() int64 {
	ms := int64(t) / 1e6
	if int64(t)%1e6 < 0 {
		ms--
	}
	return ms
}

// Add returns t + d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns t - u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Time returns t as a time.Time in UTC.
func (t Time) Time() time.Time { return time.Unix(0, int64(t)).UTC() }

// EventType is what happened.
type EventType uint8

// Event types.
const (
	// EventSYN is a SYN from the peer Src to this host's Dst.
	EventSYN EventType = iota + 1
	// EventServerClose is this host closing a connection first (active
	// close): TSval is the peer's last TSval that passed PAWS, TSvalAt
	// when it arrived, Seq the next sequence number expected (rcv_nxt).
	EventServerClose
	// EventClientClose is the peer closing first (this host's socket goes
	// CLOSE_WAIT, LAST_ACK, CLOSED), or the peer's FIN reaching a
	// TIME_WAIT socket still in substate FIN_WAIT2.
	EventClientClose
	// EventClientRST is a RST from the peer, Seq its sequence number.
	EventClientRST
	// EventACK is the third ACK of a handshake (TSval, TSecr as sent).
	EventACK
	// EventAccept is the application calling accept() on the listener.
	EventAccept
	// EventConnect is this host calling connect() from Src (its own
	// address and port) to Dst, which may take over its own TIME_WAIT
	// socket of that 4-tuple (tcp_tw_reuse).
	EventConnect
	// EventSegment is a segment from the peer on an established
	// connection or a TIME_WAIT socket: Flags, Seq, Len, TSval.
	EventSegment
)

var eventTypeNames = [...]string{
	EventSYN:         "syn",
	EventServerClose: "server_close",
	EventClientClose: "client_close",
	EventClientRST:   "client_rst",
	EventACK:         "ack",
	EventAccept:      "accept",
	EventConnect:     "connect",
	EventSegment:     "segment",
}

// String returns the scenario name of the type, e.g. "syn".
func (t EventType) String() string {
	if t >= EventSYN && int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// ParseEventType parses a scenario event type name such as "syn".
func ParseEventType(s string) (EventType, bool) {
	for i, n := range eventTypeNames {
		if n == s && i != 0 {
			return EventType(i), true
		}
	}
	return 0, false
}

// Flags are TCP header flags, with the kernel's bit values.
type Flags uint8

// TCP flags.
const (
	FlagFIN Flags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
)

// String returns the flags as tcpdump letters, e.g. "S", ".", "F.", "R".
func (f Flags) String() string {
	var b []byte
	for _, x := range [...]struct {
		f Flags
		c byte
	}{{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'}, {FlagACK, '.'}} {
		if f&x.f != 0 {
			b = append(b, x.c)
		}
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

// Event is one thing that happens to the modelled host. It is a comparable
// value; fields a type does not use are ignored.
//
// Its fields are ordered by size and padded to 112 bytes, a multiple of
// 16: a copy of a 104-byte Event ends with a 16-byte store that overlaps
// the one before it, and the next copy, which reads those bytes with one
// 16-byte load, cannot take them from the two stores and stalls. Step
// copies each event at least twice.
type Event struct {
	// Time is when it happened. Events must come in time order; an earlier
	// Time than the previous event's is taken as the previous event's.
	Time Time
	// Src is the peer's address and port: the source of the SYN, ACK,
	// RST or segment. For EventConnect it is this host's own address and
	// port.
	Src netip.AddrPort
	// Dst is this host's address and port; the zero value means the
	// listener's. For EventConnect it is the remote peer.
	Dst netip.AddrPort
	// TSvalAt is, for EventServerClose, when TSval arrived
	// (ts_recent_stamp); zero means Time.
	TSvalAt Time
	// TSval is the segment's TSval, when HasTS; for EventServerClose the
	// peer's last TSval (ts_recent).
	TSval Timestamp
	// TSecr is the segment's TSecr (EventACK), when HasTSecr.
	TSecr Timestamp
	// Seq is the segment's sequence number, or for EventServerClose the
	// next sequence number expected from the peer (rcv_nxt), when HasSeq.
	// Without it a SYN's sequence number is taken as not after rcv_nxt
	// and a RST's as equal to it.
	Seq uint32
	// Len is the payload length of an EventSegment.
	Len uint32
	// Type is what happened.
	Type EventType
	// Flags are the flags of an EventSegment; zero means an ACK.
	Flags Flags
	// HasTS reports whether the segment carries a timestamp option, or
	// for EventServerClose whether the connection used timestamps.
	HasTS    bool
	HasTSecr bool
	HasSeq   bool
	// FinWait2 marks an EventServerClose whose socket waits for the peer's
	// FIN in the FIN_WAIT2 timewait substate; the peer's FIN is a later
	// EventClientClose.
	FinWait2 bool
	// Bound marks an EventConnect from a socket bound to its port before
	// connect(), which takes over a TIME_WAIT socket that used timestamps
	// regardless of tcp_tw_reuse.
	Bound bool

	_ [8]byte
}
