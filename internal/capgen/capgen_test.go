package capgen

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

func TestWriteDeterministic(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 1, Addresses: 10},
		{Seed: 1, Addresses: 10, Format: PcapNano, BigEndian: true, VLAN: true, IPv6Share: 0.5},
		{Seed: 1, Addresses: 10, Format: PcapNG, Interfaces: 4, Packets: 777, Sections: 2},
	} {
		var a, b bytes.Buffer
		ta, err := Write(&a, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(&b, cfg); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%+v: same config, different bytes", cfg)
		}
		if cfg.Packets != 0 && ta.Packets != cfg.Packets {
			t.Errorf("%d packets, want %d", ta.Packets, cfg.Packets)
		}
		syns := 0
		for _, x := range ta.Addrs {
			syns += x.SYNs
			if x.Answered+x.ACKAnswered+x.RSTAnswered+x.Unanswered != x.SYNs {
				t.Errorf("truth %+v does not add up", *x)
			}
		}
		if syns == 0 || len(ta.Addrs) != 10 || !ta.End.After(ta.Start) {
			t.Errorf("truth: %d SYNs, %d addresses, %v to %v", syns, len(ta.Addrs), ta.Start, ta.End)
		}
	}
}

func TestWriteRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{ConnsPerHost: 2}, {Snaplen: 20}, {IPv6Share: 2}, {Format: 9}, {Interfaces: 17}} {
		if _, err := Write(&bytes.Buffer{}, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestWritePackets(t *testing.T) {
	var buf bytes.Buffer
	p := Packet{Time: time.Unix(1700000000, 5000), Flags: SYN, Seq: 7, HasTimestamp: true, TSval: 99}
	p.Src = addrPort("10.0.0.2:1234")
	p.Dst = addrPort("10.0.0.1:80")
	if err := WritePackets(&buf, PcapMicro, []Packet{p}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// 24-byte header, 16-byte record header, 14 + 20 + 40 bytes of frame.
	if len(b) != 24+16+74 {
		t.Fatalf("%d bytes", len(b))
	}
	if sec, usec := binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint32(b[28:]); sec != 1700000000 || usec != 5 {
		t.Errorf("time %d.%06d", sec, usec)
	}
	tcp := b[40+14+20:]
	if tcp[13] != SYN || binary.BigEndian.Uint32(tcp[4:]) != 7 || binary.BigEndian.Uint32(tcp[28:]) != 99 {
		t.Errorf("tcp header % x", tcp[:40])
	}
}

func addrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
