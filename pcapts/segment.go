package pcapts

import (
	"net/netip"
	"strings"
	"time"
)

// Flow is the address and port pair of a TCP segment, from its sender to
// its receiver. It is comparable and is used as a map key.
type Flow struct {
	Src, Dst netip.AddrPort
}

// Reverse returns the flow of the segments travelling the other way.
func (f Flow) Reverse() Flow { return Flow{Src: f.Dst, Dst: f.Src} }

// String returns "src > dst", as tcpdump prints it.
func (f Flow) String() string { return f.Src.String() + " > " + f.Dst.String() }

// Flags holds the TCP header flags, in the bit order of the header byte.
type Flags uint8

// TCP header flags.
const (
	FlagFIN Flags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether every flag of x is set in f.
func (f Flags) Has(x Flags) bool { return f&x == x }

// String returns the flags as tcpdump letters in header order, e.g. "S",
// "S." for SYN-ACK, "F." or "R"; "none" when no flag is set.
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for _, x := range [...]struct {
		f Flags
		c byte
	}{{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'}, {FlagURG, 'U'}, {FlagECE, 'E'}, {FlagCWR, 'W'}, {FlagACK, '.'}} {
		if f&x.f != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// Segment is one TCP segment read from a capture. It is a comparable value
// of 128 bytes and holds no reference to the reader's buffer. (The fields
// are ordered to avoid padding and so that the decoder writes neighbouring
// fields, such as Seq and Ack, with one store.)
type Segment struct {
	// Time is the capture time stamp; the zero Time for pcapng simple
	// packet blocks, which carry none.
	Time time.Time
	Flow Flow

	Seq, Ack uint32
	// TSval and TSecr are the RFC 7323 timestamp option values; they are
	// meaningful only when HasTimestamp is true.
	TSval, TSecr uint32

	// PayloadLen is the TCP payload length on the wire, from the IP length
	// fields; it is not reduced by the capture's snap length.
	PayloadLen int

	// Interface is the pcapng interface the packet was captured on; 0 for
	// pcap files.
	Interface uint32

	Window uint16
	Flags  Flags
	// WindowScale is the window scale shift count, when HasWindowScale is
	// true.
	WindowScale uint8
	// MSS is the maximum segment size option, when HasMSS is true.
	MSS uint16

	HasTimestamp   bool
	HasMSS         bool
	HasWindowScale bool
	// SACKPermitted reports a SACK-permitted option.
	SACKPermitted bool
}
