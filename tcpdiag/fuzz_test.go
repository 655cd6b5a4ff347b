package tcpdiag

import (
	"encoding/binary"
	"errors"
	"os"
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
// headers, inet_diag_msg, attributes) to the decoder.
func FuzzDecodeListeners(f *testing.F) {
	// Whole-message prefixes of the captures: the 49 KB IPv4 capture
	// itself would make every minimisation crawl.
	for _, path := range []string{"testdata/listeners_inet.bin", "testdata/listeners_inet6.bin"} {
		b := readSeed(f, path)
		done := b[len(b)-20:] // NLMSG_DONE
		f.Add(done)
		off := 0
		for range 3 {
			if len(b)-off < nlmsgHdrLen {
				break
			}
			off += align4(int(binary.NativeEndian.Uint32(b[off:])))
			f.Add(append(b[:off:off], done...))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := dump{op: "fuzz", seq: 1}
		err := d.datagram(b, func(p []byte, off int) error {
			var l Listener
			ok, err := decodeListener(p, off, &l)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeListener error %v does not wrap ErrMalformed", err)
			}
			if ok && (err != nil || !l.Local.IsValid()) {
				t.Fatalf("decoded %+v with error %v", l, err)
			}
			return err
		})
		_ = err
		_ = d.result()
	})
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
