package tcpdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
)

func readSeed(f *testing.F, path string) []byte {
	f.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzDecodeListeners feeds one datagram of a listener dump (netlink
// headers, inet_diag_msg, attributes) to the decoder, as a reply to a
// request with or without INET_DIAG_SKMEMINFO, and checks it against
// refListener.
func FuzzDecodeListeners(f *testing.F) {
	// Whole-message prefixes of the captures: the 49 KB IPv4 capture
	// itself would make every minimisation crawl.
	for _, path := range []string{"testdata/listeners_inet.bin", "testdata/listeners_inet6.bin"} {
		b := readSeed(f, path)
		done := b[len(b)-20:] // NLMSG_DONE
		f.Add(done, true)
		off := 0
		for range 3 {
			if len(b)-off < nlmsgHdrLen {
				break
			}
			off += align4(int(binary.NativeEndian.Uint32(b[off:])))
			f.Add(append(b[:off:off], done...), true)
			f.Add(append(b[:off:off], done...), false)
		}
	}
	// appendListener reuses spare capacity without zeroing it: decoding
	// over a stale element must give what decoding into a zeroed one does.
	stale := Listener{
		Local:       netip.MustParseAddrPort("[2001:db8::1]:9"),
		AcceptQueue: 1, Backlog: 2, Inode: 3, UID: 4, Interface: 5, Cookie: 6, Drops: 7, V6Only: true,
	}
	f.Fuzz(func(t *testing.T, b []byte, drops bool) {
		var ext uint8
		if drops {
			ext = skMemInfoExt
		}
		d := dump{op: "fuzz", seq: 1}
		err := d.datagram(b, func(p []byte, off int) error {
			fresh, err := appendListener(make([]Listener, 0, 1), p, off, ext)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("appendListener error %v does not wrap ErrMalformed", err)
			}
			if len(fresh) == 1 && (err != nil || !fresh[0].Local.IsValid()) {
				t.Fatalf("decoded %+v with error %v", fresh[0], err)
			}
			reused, err2 := appendListener([]Listener{stale}[:0], p, off, ext)
			if !slices.Equal(fresh, reused) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("over a stale element: %+v, %v; into a zeroed one: %+v, %v", reused, err2, fresh, err)
			}
			want, ok, refErr := refListener(p, ext)
			switch {
			case refErr != nil && err == nil && p[0] == afInet && !drops:
				// Attributes of no use to an IPv4 listener are not walked.
				if len(fresh) != 1 {
					t.Fatalf("got %d listeners from %x", len(fresh), p)
				}
			case (refErr != nil) != (err != nil):
				t.Fatalf("error %v, reference decoder %v", err, refErr)
			case ok != (len(fresh) == 1) || ok && fresh[0] != want:
				t.Fatalf("decoded %+v, reference decoder %+v (ok %v)", fresh, want, ok)
			}
			return err
		})
		_ = err
		_ = d.result()
	})
}

// refListener is a plain decoder of an inet_diag_msg payload, the
// reference for FuzzDecodeListeners: every attribute is walked and
// checked.
func refListener(b []byte, ext uint8) (Listener, bool, error) {
	switch {
	case len(b) < inetDiagMsgLen:
		return Listener{}, false, ErrMalformed
	case b[1] != tcpListen:
		return Listener{}, false, nil
	case b[0] != afInet && b[0] != afInet6:
		return Listener{}, false, ErrMalformed
	}
	ip, _ := netip.AddrFromSlice(b[8:24])
	if b[0] == afInet {
		ip = netip.AddrFrom4([4]byte(b[8:12]))
	}
	l := Listener{
		Local:       netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[4:])),
		Interface:   ne.Uint32(b[40:]),
		Cookie:      uint64(ne.Uint32(b[44:])) | uint64(ne.Uint32(b[48:]))<<32,
		AcceptQueue: ne.Uint32(b[56:]),
		Backlog:     ne.Uint32(b[60:]),
		UID:         ne.Uint32(b[64:]),
		Inode:       ne.Uint32(b[68:]),
	}
	a := attrs{b: b[inetDiagMsgLen:]}
	for a.next() {
		switch {
		case a.typ == inetDiagSKMemInfo && len(a.val)%4 != 0:
			return Listener{}, false, ErrMalformed
		case a.typ == inetDiagSKMemInfo && len(a.val) > skMemInfoDrops*4:
			l.Drops = ne.Uint32(a.val[skMemInfoDrops*4:])
		case a.typ == inetDiagSKV6Only && a.want("", 1):
			l.V6Only = a.val[0] != 0
		}
	}
	if a.err != nil {
		return Listener{}, false, a.err
	}
	if b[0] == afInet && ext&skMemInfoExt == 0 {
		// Not asked for, or not possible: appendListener does not walk.
		l.Drops, l.V6Only = 0, false
	}
	return l, true, nil
}

// FuzzDecodeMetrics feeds the attributes of one tcp_metrics entry to the
// decoder.
func FuzzDecodeMetrics(f *testing.F) {
	b := readSeed(f, "testdata/tcp_metrics.bin")
	for len(b) >= nlmsgHdrLen+4 {
		n := int(binary.NativeEndian.Uint32(b))
		if n < nlmsgHdrLen+4 || n > len(b) {
			break
		}
		f.Add(b[nlmsgHdrLen+4 : n])
		b = b[align4(n):]
	}
	f.Add(concat(
		attr(tcpMetricsAttrAddrIPv4, []byte{172, 16, 0, 13}),
		attr(tcpMetricsAttrTWTSVal, u32(3_000_000_000)),
		attr(tcpMetricsAttrTWTSStamp, u32(42)),
		attr(tcpMetricsAttrFOpenCookie, []byte{1, 2, 3, 4}),
		attr(tcpMetricsAttrVals|0x8000, attr(tcpMetricRTT, u32(25))),
	))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Metrics
		err := decodeMetrics(b, 0, &m)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if err == nil && !m.Peer.IsValid() {
			t.Fatalf("decoded an entry without a peer: %+v", m)
		}
		_ = m.Present.String()
	})
}

// FuzzWalkDirents feeds a getdents64 buffer to the directory walker.
func FuzzWalkDirents(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x18\x00\x0a12\x00\x00\x00"))
	f.Add(make([]byte, 24))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = walkDirents(b, func(name []byte) error {
			if len(name) == 0 && len(b) == 0 {
				t.Fatal("name from an empty buffer")
			}
			return nil
		})
	})
}

// FuzzParseProcText feeds the /proc text parsers: fd link targets and
// somaxconn.
func FuzzParseProcText(f *testing.F) {
	for _, s := range []string{"socket:[12345]", "pipe:[1]", "socket:[]", "4096\n", "-1", "socket:[99999999999999999999]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := parseSocketLink(b); ok && string(b) != "socket:["+uitoa(v)+"]" && b[len("socket:[")] != '0' {
			t.Fatalf("parseSocketLink(%q) = %d", b, v)
		}
		if _, err := parseSoMaxConn("somaxconn", b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseSoMaxConn error %v does not wrap ErrMalformed", err)
		}
	})
}

func uitoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(buf[i:])
		}
	}
}
