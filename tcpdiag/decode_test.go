package tcpdiag

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// attr encodes one netlink attribute, padded.
func attr(typ uint16, val []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }
func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }

func concat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestDecodeMetrics(t *testing.T) {
	peer6 := netip.MustParseAddr("2001:db8::7")
	for _, tc := range []struct {
		name string
		b    []byte
		want Metrics
		err  bool
	}{
		{
			// A 3.10 kernel with tcp_tw_recycle: keyed by peer only,
			// RTT in ms, and the TIME_WAIT timestamp per-host PAWS uses.
			name: "3.10 with TW timestamp",
			b: concat(
				attr(tcpMetricsAttrAddrIPv4, []byte{172, 16, 0, 13}),
				attr(tcpMetricsAttrAge, u64(12_345)),
				attr(tcpMetricsAttrTWTSVal, u32(3_000_000_000)),
				attr(tcpMetricsAttrTWTSStamp, u32(42)),
				attr(tcpMetricsAttrVals|0x8000, concat(
					attr(tcpMetricRTT, u32(25)),
					attr(tcpMetricRTTVar, u32(12)),
					attr(tcpMetricSSThresh, u32(7)),
					attr(tcpMetricCWnd, u32(10)),
					attr(tcpMetricReordering, u32(3)),
				)),
			),
			want: Metrics{
				Peer: netip.MustParseAddr("172.16.0.13"), Age: 12345 * time.Millisecond,
				RTT: 25 * time.Millisecond, RTTVar: 12 * time.Millisecond,
				SSThresh: 7, CWnd: 10, Reordering: 3,
				TWTSVal: 3_000_000_000, TWTSValAge: 42 * time.Second,
				Present: FieldRTT | FieldRTTVar | FieldSSThresh | FieldCWnd | FieldReordering | FieldTWTimestamp,
			},
		},
		{
			name: "IPv6 with fast open and an unknown metric",
			b: concat(
				attr(tcpMetricsAttrAddrIPv6, peer6.AsSlice()),
				attr(tcpMetricsAttrSAddrIPv6, netip.IPv6Loopback().AsSlice()),
				attr(tcpMetricsAttrVals, concat(
					attr(tcpMetricRTT, u32(2)),
					attr(tcpMetricRTTUS, u32(1500)),
					attr(42, u32(1)),
				)),
				attr(tcpMetricsAttrFOpenMSS, u16(1460)),
				attr(tcpMetricsAttrFOpenSynDrops, u16(2)),
				attr(tcpMetricsAttrFOpenSynDropTS, u64(500)),
				attr(tcpMetricsAttrFOpenCookie, []byte{1, 2, 3, 4, 5, 6, 7, 8}),
				attr(99, []byte("future")),
			),
			want: Metrics{
				Peer: peer6, Local: netip.IPv6Loopback(), RTT: 1500 * time.Microsecond,
				FastOpenMSS: 1460, FastOpenSYNDrops: 2, FastOpenSYNDropAge: 500 * time.Millisecond,
				FastOpenCookie: FastOpenCookie{b: [16]byte{1, 2, 3, 4, 5, 6, 7, 8}, n: 8},
				Present:        FieldRTT | FieldFastOpenMSS | FieldFastOpenDrops | FieldFastOpenCookie,
			},
		},
		{name: "no peer", b: attr(tcpMetricsAttrAge, u64(1)), err: true},
		{name: "short IPv4", b: attr(tcpMetricsAttrAddrIPv4, []byte{1, 2}), err: true},
		{name: "short age", b: concat(attr(tcpMetricsAttrAddrIPv4, []byte{1, 2, 3, 4}), attr(tcpMetricsAttrAge, u32(1))), err: true},
		{name: "long cookie", b: concat(attr(tcpMetricsAttrAddrIPv4, []byte{1, 2, 3, 4}), attr(tcpMetricsAttrFOpenCookie, make([]byte, 17))), err: true},
		{name: "bad nested", b: concat(attr(tcpMetricsAttrAddrIPv4, []byte{1, 2, 3, 4}), attr(tcpMetricsAttrVals, []byte{9, 0, 1, 0, 0})), err: true},
		{name: "short metric", b: concat(attr(tcpMetricsAttrAddrIPv4, []byte{1, 2, 3, 4}), attr(tcpMetricsAttrVals, attr(tcpMetricCWnd, u16(1)))), err: true},
		{name: "trailing bytes", b: concat(attr(tcpMetricsAttrAddrIPv4, []byte{1, 2, 3, 4}), []byte{1, 2}), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Metrics
			err := decodeMetrics(tc.b, 20, &m)
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Metrics is comparable.
			if m != tc.want {
				t.Errorf("Metrics:\n got %+v\nwant %+v", m, tc.want)
			}
		})
	}
}

func TestMetricsTWTimestampFresh(t *testing.T) {
	for _, tc := range []struct {
		m    Metrics
		want bool
	}{
		{Metrics{}, false},
		{Metrics{TWTSValAge: 60 * time.Second, Present: FieldTWTimestamp}, true},
		{Metrics{TWTSValAge: 61 * time.Second, Present: FieldTWTimestamp}, false},
		{Metrics{TWTSValAge: -3 * time.Second, Present: FieldTWTimestamp}, true},
	} {
		if got := tc.m.TWTimestampFresh(); got != tc.want {
			t.Errorf("%+v.TWTimestampFresh() = %v, want %v", tc.m, got, tc.want)
		}
	}
}

func TestListenerQueue(t *testing.T) {
	for _, tc := range []struct {
		queue, backlog uint32
		full           bool
		ratio          float64
	}{
		{0, 0, false, 0},
		{1, 0, true, 1},
		{4, 4, false, 0.8},
		{5, 4, true, 1},
		{64, 4096, false, 64.0 / 4097},
	} {
		l := Listener{AcceptQueue: tc.queue, Backlog: tc.backlog}
		if l.AcceptQueueFull() != tc.full || l.FillRatio() != tc.ratio {
			t.Errorf("%v: full %v ratio %v, want %v %v", l, l.AcceptQueueFull(), l.FillRatio(), tc.full, tc.ratio)
		}
	}
}

func TestMetricsFieldString(t *testing.T) {
	for f, want := range map[MetricsField]string{
		0:                           "none",
		FieldRTT | FieldTWTimestamp: "rtt|tw_ts",
		FieldFastOpenCookie | 1<<12: "fo_cookie|0x1000",
		FieldCWnd | FieldSSThresh:   "ssthresh|cwnd",
	} {
		if got := f.String(); got != want {
			t.Errorf("MetricsField(%#x).String() = %q, want %q", uint16(f), got, want)
		}
	}
}

func TestWalkDirents(t *testing.T) {
	rec := func(name string) []byte {
		n := (direntHdrLen + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		binary.NativeEndian.PutUint16(b[16:], uint16(n))
		copy(b[direntHdrLen:], name)
		return b
	}
	var got []string
	err := walkDirents(concat(rec("."), rec(".."), rec("0"), rec("12345")), func(name []byte) error {
		got = append(got, string(name))
		return nil
	})
	if err != nil || !cmp.Equal(got, []string{"0", "12345"}) {
		t.Errorf("walkDirents = %q, %v", got, err)
	}
	bad := rec("7")
	bad[direntHdrLen+1] = 'x' // no NUL left in the record
	for i := direntHdrLen + 1; i < len(bad); i++ {
		bad[i] = 'x'
	}
	for name, b := range map[string][]byte{
		"short":        rec("1")[:10],
		"zero length":  make([]byte, 24),
		"past end":     rec("1")[:20],
		"unterminated": bad,
	} {
		if err := walkDirents(b, func([]byte) error { return nil }); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error = %v, want ErrMalformed", name, err)
		}
	}
}

func TestParseSocketLink(t *testing.T) {
	for in, want := range map[string]uint64{
		"socket:[12345]":                12345,
		"socket:[0]":                    0,
		"socket:[18446744073709551615]": 1<<64 - 1,
		"socket:[18446744073709551616]": ^uint64(0) - 1, // overflow: rejected
		"socket:[]":                     ^uint64(0) - 1,
		"socket:[12a]":                  ^uint64(0) - 1,
		"pipe:[12]":                     ^uint64(0) - 1,
		"/dev/null":                     ^uint64(0) - 1,
		"socket:[1":                     ^uint64(0) - 1,
		"anon_inode:[eventpoll]":        ^uint64(0) - 1,
	} {
		got, ok := parseSocketLink([]byte(in))
		if wantOK := want != ^uint64(0)-1; ok != wantOK || (ok && got != want) {
			t.Errorf("parseSocketLink(%q) = %d, %v", in, got, ok)
		}
	}
}

func TestParseSoMaxConn(t *testing.T) {
	if v, err := parseSoMaxConn("somaxconn", []byte("4096\n")); err != nil || v != 4096 {
		t.Errorf("parseSoMaxConn(4096) = %d, %v", v, err)
	}
	for _, in := range []string{"", "-1\n", "abc", "99999999999"} {
		if _, err := parseSoMaxConn("/proc/sys/net/core/somaxconn", []byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseSoMaxConn(%q) error = %v, want ErrMalformed", in, err)
		}
	}
}
