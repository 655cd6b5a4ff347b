package pcapts

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// Packet builders for the tests: each returns wire bytes.

var (
	cli4 = netip.MustParseAddrPort("10.201.0.2:40001")
	srv4 = netip.MustParseAddrPort("10.201.0.1:8080")
	cli6 = netip.MustParseAddrPort("[fd00:201::2]:40002")
	srv6 = netip.MustParseAddrPort("[fd00:201::1]:8080")
)

// synOpts is MSS 1460, SACK permitted, TS 271344470/0, NOP, WS 7.
var synOpts = []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x10, 0x2c, 0x63, 0x56, 0, 0, 0, 0, 1, 3, 3, 7}

func tcpHeader(src, dst netip.AddrPort, flags Flags, seq, ack uint32, opts []byte, payload int) []byte {
	b := binary.BigEndian.AppendUint16(nil, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, byte((20+len(opts))/4)<<4, byte(flags), 0xfa, 0xf0, 0, 0, 0, 0)
	b = append(b, opts...)
	return append(b, make([]byte, payload)...)
}

func ipv4Packet(src, dst netip.Addr, proto byte, ipOpts, l4 []byte) []byte {
	ihl := 20 + len(ipOpts)
	b := []byte{0x40 | byte(ihl/4), 0}
	b = binary.BigEndian.AppendUint16(b, uint16(ihl+len(l4)))
	b = append(b, 0, 1, 0x40, 0, 64, proto, 0, 0)
	s, d := src.As4(), dst.As4()
	b = append(append(append(b, s[:]...), d[:]...), ipOpts...)
	return append(b, l4...)
}

// ipv6Packet builds an IPv6 packet; ext is a chain of extension headers
// whose first next-header value is first.
func ipv6Packet(src, dst netip.Addr, first byte, ext, l4 []byte) []byte {
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)+len(l4)))
	b = append(b, first, 64)
	s, d := src.As16(), dst.As16()
	b = append(append(b, s[:]...), d[:]...)
	return append(append(b, ext...), l4...)
}

func tcp4(flags Flags, opts []byte, payload int) []byte {
	return ipv4Packet(cli4.Addr(), srv4.Addr(), 6, nil, tcpHeader(cli4, srv4, flags, 1000, 0, opts, payload))
}

func tcp6(flags Flags, opts []byte, payload int) []byte {
	return ipv6Packet(cli6.Addr(), srv6.Addr(), 6, nil, tcpHeader(cli6, srv6, flags, 2000, 0, opts, payload))
}

func ether(etype uint16, p []byte, tags ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	for _, tpid := range tags {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, 100)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, p...)
}

func sll(etype uint16, p []byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, p...)
}

func sll2(etype uint16, p []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, etype)
	b = append(b, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	return append(b, p...)
}

// capPacket is one packet of a test capture.
type capPacket struct {
	link  LinkType
	time  time.Time
	data  []byte
	wire  int // 0: len(data)
	iface uint32
}

func (p capPacket) wireLen() int {
	if p.wire != 0 {
		return p.wire
	}
	return len(p.data)
}

func order(be bool) interface {
	binary.ByteOrder
	binary.AppendByteOrder
} {
	if be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// pcapFile writes a pcap file of one link type.
func pcapFile(be, nano bool, link LinkType, pkts []capPacket) []byte {
	o := order(be)
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = o.AppendUint32(b, 262144)
	b = o.AppendUint32(b, uint32(link))
	for _, p := range pkts {
		frac := p.time.Nanosecond()
		if !nano {
			frac /= 1000
		}
		b = o.AppendUint32(b, uint32(p.time.Unix()))
		b = o.AppendUint32(b, uint32(frac))
		b = o.AppendUint32(b, uint32(len(p.data)))
		b = o.AppendUint32(b, uint32(p.wireLen()))
		b = append(b, p.data...)
	}
	return b
}

// ngIface describes a pcapng interface for ngSection.
type ngIface struct {
	link    LinkType
	snaplen uint32
	tsresol byte // 0: default (µs)
	offset  int64
}

func ngBlock(o binary.AppendByteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, n)
	b = append(b, body...)
	return o.AppendUint32(b, n)
}

func ngSection(be bool, ifaces []ngIface) []byte {
	o := order(be)
	shb := o.AppendUint32(nil, 0x1a2b3c4d)
	shb = o.AppendUint16(shb, 1)
	shb = o.AppendUint16(shb, 0)
	shb = o.AppendUint64(shb, ^uint64(0))
	b := ngBlock(o, 0x0a0d0d0a, shb)
	for _, f := range ifaces {
		body := o.AppendUint16(nil, uint16(f.link))
		body = o.AppendUint16(body, 0)
		body = o.AppendUint32(body, f.snaplen)
		if f.tsresol != 0 {
			body = o.AppendUint16(body, 9)
			body = o.AppendUint16(body, 1)
			body = append(body, f.tsresol, 0, 0, 0)
		}
		if f.offset != 0 {
			body = o.AppendUint16(body, 14)
			body = o.AppendUint16(body, 8)
			body = o.AppendUint64(body, uint64(f.offset))
		}
		body = append(body, 0, 0, 0, 0)
		b = append(b, ngBlock(o, 1, body)...)
	}
	return b
}

// ngUnits converts t to the units of an interface.
func ngUnits(t time.Time, f ngIface) uint64 {
	ns := t.UnixNano() - f.offset*1e9
	switch r := f.tsresol; {
	case r == 0 || r == 6:
		return uint64(ns / 1e3)
	case r == 9:
		return uint64(ns)
	case r&0x80 != 0:
		sh := r & 0x7f
		return uint64(ns/1e9)<<sh | uint64(ns%1e9)<<sh/1e9
	default:
		div := int64(1)
		for range 9 - int(r) {
			div *= 10
		}
		return uint64(ns / div)
	}
}

func ngEPB(be bool, f ngIface, p capPacket) []byte {
	o := order(be)
	ts := ngUnits(p.time, f)
	body := o.AppendUint32(nil, p.iface)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(p.data)))
	body = o.AppendUint32(body, uint32(p.wireLen()))
	return ngBlock(o, 6, append(body, p.data...))
}

func ngOPB(be bool, f ngIface, p capPacket) []byte {
	o := order(be)
	ts := ngUnits(p.time, f)
	body := o.AppendUint16(nil, uint16(p.iface))
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(p.data)))
	body = o.AppendUint32(body, uint32(p.wireLen()))
	return ngBlock(o, 2, append(body, p.data...))
}

func ngSPB(be bool, p capPacket) []byte {
	o := order(be)
	body := o.AppendUint32(nil, uint32(p.wireLen()))
	return ngBlock(o, 3, append(body, p.data...))
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads every segment of a capture.
func readAll(t testing.TB, b []byte) ([]Segment, *Reader, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var segs []Segment
	for r.Next() {
		segs = append(segs, r.Segment())
	}
	return segs, r, r.Err()
}
