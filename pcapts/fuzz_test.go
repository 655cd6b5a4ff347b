package pcapts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/paws-go/paws/internal/capgen"
)

// fuzzRead reads a whole capture and checks the invariants every input
// must keep: no panic, a clean end or an *Error with an offset inside the
// input, and packet counts that add up.
//
// It then reads the capture again one byte per Read call, which takes the
// Reader's slow paths (records that straddle its buffer), and checks that
// they give the same segments, counts and error as the fast paths.
func fuzzRead(t *testing.T, data []byte) {
	fuzzReadInvariants(t, data)
	fast, fastStats, fastErr := readSegments(bytes.NewReader(data))
	slow, slowStats, slowErr := readSegments(iotest.OneByteReader(bytes.NewReader(data)))
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
		t.Fatalf("whole input: error %v; one byte per read: error %v", fastErr, slowErr)
	}
	if fastStats != slowStats {
		t.Fatalf("whole input: stats %+v; one byte per read: %+v", fastStats, slowStats)
	}
	if !slices.Equal(fast, slow) {
		t.Fatalf("whole input: %d segments; one byte per read: %d, or they differ", len(fast), len(slow))
	}
}

// readSegments reads a capture to its end or error.
func readSegments(in io.Reader) ([]Segment, Stats, error) {
	r, err := NewReader(in)
	if err != nil {
		return nil, Stats{}, err
	}
	var segs []Segment
	for r.Next() {
		segs = append(segs, *r.Current())
	}
	return segs, r.Stats(), r.Err()
}

func fuzzReadInvariants(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("NewReader error %v is not an *Error", err)
		}
		return
	}
	var n uint64
	for r.Next() {
		s := r.Segment()
		if s != *r.Current() {
			t.Fatalf("Segment %+v differs from *Current %+v", s, *r.Current())
		}
		if !s.Flow.Src.IsValid() || !s.Flow.Dst.IsValid() || s.PayloadLen < 0 {
			t.Fatalf("bad segment %+v", s)
		}
		n++
	}
	st := r.Stats()
	if st.TCP != n || st.TCP+st.SkippedTotal() != st.Packets {
		t.Fatalf("stats %+v do not add up with %d segments", st, n)
	}
	if err := r.Err(); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if !r.Gzip() && (e.Offset < 0 || e.Offset > int64(len(data))) {
			t.Fatalf("error offset %d outside the %d-byte input", e.Offset, len(data))
		}
		if !r.Gzip() && !errors.Is(err, ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error %v wraps neither ErrFormat nor io.ErrUnexpectedEOF", err)
		}
		if e.Packets != st.Packets {
			t.Fatalf("error after %d packets, stats say %d", e.Packets, st.Packets)
		}
	}
	if r.Next() {
		t.Fatal("Next returned true after the end")
	}
}

func labSeed(f *testing.F, name string, n int) {
	b, err := os.ReadFile(filepath.Join("testdata", "lab", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	if len(b) > n {
		f.Add(b[:n])
	}
}

func FuzzPcap(f *testing.F) {
	for _, link := range []LinkType{LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkRaw, LinkNull} {
		pkts, _ := testPackets(link)
		f.Add(pcapFile(false, false, link, pkts))
		f.Add(pcapFile(true, true, link, pkts))
	}
	pkts, _ := testPackets(LinkEthernet)
	file := pcapFile(false, false, LinkEthernet, pkts)
	f.Add(file[:len(file)-7])
	f.Add(gzipBytes(f, file))
	labSeed(f, "tsval-offsets.pcap.gz", 600)
	f.Fuzz(fuzzRead)
}

func FuzzPcapNG(f *testing.F) {
	ifaces := []ngIface{{link: LinkEthernet}, {link: LinkLinuxSLL2, snaplen: 64, tsresol: 9}, {link: LinkRaw, tsresol: 0x94, offset: 5}}
	for _, be := range []bool{false, true} {
		file := ngSection(be, ifaces)
		file = append(file, ngBlock(order(be), 5, make([]byte, 8))...)
		for i, fi := range ifaces {
			pkts, _ := testPackets(fi.link)
			for _, p := range pkts {
				p.iface = uint32(i)
				file = append(file, ngEPB(be, fi, p)...)
			}
			file = append(file, ngOPB(be, fi, capPacket{data: tcp4(FlagSYN, synOpts, 0), iface: uint32(i)})...)
		}
		file = append(file, ngSPB(be, capPacket{data: ether(etherIPv4, tcp4(FlagSYN, synOpts, 0))})...)
		file = append(file, ngSection(!be, ifaces[:1])...)
		file = append(file, ngSPB(!be, capPacket{data: ether(etherIPv4, tcp4(FlagSYN, synOpts, 0))})...)
		f.Add(file)
		f.Add(file[:len(file)/2])
	}
	f.Fuzz(fuzzRead)
}

func FuzzDecodePacket(f *testing.F) {
	for _, link := range []LinkType{LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkRaw, LinkNull, LinkLoop} {
		pkts, _ := testPackets(link)
		for _, p := range pkts {
			f.Add(uint32(link), p.data, p.wireLen())
		}
	}
	ext := []byte{60, 0, 1, 4, 0, 0, 0, 0, 51, 0, 0, 0, 0, 0, 0, 0, 6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}
	f.Add(uint32(LinkRaw), ipv6Packet(cli6.Addr(), srv6.Addr(), 0, ext, tcpHeader(cli6, srv6, FlagSYN, 1, 0, synOpts, 0)), 0)
	f.Add(uint32(LinkEthernet), ether(etherIPv4, tcp4(FlagSYN, synOpts, 0), 0x88a8, 0x8100), 0)
	f.Fuzz(func(t *testing.T, link uint32, data []byte, wire int) {
		s, reason, ok := DecodePacket(LinkType(link), data, wire)
		if !ok {
			if reason >= numSkipReasons {
				t.Fatalf("reason %d out of range", reason)
			}
			if s != (Segment{}) {
				t.Fatalf("skipped packet returned segment %+v", s)
			}
			return
		}
		if !s.Flow.Src.IsValid() || !s.Flow.Dst.IsValid() || s.PayloadLen < 0 {
			t.Fatalf("bad segment %+v", s)
		}
		if !s.HasTimestamp && (s.TSval != 0 || s.TSecr != 0) {
			t.Fatalf("timestamp values without the option: %+v", s)
		}
	})
}

// FuzzDecodeFast checks decodeEthernetFast against decodeGeneral: when the
// fast path accepts a packet it must produce what the general decoder
// does, and when it declines it must leave the segment untouched.
func FuzzDecodeFast(f *testing.F) {
	for _, link := range []LinkType{LinkEthernet} {
		pkts, _ := testPackets(link)
		for _, p := range pkts {
			f.Add(p.data, p.wireLen())
		}
	}
	f.Add(ether(etherIPv4, tcp4(FlagSYN, synOpts, 0), 0x8100), 0)
	f.Add(ether(etherIPv6, tcp6(FlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}, 10)), 0)
	f.Add(ether(etherIPv4, tcp4(FlagACK, nil, 10)), 0)
	// Packets of a generated capture: SYNs with and without timestamps,
	// data segments, IPv6, snap-length cuts.
	var buf bytes.Buffer
	if _, err := capgen.Write(&buf, capgen.Config{Seed: 5, Addresses: 20, Packets: 200, IPv6Share: 0.3, Snaplen: 70}); err != nil {
		f.Fatal(err)
	}
	for b := buf.Bytes()[24:]; len(b) >= 16; {
		incl, orig := int(binary.LittleEndian.Uint32(b[8:])), int(binary.LittleEndian.Uint32(b[12:]))
		f.Add(b[16:16+incl], orig)
		b = b[16+incl:]
	}
	f.Fuzz(func(t *testing.T, data []byte, wire int) {
		var fast, general Segment
		if !decodeEthernetFast(&fast, data) {
			if fast != (Segment{}) {
				t.Fatalf("declined packet, wrote %+v", fast)
			}
			return
		}
		reason, ok := decodeGeneral(&general, LinkEthernet, data, len(data) < wire)
		if !ok {
			t.Fatalf("fast path decoded %+v, general decoder skips it (%v)", fast, reason)
		}
		if fast != general {
			t.Fatalf("fast path %+v, general decoder %+v", fast, general)
		}
	})
}

// FuzzParseOptions checks the fast paths of parseOptions against the walk
// of the option list.
func FuzzParseOptions(f *testing.F) {
	f.Add(synOpts)
	f.Add([]byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6})
	f.Add([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7})
	f.Add([]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 4, 7})
	f.Add([]byte{1, 1, 8, 9, 0, 0, 0, 5, 0, 0, 0, 6})
	f.Fuzz(func(t *testing.T, opts []byte) {
		var fast, list Segment
		parseOptions(&fast, opts)
		parseOptionList(&list, opts)
		if fast != list {
			t.Fatalf("options % x: fast path %+v, option walk %+v", opts, fast, list)
		}
	})
}
