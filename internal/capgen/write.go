package capgen

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Link types, pcapng time stamp resolutions and offsets of the generated
// interfaces, by interface number modulo 4.
var (
	ifaceLink   = [4]uint16{1, 276, 101, 113}
	ifaceResol  = [4]byte{6, 9, 0x80 | 20, 4}
	ifaceOffset = [4]int64{0, 0, 1, 0}
)

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (g *gen) order16() byteOrder {
	if g.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (g *gen) fileHeader() error {
	o := g.order16()
	if g.cfg.Format != PcapNG {
		h := make([]byte, 24)
		magic := uint32(0xa1b2c3d4)
		if g.cfg.Format == PcapNano {
			magic = 0xa1b23c4d
		}
		o.PutUint32(h, magic)
		o.PutUint16(h[4:], 2)
		o.PutUint16(h[6:], 4)
		o.PutUint32(h[16:], uint32(g.cfg.Snaplen))
		o.PutUint32(h[20:], 1)
		_, err := g.bw.Write(h)
		return err
	}
	return g.section()
}

// section writes a section header block and the interface blocks.
func (g *gen) section() error {
	o := g.order16()
	b := make([]byte, 28)
	o.PutUint32(b, 0x0a0d0d0a)
	o.PutUint32(b[4:], 28)
	o.PutUint32(b[8:], 0x1a2b3c4d)
	o.PutUint16(b[12:], 1)
	o.PutUint64(b[16:], ^uint64(0))
	o.PutUint32(b[24:], 28)
	for i := range g.cfg.Interfaces {
		opts := make([]byte, 0, 32)
		opts = o.AppendUint16(opts, 9)
		opts = o.AppendUint16(opts, 1)
		opts = append(opts, ifaceResol[i%4], 0, 0, 0)
		if off := ifaceOffset[i%4]; off != 0 {
			opts = o.AppendUint16(opts, 14)
			opts = o.AppendUint16(opts, 8)
			opts = o.AppendUint64(opts, uint64(off))
		}
		opts = append(opts, 0, 0, 0, 0)
		n := 20 + len(opts)
		b = o.AppendUint32(b, 1)
		b = o.AppendUint32(b, uint32(n))
		b = o.AppendUint16(b, ifaceLink[i%4])
		b = o.AppendUint16(b, 0)
		b = o.AppendUint32(b, uint32(g.cfg.Snaplen))
		b = append(b, opts...)
		b = o.AppendUint32(b, uint32(n))
	}
	_, err := g.bw.Write(b)
	return err
}

// stamp converts an absolute time in ns to pcapng units of interface i.
func stamp(ns int64, i int) uint64 {
	ns -= ifaceOffset[i%4] * 1e9
	switch r := ifaceResol[i%4]; r {
	case 9:
		return uint64(ns)
	case 0x80 | 20:
		sec, frac := uint64(ns/1e9), uint64(ns%1e9)
		return sec<<20 | frac<<20/1e9
	default:
		return uint64(ns) / uint64(pow10(9-int(r)))
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func (g *gen) account(p *pkt) {
	if p.truth == nil || p.flags != 0x02 {
		return
	}
	t := p.truth
	t.SYNs++
	if p.retrans {
		t.Retransmissions++
	}
	switch p.out {
	case outNormal, outRetransmit:
		t.Answered++
	case outTimeWait:
		t.ACKAnswered++
	case outReset:
		t.RSTAnswered++
	default:
		t.Unanswered++
	}
}

func (g *gen) write(p *pkt) error {
	g.account(p)
	abs := g.cfg.Start.UnixNano() + p.t
	if g.written == 0 {
		g.truth.Start = time.Unix(0, abs)
	}
	g.truth.End = time.Unix(0, abs)
	iface := 0
	link := uint16(1)
	if g.cfg.Format == PcapNG {
		if g.sectionEvery > 0 && g.written > 0 && g.written%g.sectionEvery == 0 {
			g.be = !g.be
			if err := g.section(); err != nil {
				return fmt.Errorf("capgen: %w", err)
			}
		}
		iface = int(p.order % uint64(g.cfg.Interfaces))
		link = ifaceLink[iface%4]
	}
	frame, wire := g.encode(p, link)
	capLen := min(wire, g.cfg.Snaplen)
	for len(frame) < capLen {
		frame = append(frame, 0)
	}
	frame = frame[:capLen]
	o := g.order16()
	rec := g.rec[:0]
	if g.cfg.Format != PcapNG {
		sec, frac := abs/1e9, abs%1e9
		if g.cfg.Format == PcapMicro {
			frac /= 1000
		}
		rec = o.AppendUint32(rec, uint32(sec))
		rec = o.AppendUint32(rec, uint32(frac))
		rec = o.AppendUint32(rec, uint32(capLen))
		rec = o.AppendUint32(rec, uint32(wire))
		rec = append(rec, frame...)
	} else {
		pad := (4 - capLen%4) % 4
		n := 32 + capLen + pad
		ts := stamp(abs, iface)
		rec = o.AppendUint32(rec, 6)
		rec = o.AppendUint32(rec, uint32(n))
		rec = o.AppendUint32(rec, uint32(iface))
		rec = o.AppendUint32(rec, uint32(ts>>32))
		rec = o.AppendUint32(rec, uint32(ts))
		rec = o.AppendUint32(rec, uint32(capLen))
		rec = o.AppendUint32(rec, uint32(wire))
		rec = append(rec, frame...)
		rec = append(rec, make([]byte, pad)...)
		rec = o.AppendUint32(rec, uint32(n))
	}
	g.rec = rec
	g.written++
	if _, err := g.bw.Write(rec); err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	return nil
}

// encode builds the link, IP and TCP headers of p (without payload) and
// returns them with the frame's length on the wire.
func (g *gen) encode(p *pkt, link uint16) ([]byte, int) {
	b := g.buf[:0]
	v6 := p.src.Addr().Is6()
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86dd
	}
	switch link {
	case 1:
		b = append(b, 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2)
		if g.cfg.VLAN {
			b = binary.BigEndian.AppendUint16(b, 0x8100)
			b = binary.BigEndian.AppendUint16(b, 210)
		}
		b = binary.BigEndian.AppendUint16(b, etype)
	case 113:
		b = append(b, 0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0)
		b = binary.BigEndian.AppendUint16(b, etype)
	case 276:
		b = binary.BigEndian.AppendUint16(b, etype)
		b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0)
	}
	l2 := len(b)
	var opts []byte
	var ob [20]byte
	switch {
	case p.syn && p.hasTS:
		ob = [20]byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 10: 0, 18: 3, 19: 7}
		binary.BigEndian.PutUint32(ob[8:], p.tsval)
		binary.BigEndian.PutUint32(ob[12:], p.tsecr)
		ob[16], ob[17], ob[18], ob[19] = 1, 3, 3, 7
		opts = ob[:20]
	case p.syn:
		ob = [20]byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}
		opts = ob[:12]
	case p.hasTS:
		ob = [20]byte{1, 1, 8, 10}
		binary.BigEndian.PutUint32(ob[4:], p.tsval)
		binary.BigEndian.PutUint32(ob[8:], p.tsecr)
		opts = ob[:12]
	}
	tcpLen := 20 + len(opts)
	ipLen := tcpLen + p.payload
	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ipLen))
		b = append(b, 6, 64)
		s, d := p.src.Addr().As16(), p.dst.Addr().As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		ipLen += 40
	} else {
		ipLen += 20
		h := len(b)
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ipLen))
		b = binary.BigEndian.AppendUint16(b, uint16(p.order))
		b = append(b, 0x40, 0, 64, 6, 0, 0)
		s, d := p.src.Addr().As4(), p.dst.Addr().As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		var sum uint32
		for i := h; i < h+20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(b[h+10:], ^uint16(sum))
	}
	b = binary.BigEndian.AppendUint16(b, p.src.Port())
	b = binary.BigEndian.AppendUint16(b, p.dst.Port())
	b = binary.BigEndian.AppendUint32(b, p.seq)
	b = binary.BigEndian.AppendUint32(b, p.ack)
	b = append(b, byte(tcpLen/4)<<4, p.flags)
	b = binary.BigEndian.AppendUint16(b, 64240)
	b = append(b, 0, 0, 0, 0)
	b = append(b, opts...)
	g.buf = b
	return b, l2 + ipLen
}
