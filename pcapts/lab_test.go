package pcapts

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// labResult is the part of a lab result.json kept in testdata/lab.
type labResult struct {
	Pcap struct {
		SYNTotal        int `json:"syn_total"`
		BareACKs        int `json:"server_bare_acks_answering_syn"`
		SYNsWithoutTS   int `json:"syns_without_timestamp"`
		FlowsWithSYNACK int `json:"flows_with_synack"`
	} `json:"pcap"`
	Clocks *struct {
		BySource map[string]struct {
			SYNsWithTS int      `json:"syns_with_timestamp"`
			Distinct   int      `json:"distinct_tsval_clocks"`
			Offsets    []uint32 `json:"cluster_offsets"`
			SYNs       []int    `json:"cluster_syns"`
		} `json:"by_source_ip"`
	} `json:"tsval_clock_analysis"`
}

// labHost is what the analyser must find for one address of a lab run.
// The figures follow from the scenario (lab/README.md) and agree with
// the lab's counters, e.g. synq-pressure: 34 + 9 unanswered SYNs =
// ListenDrops 43.
type labHost struct {
	addr                                   string
	syns, retrans, answered, ack, unanswer int
	noTS                                   int
	regime                                 Regime
	clocks, minHosts                       int
}

func analyzeFile(t testing.TB, name string, cfg Config) (Report, Stats) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(cfg)
	for r.Next() {
		a.Add(r.Segment())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	a.Flush()
	return a.Report(), r.Stats()
}

func TestLabCaptures(t *testing.T) {
	tests := map[string][]labHost{
		"tsval-offsets": {
			{addr: "10.200.1.2", syns: 5, answered: 5, regime: RegimePerConnection, clocks: 5, minHosts: 1},
			{addr: "10.200.2.2", syns: 5, answered: 5, regime: RegimeSingleClock, clocks: 1, minHosts: 1},
			{addr: "10.200.3.2", syns: 5, answered: 5, regime: RegimeSingleClock, clocks: 1, minHosts: 1},
			{addr: "10.200.4.2", syns: 5, answered: 5, regime: RegimeSingleClock, clocks: 1, minHosts: 1},
		},
		"nat-mixed-clocks-no-recycle": {
			{addr: "10.200.0.1", syns: 200, answered: 200, regime: RegimePerConnection, clocks: 200, minHosts: 1},
		},
		"nat-mixed-clocks-no-recycle-hostclock": {
			{addr: "10.200.0.1", syns: 200, answered: 200, regime: RegimeMultipleClocks, clocks: 4, minHosts: 4},
		},
		"timestamps-off-mix": {
			{addr: "10.200.0.1", syns: 200, answered: 200, noTS: 50, regime: RegimeMixed, clocks: 150, minHosts: 2},
		},
		"timestamps-off-mix-hostclock": {
			{addr: "10.200.0.1", syns: 200, answered: 200, noTS: 50, regime: RegimeMixed, clocks: 3, minHosts: 4},
		},
		// 20 attempts through one NAT 4-tuple; 10 first SYNs PAWS-rejected
		// by the server's TIME_WAIT (PAWSTimewait 10) and sent again.
		"nat-timewait-paws": {
			{addr: "10.200.0.1", syns: 30, retrans: 10, answered: 20, ack: 10, regime: RegimePerConnection, clocks: 20, minHosts: 1},
		},
		"nat-timewait-paws-fixedport": {
			{addr: "10.200.0.1", syns: 29, retrans: 9, answered: 20, ack: 9, regime: RegimeMultipleClocks, clocks: 2, minHosts: 2},
		},
		// c2 sends no timestamps: 10 SYNs without the option (tshark agrees;
		// the lab's pcap.syns_without_timestamp of 29 counts every SYN).
		"nat-timewait-paws-c2-nots": {
			{addr: "10.200.0.1", syns: 29, retrans: 9, answered: 20, ack: 9, noTS: 10, regime: RegimeMixed, clocks: 1, minHosts: 2},
		},
		"nat-timewait-paws-rfc1337": {
			{addr: "10.200.0.1", syns: 22, retrans: 12, answered: 6, ack: 12, unanswer: 4, regime: RegimeMultipleClocks, clocks: 2, minHosts: 2},
		},
		// 5 accepted, 25 clients with 3 unanswered SYNs each (ListenDrops 75).
		"accept-overflow": {
			{addr: "10.200.1.2", syns: 80, retrans: 50, answered: 5, unanswer: 75, regime: RegimePerConnection, clocks: 30, minHosts: 1},
		},
		"synq-pressure": {
			{addr: "10.200.1.2", syns: 48, retrans: 24, answered: 14, unanswer: 34, regime: RegimePerConnection, clocks: 24, minHosts: 1},
			{addr: "10.200.2.2", syns: 4, answered: 4, regime: RegimePerConnection, clocks: 4, minHosts: 1},
			{addr: "10.200.3.2", syns: 9, retrans: 6, unanswer: 9, regime: RegimePerConnection, clocks: 3, minHosts: 1},
		},
	}
	for name, hosts := range tests {
		t.Run(name, func(t *testing.T) {
			rep, st := analyzeFile(t, filepath.Join("testdata", "lab", name+".pcap.gz"), Config{})
			raw, err := os.ReadFile(filepath.Join("testdata", "lab", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var lab labResult
			if err := json.Unmarshal(raw, &lab); err != nil {
				t.Fatal(err)
			}
			if st.SkippedTotal() != st.Packets-st.TCP || st.Skipped(SkipTruncated) != 0 {
				t.Errorf("stats %+v", st)
			}
			var syns, acks int
			byAddr := map[netip.Addr]Host{}
			for _, h := range rep.Hosts {
				syns += h.SYNs
				acks += h.ACKAnswered
				byAddr[h.Addr] = h
			}
			if syns != lab.Pcap.SYNTotal || acks != lab.Pcap.BareACKs {
				t.Errorf("%d SYNs, %d answered by a bare ACK; lab: %d, %d", syns, acks, lab.Pcap.SYNTotal, lab.Pcap.BareACKs)
			}
			if len(rep.Hosts) != len(hosts) {
				t.Errorf("%d addresses, want %d", len(rep.Hosts), len(hosts))
			}
			for _, w := range hosts {
				h := byAddr[netip.MustParseAddr(w.addr)]
				got := labHost{addr: w.addr, syns: h.SYNs, retrans: h.Retransmissions, answered: h.Answered, ack: h.ACKAnswered,
					unanswer: h.Unanswered, noTS: h.NoTimestampSYNs, regime: h.Regime, clocks: h.ClockCount, minHosts: h.MinHosts}
				if got != w {
					t.Errorf("got  %+v\nwant %+v", got, w)
				}
				if lab.Clocks == nil {
					continue
				}
				lc, ok := lab.Clocks.BySource[w.addr]
				if !ok {
					continue
				}
				if h.ClockCount != lc.Distinct {
					t.Errorf("%s: %d clocks, lab found %d", w.addr, h.ClockCount, lc.Distinct)
				}
				// The lab's offset is TSval − capture epoch ms; ours is the
				// TSval at the capture start, or at the first sample when
				// the rate is unknown.
				for i, off := range lc.Offsets {
					found := false
					for _, c := range h.Clocks {
						ref := uint32(rep.Start.UnixMilli())
						if c.Hz == 0 {
							ref = uint32(c.First.UnixMilli())
						}
						if d := int32(c.Offset - ref - off); d >= -25 && d <= 25 && c.SYNs == lc.SYNs[i] {
							found = true
						}
					}
					if !found {
						t.Errorf("%s: no clock with offset %d ± 25 ms and %d SYNs in %+v", w.addr, off, lc.SYNs[i], h.Clocks)
					}
				}
			}
		})
	}
}
