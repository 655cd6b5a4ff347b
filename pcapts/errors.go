package pcapts

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrFormat is wrapped by errors about a capture file that is not valid
// pcap or pcapng: a bad magic number, a block or packet length that is
// inconsistent or above the caps, an unknown interface.
var ErrFormat = errors.New("pcapts: invalid capture")

// Error describes where reading a capture stopped. It wraps ErrFormat for
// invalid content, io.ErrUnexpectedEOF for a file cut short, or the error
// of the underlying reader. Use errors.As to get the offset.
type Error struct {
	// Offset is the byte offset in the (uncompressed) capture at which the
	// record or block that failed starts.
	Offset int64
	// Block names the record: "pcap file header", "pcap record",
	// "pcapng enhanced packet block", ...
	Block string
	// Packets is the number of packet records read successfully before.
	Packets uint64
	// Reason says what is wrong, e.g. "captured length 9999999 above cap 262144".
	Reason string
	// Err is ErrFormat, io.ErrUnexpectedEOF or a read error.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "pcapts: " + e.Block + " at offset " + strconv.FormatInt(e.Offset, 10)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	s += " (after " + strconv.FormatUint(e.Packets, 10) + " packets)"
	if e.Err != nil && e.Err != ErrFormat {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

func formatErrorf(off int64, block string, packets uint64, format string, args ...any) error {
	return &Error{Offset: off, Block: block, Packets: packets, Reason: fmt.Sprintf(format, args...), Err: ErrFormat}
}

// SkipReason says why a captured packet produced no Segment.
type SkipReason uint8

// Reasons for skipping a packet.
const (
	// SkipNotIP: the link-layer payload is not IPv4 or IPv6 (ARP, LLDP, ...).
	SkipNotIP SkipReason = iota
	// SkipNotTCP: an IP packet of another protocol, or an IPv6 packet whose
	// header chain ends in ESP or No Next Header.
	SkipNotTCP
	// SkipFragment: an IPv4 or IPv6 fragment (the first one with more to
	// come, or a later one); fragments are not reassembled.
	SkipFragment
	// SkipTruncated: the snap length cut the packet inside the link, IP or
	// TCP fixed header.
	SkipTruncated
	// SkipMalformed: a header field is impossible (IPv4 IHL below 5, TCP data
	// offset below 5, a length that does not fit the packet).
	SkipMalformed
	// SkipLinkType: the interface's link type is not supported.
	SkipLinkType
	numSkipReasons
)

var skipNames = [numSkipReasons]string{"not-ip", "not-tcp", "fragment", "truncated", "malformed", "link-type"}

// String returns the reason's short name, e.g. "truncated".
func (r SkipReason) String() string {
	if r < numSkipReasons {
		return skipNames[r]
	}
	return "SkipReason(" + strconv.Itoa(int(r)) + ")"
}

// Stats counts what a Reader has read so far.
type Stats struct {
	// Packets is the number of packet records read.
	Packets uint64
	// TCP is the number of TCP segments returned.
	TCP uint64
	// Bytes is the number of capture bytes consumed (uncompressed).
	Bytes   int64
	skipped [numSkipReasons]uint64
}

// Skipped returns how many packets were skipped for reason r.
func (s Stats) Skipped(r SkipReason) uint64 {
	if r < numSkipReasons {
		return s.skipped[r]
	}
	return 0
}

// SkippedTotal returns the number of packets skipped for any reason.
func (s Stats) SkippedTotal() uint64 {
	var n uint64
	for _, v := range s.skipped {
		n += v
	}
	return n
}

// SkippedByReason returns the non-zero skip counts keyed by reason name.
func (s Stats) SkippedByReason() map[string]uint64 {
	m := make(map[string]uint64)
	for r, v := range s.skipped {
		if v != 0 {
			m[SkipReason(r).String()] = v
		}
	}
	return m
}
