package pcapts

import (
	"bytes"
	"testing"
	"time"

	"github.com/paws-go/paws/internal/capgen"
)

func TestGeneratedCaptures(t *testing.T) {
	configs := map[string]capgen.Config{
		"pcap-us":                 {Seed: 1, Addresses: 300},
		"pcap-ns-big-endian-vlan": {Seed: 2, Addresses: 300, Format: capgen.PcapNano, BigEndian: true, VLAN: true, IPv6Share: 0.3},
		"pcapng-4-interfaces":     {Seed: 3, Addresses: 300, Format: capgen.PcapNG, Interfaces: 4, IPv6Share: 0.5},
		"pcapng-long":             {Seed: 4, Addresses: 200, Format: capgen.PcapNG, BigEndian: true, Duration: 20 * time.Minute, ConnsPerHost: 4},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			truth, err := capgen.Write(&buf, cfg)
			if err != nil {
				t.Fatal(err)
			}
			segs, r, err := readAll(t, buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if st := r.Stats(); st.Packets != uint64(truth.Packets) || st.TCP != st.Packets {
				t.Fatalf("read %+v, generated %d packets", st, truth.Packets)
			}
			a := NewAnalyzer(Config{})
			for _, s := range segs {
				a.Add(s)
			}
			a.Flush()
			rep := a.Report()
			if len(rep.Hosts) != len(truth.Addrs) {
				t.Fatalf("%d addresses, want %d", len(rep.Hosts), len(truth.Addrs))
			}
			var hiding, exact int
			for _, h := range rep.Hosts {
				w := truth.Addrs[h.Addr]
				if h.SYNs != w.SYNs || h.Retransmissions != w.Retransmissions || h.Answered != w.Answered ||
					h.ACKAnswered != w.ACKAnswered || h.RSTAnswered != w.RSTAnswered || h.Unanswered != w.Unanswered {
					t.Errorf("%v (%v): SYN counts %+v, want %+v", h.Addr, w.Kind, h, *w)
				}
				switch w.Kind {
				case capgen.NAT:
					hiding++
					if h.ClockCount == w.Clocks && h.MinHosts == w.Hosts && h.Regime.String() == w.Kind.Regime() {
						exact++
					} else {
						t.Logf("%v hides %d hosts: found %d clocks, regime %v", h.Addr, w.Hosts, h.ClockCount, h.Regime)
					}
				case capgen.Single:
					if h.ClockCount != 1 || h.Regime != RegimeSingleClock {
						t.Errorf("%v is one host with one clock: found %d clocks, regime %v: %+v", h.Addr, h.ClockCount, h.Regime, h.Clocks)
					}
				default:
					if h.Regime.String() != w.Kind.Regime() {
						t.Errorf("%v (%v): regime %v, want %v", h.Addr, w.Kind, h.Regime, w.Kind.Regime())
					}
				}
				if w.Kind == capgen.Mixed && h.ClockCount-h.PerConnectionClocks != w.Clocks {
					t.Errorf("%v (mixed): %d per-host clocks, want %d", h.Addr, h.ClockCount-h.PerConnectionClocks, w.Clocks)
				}
			}
			if hiding == 0 || float64(exact) < 0.95*float64(hiding) {
				t.Errorf("clock count exact for %d of %d addresses hiding hosts, want ≥ 95%%", exact, hiding)
			}
			t.Logf("%d packets, %d addresses, clock count exact for %d of %d NAT addresses", truth.Packets, len(rep.Hosts), exact, hiding)
		})
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	cfg := capgen.Config{Seed: 42, Addresses: 20, Format: capgen.PcapNG, Interfaces: 3, Packets: 3000, Sections: 3}
	var a, b bytes.Buffer
	if _, err := capgen.Write(&a, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := capgen.Write(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	segs, r, err := readAll(t, a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 3000 || r.Stats().Packets != 3000 {
		t.Fatalf("%d segments, want 3000", len(segs))
	}
	cfg.Seed = 43
	var c bytes.Buffer
	if _, err := capgen.Write(&c, cfg); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same bytes")
	}
}
