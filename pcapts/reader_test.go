package pcapts

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// testPackets returns packets of the given link type: a SYN, an ARP frame
// (skipped) for Ethernet, an IPv6 SYN and a data segment.
func testPackets(link LinkType) ([]capPacket, []Segment) {
	frame := func(p []byte, v6 bool) []byte {
		et := uint16(etherIPv4)
		if v6 {
			et = etherIPv6
		}
		switch link {
		case LinkEthernet:
			return ether(et, p)
		case LinkLinuxSLL:
			return sll(et, p)
		case LinkLinuxSLL2:
			return sll2(et, p)
		}
		return p
	}
	data := tcp4(FlagACK|FlagPSH, []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}, 300)
	wantData := Segment{Flow: Flow{Src: cli4, Dst: srv4}, Flags: FlagACK | FlagPSH, Seq: 1000, Window: 0xfaf0,
		TSval: 5, TSecr: 6, HasTimestamp: true, PayloadLen: 300}
	pkts := []capPacket{
		{link: link, time: t0, data: frame(tcp4(FlagSYN, synOpts, 0), false)},
		{link: link, time: t0.Add(1500 * time.Microsecond), data: frame(tcp6(FlagSYN, synOpts, 0), true)},
		{link: link, time: t0.Add(2 * time.Second), data: frame(data, false)[:len(frame(data, false))-250], wire: len(frame(data, false))},
	}
	if link == LinkEthernet {
		arp := capPacket{link: link, time: t0.Add(time.Millisecond), data: ether(0x0806, make([]byte, 28))}
		pkts = append(pkts[:1], append([]capPacket{arp}, pkts[1:]...)...)
	}
	w4, w6 := wantSYN4(), wantSYN6()
	w4.Time, w6.Time, wantData.Time = t0, t0.Add(1500*time.Microsecond), t0.Add(2*time.Second)
	return pkts, []Segment{w4, w6, wantData}
}

// truncTime drops precision below res from the expected segment times.
func truncTime(segs []Segment, res time.Duration) []Segment {
	out := append([]Segment(nil), segs...)
	for i := range out {
		out[i].Time = out[i].Time.Truncate(res)
	}
	return out
}

func TestReaderPcap(t *testing.T) {
	for _, link := range []LinkType{LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkRaw} {
		for _, be := range []bool{false, true} {
			for _, nano := range []bool{false, true} {
				name := link.String()
				if be {
					name += "/big-endian"
				}
				if nano {
					name += "/ns"
				}
				t.Run(name, func(t *testing.T) {
					pkts, want := testPackets(link)
					res := time.Microsecond
					if nano {
						res = time.Nanosecond
					}
					file := pcapFile(be, nano, link, pkts)
					for _, gz := range []bool{false, true} {
						b := file
						if gz {
							b = gzipBytes(t, file)
						}
						got, r, err := readAll(t, b)
						if err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(truncTime(want, res), got, cmpAddrs); diff != "" {
							t.Fatalf("gzip=%v: unexpected segments (-want +got):\n%s", gz, diff)
						}
						if r.Format() != FormatPcap || r.LinkType() != link || r.Gzip() != gz {
							t.Errorf("format %v link %v gzip %v", r.Format(), r.LinkType(), r.Gzip())
						}
						st := r.Stats()
						if st.Packets != uint64(len(pkts)) || st.TCP != 3 || st.Bytes != int64(len(file)) {
							t.Errorf("stats %+v, want %d packets, 3 TCP, %d bytes", st, len(pkts), len(file))
						}
						if link == LinkEthernet && st.Skipped(SkipNotIP) != 1 {
							t.Errorf("skipped %v, want one not-ip", st.SkippedByReason())
						}
					}
				})
			}
		}
	}
}

func TestReaderPcapNG(t *testing.T) {
	ifaces := []ngIface{
		{link: LinkEthernet, snaplen: 262144},             // µs by default
		{link: LinkLinuxSLL2, snaplen: 128, tsresol: 9},   // ns
		{link: LinkRaw, tsresol: 0x80 | 20, offset: 3600}, // 2^-20 s, +1 h
		{link: LinkLinuxSLL, tsresol: 3},                  // ms
	}
	res := []time.Duration{time.Microsecond, time.Nanosecond, time.Nanosecond, time.Millisecond}
	for _, be := range []bool{false, true} {
		var file []byte
		var want []Segment
		file = append(file, ngSection(be, ifaces)...)
		o := order(be)
		// An unknown block (name resolution) before the packets.
		file = append(file, ngBlock(o, 4, []byte{0, 0, 0, 0})...)
		for i, f := range ifaces {
			pkts, w := testPackets(f.link)
			w = truncTime(w, res[i])
			for j, p := range pkts {
				p.iface = uint32(i)
				if i == 3 && j == 0 {
					file = append(file, ngOPB(be, f, p)...)
					continue
				}
				file = append(file, ngEPB(be, f, p)...)
			}
			for j := range w {
				w[j].Interface = uint32(i)
			}
			want = append(want, w...)
		}
		// A second section in the other byte order with one interface and
		// a simple packet block cut to the snap length.
		file = append(file, ngSection(!be, []ngIface{{link: LinkRaw, snaplen: 48}})...)
		file = append(file, ngSPB(!be, capPacket{data: tcp4(FlagSYN, synOpts, 0)})...)
		w := wantSYN4()
		w.SACKPermitted, w.TSval, w.HasTimestamp, w.WindowScale, w.HasWindowScale = true, 0, false, 0, false
		want = append(want, w)

		got, r, err := readAll(t, file)
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != FormatPcapNG {
			t.Errorf("format %v", r.Format())
		}
		// Interface 2 stamps are compared separately: 2^-20 s units.
		for i := range got {
			if got[i].Interface == 2 && i < len(want) {
				exact := want[i].Time
				if d := got[i].Time.Sub(exact); d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("be=%v: interface 2 time %v, want %v ± 1µs", be, got[i].Time, exact)
				}
				got[i].Time = want[i].Time
			}
		}
		if diff := cmp.Diff(want, got, cmpAddrs); diff != "" {
			t.Fatalf("be=%v: unexpected segments (-want +got):\n%s", be, diff)
		}
	}
}

func TestReaderPcapNGTimeResolutions(t *testing.T) {
	ts := time.Date(2020, 1, 2, 3, 4, 5, 678901234, time.UTC)
	for _, c := range []struct {
		resol  byte
		offset int64
		want   time.Time
	}{
		{6, 0, ts.Truncate(time.Microsecond)},
		{9, 0, ts},
		{3, -10, ts.Truncate(time.Millisecond)},
		{0x80 | 10, 0, ts.Truncate(time.Second).Add(678710937 * time.Nanosecond)}, // 695/1024 s
		{0, 0, ts.Truncate(time.Second)},                                          // 10^0: seconds
		{10, 0, ts},                                                               // 0.1 ns
	} {
		f := ngIface{link: LinkRaw, tsresol: c.resol, offset: c.offset}
		var units uint64
		switch {
		case c.resol == 10:
			units = uint64(ts.UnixNano()) * 10
		case c.resol == 0:
			units = uint64(ts.Unix())
		default:
			units = ngUnits(ts, f)
		}
		o := order(false)
		body := o.AppendUint32(nil, 0)
		body = o.AppendUint32(body, uint32(units>>32))
		body = o.AppendUint32(body, uint32(units))
		p := tcp4(FlagSYN, nil, 0)
		body = o.AppendUint32(body, uint32(len(p)))
		body = o.AppendUint32(body, uint32(len(p)))
		file := append(ngSection(false, []ngIface{{link: LinkRaw, tsresol: c.resol, offset: c.offset}}), ngBlock(o, 6, append(body, p...))...)
		if c.resol == 0 {
			// tsresol 0 must be written explicitly (0 means default to the builder).
			file = append(ngSection(false, nil), ngBlock(o, 1, []byte{101, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})...)
			file = append(file, ngBlock(o, 6, append(body, p...))...)
		}
		got, _, err := readAll(t, file)
		if err != nil || len(got) != 1 {
			t.Fatalf("resol %#x: %v, %d segments", c.resol, err, len(got))
		}
		if !got[0].Time.Equal(c.want) {
			t.Errorf("resol %#x offset %d: time %v, want %v", c.resol, c.offset, got[0].Time.UTC(), c.want)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	pkts, _ := testPackets(LinkEthernet)
	pcap := pcapFile(false, false, LinkEthernet, pkts)
	rec0 := 24 + 16 + len(pkts[0].data) // offset of the second record
	hugeLen := append([]byte(nil), pcap...)
	copy(hugeLen[rec0+8:], []byte{0xff, 0xff, 0xff, 0x7f})

	ng := append(ngSection(false, []ngIface{{link: LinkEthernet}}), ngEPB(false, ngIface{}, pkts[0])...)
	epb := len(ng)
	ng = append(ng, ngEPB(false, ngIface{}, pkts[2])...)
	ngBadLen := append([]byte(nil), ng...)
	copy(ngBadLen[epb+4:], []byte{0x0d, 0, 0, 0}) // 13: not a multiple of 4
	ngHuge := append([]byte(nil), ng...)
	copy(ngHuge[epb+4:], []byte{0, 0, 0, 0x40})
	ngTrailer := append([]byte(nil), ng...)
	ngTrailer[len(ngTrailer)-4]++
	ngIface9 := append([]byte(nil), ng...)
	ngIface9[epb+8] = 9
	ngCaplen := append([]byte(nil), ng...)
	copy(ngCaplen[epb+20:], []byte{0xff, 0xff, 0, 0})

	tests := []struct {
		name     string
		file     []byte
		segments int
		offset   int64
		is       error
	}{
		{"pcap cut in record header", pcap[:rec0+7], 1, int64(rec0), io.ErrUnexpectedEOF},
		{"pcap cut in packet data", pcap[:rec0+20], 1, int64(rec0), io.ErrUnexpectedEOF},
		{"pcap enormous captured length", hugeLen, 1, int64(rec0), ErrFormat},
		{"pcapng cut in block", ng[:len(ng)-3], 1, int64(epb), io.ErrUnexpectedEOF},
		{"pcapng cut in block header", ng[:epb+5], 1, int64(epb), io.ErrUnexpectedEOF},
		{"pcapng block length not a multiple of 4", ngBadLen, 1, int64(epb), ErrFormat},
		{"pcapng enormous block length", ngHuge, 1, int64(epb), ErrFormat},
		{"pcapng trailing length mismatch", ngTrailer, 1, int64(epb), ErrFormat},
		{"pcapng unknown interface", ngIface9, 1, int64(epb), ErrFormat},
		{"pcapng captured length beyond block", ngCaplen, 1, int64(epb), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, gz := range []bool{false, true} {
				b := tt.file
				if gz {
					b = gzipBytes(t, b)
				}
				segs, _, err := readAll(t, b)
				if !errors.Is(err, tt.is) {
					t.Fatalf("gzip=%v: err = %v, want %v", gz, err, tt.is)
				}
				var e *Error
				if !errors.As(err, &e) || e.Offset != tt.offset {
					t.Fatalf("gzip=%v: err = %v, want offset %d", gz, err, tt.offset)
				}
				if len(segs) != tt.segments || e.Packets != uint64(tt.segments) {
					t.Errorf("gzip=%v: %d segments, %d packets before the error, want %d", gz, len(segs), e.Packets, tt.segments)
				}
			}
		})
	}
}

func TestNewReaderErrors(t *testing.T) {
	pcapV3 := pcapFile(false, false, LinkRaw, nil)
	pcapV3[4] = 3
	ngV2 := ngSection(false, nil)
	ngV2[12] = 2
	for _, c := range []struct {
		name string
		file []byte
		is   error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"short", []byte{0xd4, 0xc3}, io.ErrUnexpectedEOF},
		{"text", []byte("GET / HTTP/1.1\r\n"), ErrFormat},
		{"pcap header cut", pcapV3[:20], io.ErrUnexpectedEOF},
		{"pcap version 3", pcapV3, ErrFormat},
		{"pcapng bad byte-order magic", append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, 1, 2, 3, 4), ErrFormat},
		{"gzip garbage", []byte{0x1f, 0x8b, 0, 0}, ErrFormat},
	} {
		_, err := NewReader(bytes.NewReader(c.file))
		if !errors.Is(err, c.is) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.is)
		}
	}
	// A pcapng section header with an unsupported version fails on Next.
	_, _, err := readAll(t, ngV2)
	if !errors.Is(err, ErrFormat) {
		t.Errorf("pcapng version 2: err = %v, want ErrFormat", err)
	}
}

type failingReader struct {
	b   []byte
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, f.err
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

func TestReaderUnderlyingError(t *testing.T) {
	pkts, _ := testPackets(LinkRaw)
	file := pcapFile(false, false, LinkRaw, pkts)
	boom := errors.New("disk on fire")
	r, err := NewReader(&failingReader{b: file[:len(file)-5], err: boom})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n++
	}
	if !errors.Is(r.Err(), boom) || n != 2 {
		t.Fatalf("err = %v after %d segments, want %v after 2", r.Err(), n, boom)
	}
	if r.Next() {
		t.Error("Next after an error returned true")
	}
}

// loopReader repeats a capture body forever after its header.
type loopReader struct {
	head, body []byte
	off        int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	if len(l.head) > 0 {
		n = copy(p, l.head)
		l.head = l.head[n:]
	}
	for n < len(p) {
		m := copy(p[n:], l.body[l.off:])
		n += m
		l.off = (l.off + m) % len(l.body)
	}
	return n, nil
}

func TestReaderNoAllocs(t *testing.T) {
	for _, format := range []string{"pcap", "pcapng"} {
		pkts, _ := testPackets(LinkEthernet)
		var head, body []byte
		if format == "pcap" {
			head = pcapFile(false, true, LinkEthernet, nil)
			body = pcapFile(false, true, LinkEthernet, pkts)[24:]
		} else {
			head = ngSection(true, []ngIface{{link: LinkEthernet, tsresol: 9}})
			for _, p := range pkts {
				body = append(body, ngEPB(true, ngIface{tsresol: 9}, p)...)
			}
		}
		r, err := NewReader(&loopReader{head: head, body: body})
		if err != nil {
			t.Fatal(err)
		}
		for range 1000 { // warm up
			r.Next()
		}
		allocs := testing.AllocsPerRun(10000, func() {
			if !r.Next() {
				t.Fatal(r.Err())
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per segment, want 0", format, allocs)
		}
	}
}

// TestReaderAllocationCap checks that lengths declared by a file never
// make the Reader allocate beyond its fixed buffer.
func TestReaderAllocationCap(t *testing.T) {
	pkts, _ := testPackets(LinkRaw)
	pcap := pcapFile(false, false, LinkRaw, pkts)
	copy(pcap[24+8:], []byte{0, 0, 0x10, 0}) // captured length 1 MiB
	ng := ngSection(false, []ngIface{{link: LinkRaw}})
	ng = append(ng, 6, 0, 0, 0, 0, 0, 0, 0x7f) // block length 2 GiB
	ng = append(ng, make([]byte, 64)...)
	for name, file := range map[string][]byte{"pcap": pcap, "pcapng": ng} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := readAll(t, file)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > bufferSize+64<<10 {
			t.Errorf("%s: allocated %d bytes, cap is %d", name, got, bufferSize+64<<10)
		}
	}
}

// TestReaderLargeRecords reads packets larger than the initial buffer.
func TestReaderLargeRecords(t *testing.T) {
	big := tcp4(FlagACK, nil, MaxPacketLength-60)
	pkts := []capPacket{{time: t0, data: big}, {time: t0, data: tcp4(FlagSYN, synOpts, 0)}, {time: t0, data: big}}
	for name, file := range map[string][]byte{
		"pcap":   pcapFile(false, false, LinkRaw, pkts),
		"pcapng": append(append(ngSection(true, []ngIface{{link: LinkRaw}}), ngEPB(true, ngIface{}, pkts[0])...), ngEPB(true, ngIface{}, pkts[1])...),
	} {
		segs, _, err := readAll(t, file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(segs) < 2 || segs[0].Flags != FlagACK || !segs[1].HasTimestamp {
			t.Errorf("%s: %d segments: %+v", name, len(segs), segs)
		}
	}
}
