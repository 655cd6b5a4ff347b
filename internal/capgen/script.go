package capgen

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Packet is one packet of a scripted capture.
type Packet struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	// Flags are the TCP flags, with the header's bit values (SYN 0x02,
	// ACK 0x10, ...).
	Flags        uint8
	Seq, Ack     uint32
	HasTimestamp bool
	TSval, TSecr uint32
	Payload      int
}

// TCP flag values for Packet.Flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// WritePackets writes the given packets, in the given order, as a capture
// of format f with Ethernet framing and snap length 128.
func WritePackets(w io.Writer, f Format, pkts []Packet) error {
	g := &gen{
		cfg:   Config{Format: f, Interfaces: 1, Snaplen: 128, Start: time.Unix(0, 0)},
		bw:    bufio.NewWriterSize(w, 64<<10),
		buf:   make([]byte, 0, 2048),
		truth: &Truth{Addrs: map[netip.Addr]*Addr{}},
	}
	if f > PcapNG {
		return fmt.Errorf("capgen: unknown format %d", f)
	}
	if err := g.fileHeader(); err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	for i, p := range pkts {
		q := pkt{
			t: p.Time.UnixNano(), order: uint64(i), src: p.Src, dst: p.Dst, flags: p.Flags, seq: p.Seq, ack: p.Ack,
			tsval: p.TSval, tsecr: p.TSecr, hasTS: p.HasTimestamp, syn: p.Flags&SYN != 0, payload: p.Payload,
		}
		if err := g.write(&q); err != nil {
			return err
		}
	}
	if err := g.bw.Flush(); err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	return nil
}
