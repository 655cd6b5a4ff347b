package pcapts

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cmpAddrs compares netip values with ==.
var cmpAddrs = cmp.Options{
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

func wantSYN4() Segment {
	return Segment{
		Flow: Flow{Src: cli4, Dst: srv4}, Flags: FlagSYN, Seq: 1000, Window: 0xfaf0,
		TSval: 271344470, HasTimestamp: true, MSS: 1460, HasMSS: true, WindowScale: 7, HasWindowScale: true, SACKPermitted: true,
	}
}

func wantSYN6() Segment {
	s := wantSYN4()
	s.Flow = Flow{Src: cli6, Dst: srv6}
	s.Seq = 2000
	return s
}

func TestDecodePacket(t *testing.T) {
	syn4, syn6 := tcp4(FlagSYN, synOpts, 0), tcp6(FlagSYN, synOpts, 0)
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	be := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	data4 := tcp4(FlagACK|FlagPSH, []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6}, 300)
	wantData4 := Segment{Flow: Flow{Src: cli4, Dst: srv4}, Flags: FlagACK | FlagPSH, Seq: 1000, Window: 0xfaf0,
		TSval: 5, TSecr: 6, HasTimestamp: true, PayloadLen: 300}
	hbh := []byte{60, 0, 1, 4, 0, 0, 0, 0}           // hop-by-hop → dest opts, PadN
	dst := []byte{43, 0, 1, 4, 0, 0, 0, 0}           // dest opts → routing
	rt := []byte{51, 0, 0, 0, 0, 0, 0, 0}            // routing (segments left 0) → AH
	ah := []byte{6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1} // AH, payload len 1 → 12 bytes → TCP
	frag := []byte{6, 0, 0, 1, 0, 0, 0, 9}           // fragment header, MF
	noNext := []byte{59, 0, 1, 4, 0, 0, 0, 0}        // hop-by-hop → no next header
	ipv4MF := ipv4Packet(cli4.Addr(), srv4.Addr(), 6, nil, tcpHeader(cli4, srv4, FlagSYN, 1, 0, nil, 0))
	ipv4MF[6] = 0x20 // MF
	ipv4Later := ipv4Packet(cli4.Addr(), srv4.Addr(), 6, nil, make([]byte, 16))
	ipv4Later[7] = 0x10 // fragment offset 16×8
	badIHL := tcp4(FlagSYN, nil, 0)
	badIHL[0] = 0x44
	badOff := tcp4(FlagSYN, nil, 0)
	badOff[20+12] = 0x40
	withOpts := ipv4Packet(cli4.Addr(), srv4.Addr(), 6, []byte{1, 1, 1, 0}, tcpHeader(cli4, srv4, FlagSYN, 1000, 0, synOpts, 0))
	synTS6Off := 14 + 40 + 20 // Ethernet + IPv6 + fixed TCP header

	tests := []struct {
		name   string
		link   LinkType
		data   []byte
		wire   int // 0: len(data)
		want   Segment
		reason SkipReason
		ok     bool
	}{
		{name: "ethernet ipv4", link: LinkEthernet, data: ether(etherIPv4, syn4), want: wantSYN4(), ok: true},
		{name: "ethernet ipv4 data", link: LinkEthernet, data: ether(etherIPv4, data4), want: wantData4, ok: true},
		{name: "ethernet padding ignored", link: LinkEthernet, data: append(ether(etherIPv4, syn4), 0, 0, 0, 0), want: wantSYN4(), ok: true},
		{name: "ipv4 options", link: LinkEthernet, data: ether(etherIPv4, withOpts), want: wantSYN4(), ok: true},
		{name: "ethernet ipv6", link: LinkEthernet, data: ether(etherIPv6, syn6), want: wantSYN6(), ok: true},
		{name: "802.1Q", link: LinkEthernet, data: ether(etherIPv4, syn4, 0x8100), want: wantSYN4(), ok: true},
		{name: "QinQ 88a8", link: LinkEthernet, data: ether(etherIPv4, syn4, 0x88a8, 0x8100), want: wantSYN4(), ok: true},
		{name: "QinQ 9100", link: LinkEthernet, data: ether(etherIPv6, syn6, 0x9100, 0x8100), want: wantSYN6(), ok: true},
		{name: "too many tags", link: LinkEthernet, data: ether(etherIPv4, syn4, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100), reason: SkipMalformed},
		{name: "arp", link: LinkEthernet, data: ether(0x0806, make([]byte, 28)), reason: SkipNotIP},
		{name: "linux sll", link: LinkLinuxSLL, data: sll(etherIPv4, syn4), want: wantSYN4(), ok: true},
		{name: "linux sll2", link: LinkLinuxSLL2, data: sll2(etherIPv6, syn6), want: wantSYN6(), ok: true},
		{name: "raw 101 v4", link: LinkRaw, data: syn4, want: wantSYN4(), ok: true},
		{name: "raw 101 v6", link: LinkRaw, data: syn6, want: wantSYN6(), ok: true},
		{name: "raw 12", link: LinkRaw12, data: syn4, want: wantSYN4(), ok: true},
		{name: "raw 14", link: LinkRaw14, data: syn6, want: wantSYN6(), ok: true},
		{name: "ipv4 228", link: LinkIPv4, data: syn4, want: wantSYN4(), ok: true},
		{name: "ipv6 229", link: LinkIPv6, data: syn6, want: wantSYN6(), ok: true},
		{name: "raw not ip", link: LinkRaw, data: []byte{0x50, 0, 0}, reason: SkipNotIP},
		{name: "null little-endian AF_INET", link: LinkNull, data: append(le(2), syn4...), want: wantSYN4(), ok: true},
		{name: "null big-endian AF_INET6 darwin", link: LinkNull, data: append(be(30), syn6...), want: wantSYN6(), ok: true},
		{name: "null little-endian AF_INET6 linux", link: LinkNull, data: append(le(10), syn6...), want: wantSYN6(), ok: true},
		{name: "null unknown family", link: LinkNull, data: append(le(7), syn4...), reason: SkipNotIP},
		{name: "loop AF_INET", link: LinkLoop, data: append(be(2), syn4...), want: wantSYN4(), ok: true},
		{name: "loop AF_INET6 openbsd", link: LinkLoop, data: append(be(24), syn6...), want: wantSYN6(), ok: true},
		{name: "ipv6 ext headers", link: LinkEthernet, data: ether(etherIPv6, ipv6Packet(cli6.Addr(), srv6.Addr(), 0, append(append(append(append([]byte{}, hbh...), dst...), rt...), ah...), tcpHeader(cli6, srv6, FlagSYN, 2000, 0, synOpts, 0))), want: wantSYN6(), ok: true},
		{name: "ipv6 fragment", link: LinkEthernet, data: ether(etherIPv6, ipv6Packet(cli6.Addr(), srv6.Addr(), 44, frag, tcpHeader(cli6, srv6, FlagSYN, 2000, 0, nil, 0))), reason: SkipFragment},
		{name: "ipv6 esp", link: LinkRaw, data: ipv6Packet(cli6.Addr(), srv6.Addr(), 50, nil, make([]byte, 40)), reason: SkipNotTCP},
		{name: "ipv6 no next header", link: LinkRaw, data: ipv6Packet(cli6.Addr(), srv6.Addr(), 0, noNext, nil), reason: SkipNotTCP},
		{name: "ipv6 udp", link: LinkRaw, data: ipv6Packet(cli6.Addr(), srv6.Addr(), 17, nil, make([]byte, 8)), reason: SkipNotTCP},
		{name: "ipv4 udp", link: LinkRaw, data: ipv4Packet(cli4.Addr(), srv4.Addr(), 17, nil, make([]byte, 8)), reason: SkipNotTCP},
		{name: "ipv4 first fragment", link: LinkRaw, data: ipv4MF, reason: SkipFragment},
		{name: "ipv4 later fragment", link: LinkRaw, data: ipv4Later, reason: SkipFragment},
		{name: "ipv4 ihl below 5", link: LinkRaw, data: badIHL, reason: SkipMalformed},
		{name: "tcp data offset below 5", link: LinkRaw, data: badOff, reason: SkipMalformed},
		{name: "ipv4 bad version", link: LinkIPv4, data: syn6, reason: SkipMalformed},
		{name: "unsupported link", link: 147, data: syn4, reason: SkipLinkType},
		{name: "snaplen cut in tcp header", link: LinkEthernet, data: ether(etherIPv4, syn4)[:14+20+10], wire: 14 + len(syn4), reason: SkipTruncated},
		{name: "snaplen cut in ipv6 header", link: LinkEthernet, data: ether(etherIPv6, syn6)[:30], wire: 14 + len(syn6), reason: SkipTruncated},
		{name: "snaplen cut in ethernet header", link: LinkEthernet, data: ether(etherIPv6, syn6)[:10], wire: 14 + len(syn6), reason: SkipTruncated},
		{name: "short packet not cut", link: LinkEthernet, data: ether(etherIPv4, syn4)[:14+20+10], reason: SkipMalformed},
		{
			// The cut falls inside the TS option: MSS and SACK-permitted
			// were captured, the timestamp was not.
			name: "snaplen cut in options", link: LinkEthernet, data: ether(etherIPv6, syn6)[:synTS6Off+10], wire: 14 + len(syn6),
			want: Segment{Flow: Flow{Src: cli6, Dst: srv6}, Flags: FlagSYN, Seq: 2000, Window: 0xfaf0, MSS: 1460, HasMSS: true, SACKPermitted: true},
			ok:   true,
		},
		{
			name: "snaplen keeps a captured TS", link: LinkEthernet, data: ether(etherIPv4, data4)[:14+20+32], wire: 14 + len(data4),
			want: wantData4, ok: true,
		},
		{
			name: "bad option length stops parsing", link: LinkRaw, data: tcp4(FlagSYN, []byte{2, 4, 0x05, 0xb4, 99, 1, 0, 0}, 0),
			want: Segment{Flow: Flow{Src: cli4, Dst: srv4}, Flags: FlagSYN, Seq: 1000, Window: 0xfaf0, MSS: 1460, HasMSS: true}, ok: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := tt.wire
			if wire == 0 {
				wire = len(tt.data)
			}
			got, reason, ok := DecodePacket(tt.link, tt.data, wire)
			if ok != tt.ok {
				t.Fatalf("ok = %v (reason %v), want %v", ok, reason, tt.ok)
			}
			if !ok {
				if reason != tt.reason {
					t.Fatalf("reason = %v, want %v", reason, tt.reason)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got, cmpAddrs); diff != "" {
				t.Errorf("unexpected segment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{(FlagSYN | FlagACK).String(), "S."},
		{Flags(0).String(), "none"},
		{(FlagFIN | FlagPSH | FlagACK).String(), "FP."},
		{LinkLinuxSLL2.String(), "LINUX_SLL2"},
		{LinkType(999).String(), "LinkType(999)"},
		{SkipTruncated.String(), "truncated"},
		{SkipReason(200).String(), "SkipReason(200)"},
		{RegimePerConnection.String(), "per-connection-offsets"},
		{Regime(99).String(), "Regime(99)"},
		{OutcomeACK.String(), "ack"},
		{Outcome(9).String(), "Outcome(9)"},
		{FormatPcapNG.String(), "pcapng"},
		{Flow{Src: cli4, Dst: srv4}.String(), "10.201.0.2:40001 > 10.201.0.1:8080"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if !LinkLoop.Supported() || LinkType(147).Supported() {
		t.Error("Supported is wrong")
	}
}
