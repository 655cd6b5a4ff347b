package pcapts_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/capgen"
	"github.com/paws-go/paws/pcapts"
)

// tv1Capture builds the capture of test vector TV1 (kernel-paws spec §13):
// two hosts behind 172.16.0.13; host A's connection is closed by the
// server first, which caches A's last TSval; host B's SYN and its four
// retransmissions carry TSvals from an unrelated, smaller clock; A
// connects again 10 s later.
func tv1Capture(t testing.TB) []byte {
	t.Helper()
	w0 := time.Unix(1700000000, 0)
	at := func(s float64) time.Time { return w0.Add(time.Duration(s * float64(time.Second))) }
	srv := netip.MustParseAddrPort("10.0.0.1:80")
	a1 := netip.MustParseAddrPort("172.16.0.13:51000")
	a2 := netip.MustParseAddrPort("172.16.0.13:51002")
	b := netip.MustParseAddrPort("172.16.0.13:40001")
	const isnA, isnS, isnB, isnA2 = 1000, 50000, 7000, 9000
	p := func(s float64, src, dst netip.AddrPort, flags uint8, seq, ack, tsval, tsecr uint32, payload int) capgen.Packet {
		return capgen.Packet{Time: at(s), Src: src, Dst: dst, Flags: flags, Seq: seq, Ack: ack, HasTimestamp: true, TSval: tsval, TSecr: tsecr, Payload: payload}
	}
	pkts := []capgen.Packet{
		p(0.000, a1, srv, capgen.SYN, isnA, 0, 2088983548, 0, 0),
		p(0.001, srv, a1, capgen.SYN|capgen.ACK, isnS, isnA+1, 5000, 2088983548, 0),
		p(0.002, a1, srv, capgen.ACK, isnA+1, isnS+1, 2088983550, 5000, 0),
		p(0.100, a1, srv, capgen.PSH|capgen.ACK, isnA+1, isnS+1, 2088983648, 5000, 100),
		p(0.200, srv, a1, capgen.PSH|capgen.ACK, isnS+1, isnA+101, 5200, 2088983648, 500),
		p(0.299, srv, a1, capgen.FIN|capgen.ACK, isnS+501, isnA+101, 5299, 2088983648, 0),
		p(0.300, a1, srv, capgen.FIN|capgen.ACK, isnA+101, isnS+502, 2088983950, 5299, 0),
		p(0.301, srv, a1, capgen.ACK, isnS+502, isnA+102, 5301, 2088983950, 0),
		p(1.000, b, srv, capgen.SYN, isnB, 0, 271344470, 0, 0),
		p(2.074, b, srv, capgen.SYN, isnB, 0, 271345544, 0, 0),
		p(3.142, b, srv, capgen.SYN, isnB, 0, 271346612, 0, 0),
		p(5.039, b, srv, capgen.SYN, isnB, 0, 271348509, 0, 0),
		p(8.296, b, srv, capgen.SYN, isnB, 0, 271351766, 0, 0),
		p(10.005, a2, srv, capgen.SYN, isnA2, 0, 2088993553, 0, 0),
		p(10.006, srv, a2, capgen.SYN|capgen.ACK, isnS+9000, isnA2+1, 15000, 2088993553, 0),
	}
	var buf bytes.Buffer
	if err := capgen.WritePackets(&buf, capgen.PcapMicro, pkts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// explainCapture runs a capture through an Analyzer with an evaluator of
// kernel, with sysctls set, and returns the SYNs and the report.
func explainCapture(t testing.TB, capture []byte, kernel string, sysctls map[string]int) ([]pcapts.SYN, pcapts.Report) {
	t.Helper()
	p := paws.ProfileFor(paws.MustParseKernelVersion(kernel))
	s := paws.DefaultSettings(p)
	for k, v := range sysctls {
		if err := s.SetSysctl(k, v); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := paws.NewEvaluator(paws.Config{
		Profile: p, Settings: s, Start: paws.TimeOf(time.Unix(1700000000, 0)),
		Listener: paws.Listener{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Backlog: 128},
	})
	if err != nil {
		t.Fatal(err)
	}
	var syns []pcapts.SYN
	a := pcapts.NewAnalyzer(pcapts.Config{Evaluator: ev, OnSYN: func(s pcapts.SYN) { syns = append(syns, s) }})
	r, err := pcapts.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		a.Add(r.Segment())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	a.Flush()
	// OnSYN sees a SYN when its outcome is known; list them in capture order.
	slices.SortStableFunc(syns, func(x, y pcapts.SYN) int { return x.Time.Compare(y.Time) })
	return syns, a.Report()
}

type tv1Row struct {
	seq       int
	tsval     uint32
	observed  pcapts.Outcome
	predicted pcapts.Outcome
	cause     pcapts.Cause
	cached    uint32
}

func TestExplainTV1(t *testing.T) {
	capture := tv1Capture(t)
	const P = 2088983950 // A's last TSval, cached when the server closed A's connection
	ans, un := pcapts.OutcomeAnswered, pcapts.OutcomeUnanswered
	tests := []struct {
		kernel string
		want   []tv1Row
	}{
		{"3.10.105", []tv1Row{
			{1, 2088983548, ans, ans, pcapts.CauseNone, 0},
			{2, 271344470, un, un, pcapts.CausePerHostPAWS, P},
			{3, 271345544, un, un, pcapts.CausePerHostPAWS, P},
			{4, 271346612, un, un, pcapts.CausePerHostPAWS, P},
			{5, 271348509, un, un, pcapts.CausePerHostPAWS, P},
			{6, 271351766, un, un, pcapts.CausePerHostPAWS, P},
			{7, 2088993553, ans, ans, pcapts.CauseNone, 0},
		}},
		{"3.10.0-1160.el7.x86_64", nil}, // same as 3.10.105
		// tcp_tw_recycle no longer exists: every SYN is predicted answered,
		// so B's are lost outside the server as far as the model knows.
		{"4.12.0", []tv1Row{
			{1, 2088983548, ans, ans, pcapts.CauseNone, 0},
			{2, 271344470, un, ans, pcapts.CauseNotExplained, 0},
			{3, 271345544, un, ans, pcapts.CauseNotExplained, 0},
			{4, 271346612, un, ans, pcapts.CauseNotExplained, 0},
			{5, 271348509, un, ans, pcapts.CauseNotExplained, 0},
			{6, 271351766, un, ans, pcapts.CauseNotExplained, 0},
			{7, 2088993553, ans, ans, pcapts.CauseNone, 0},
		}},
	}
	for i, tt := range tests {
		if tt.want == nil {
			tt.want = tests[i-1].want
		}
		t.Run(tt.kernel, func(t *testing.T) {
			sysctls := map[string]int{}
			if tt.kernel != "4.12.0" {
				sysctls[paws.SysctlTCPTwRecycle] = 1
			}
			syns, rep := explainCapture(t, capture, tt.kernel, sysctls)
			if len(syns) != len(tt.want) {
				t.Fatalf("%d SYNs, want %d", len(syns), len(tt.want))
			}
			for i, s := range syns {
				e := s.Explanation
				got := tv1Row{i + 1, s.TSval, s.Observed, e.Predicted, e.Cause, 0}
				if e.HasCached {
					got.cached = uint32(e.Cached)
				}
				if got != tt.want[i] || !e.Valid {
					t.Errorf("SYN %d: got %+v, want %+v (%s)", i+1, got, tt.want[i], e.Text)
				}
			}
			h := rep.Hosts[0]
			if len(rep.Hosts) != 1 || h.SYNs != 7 || h.Retransmissions != 4 || h.Answered != 2 || h.Unanswered != 5 ||
				h.TSRegressions != 1 || h.Regime != pcapts.RegimeMultipleClocks || h.MinHosts != 2 {
				t.Errorf("host report %+v", rep.Hosts)
			}
		})
	}
}

// ExampleAnalyzer_explain replays test vector TV1 of the spec: two hosts
// behind one NAT address, a kernel 3.10 server with tcp_tw_recycle=1.
func ExampleAnalyzer_explain() {
	capture := tv1Capture(&testing.T{})
	syns, _ := explainCapture(&testing.T{}, capture, "3.10.105", map[string]int{paws.SysctlTCPTwRecycle: 1})
	for i, s := range syns {
		line := fmt.Sprintf("%d %-21v TSval %-10d %-10v predicted %-10v %v", i+1, s.Flow.Src, s.TSval, s.Observed, s.Explanation.Predicted, s.Explanation.Cause)
		fmt.Println(strings.TrimSpace(line))
	}
	// Output:
	// 1 172.16.0.13:51000     TSval 2088983548 answered   predicted answered
	// 2 172.16.0.13:40001     TSval 271344470  unanswered predicted unanswered per-host-paws
	// 3 172.16.0.13:40001     TSval 271345544  unanswered predicted unanswered per-host-paws
	// 4 172.16.0.13:40001     TSval 271346612  unanswered predicted unanswered per-host-paws
	// 5 172.16.0.13:40001     TSval 271348509  unanswered predicted unanswered per-host-paws
	// 6 172.16.0.13:40001     TSval 271351766  unanswered predicted unanswered per-host-paws
	// 7 172.16.0.13:51002     TSval 2088993553 answered   predicted answered
}

// TestExplainLabCaptures checks the predictions against what the kernel
// did in the lab (6.18.44): every SYN's observed outcome must be the
// predicted one, and the causes must match the lab's counters
// (PAWSTimewait, ListenOverflows, ListenDrops).
func TestExplainLabCaptures(t *testing.T) {
	tests := []struct {
		name     string
		listener string
		backlog  int
		sysctls  map[string]int
		causes   map[pcapts.Cause]int
	}{
		// PAWSTimewait 10 in the lab.
		{"nat-timewait-paws", "10.200.0.2:8080", 4096, nil, map[pcapts.Cause]int{pcapts.CauseTimeWaitPAWS: 10}},
		{"nat-timewait-paws-fixedport", "10.200.0.2:8080", 4096, nil, map[pcapts.Cause]int{pcapts.CauseTimeWaitPAWS: 9}},
		// c2 sends no timestamps: its TIME_WAIT rejections are decided by
		// sequence number and move no PAWS counter.
		{"nat-timewait-paws-c2-nots", "10.200.0.2:8080", 4096, nil, map[pcapts.Cause]int{pcapts.CauseTimeWait: 9}},
		{"nat-timewait-paws-rfc1337", "10.200.0.2:8080", 4096, map[string]int{paws.SysctlTCPRFC1337: 1}, nil},
		{"accept-overflow", "10.200.0.2:8080", 4, nil, map[pcapts.Cause]int{pcapts.CauseAcceptQueueFull: 75}},
		{"synq-pressure", "10.200.0.2:8080", 64, map[string]int{paws.SysctlTCPMaxSynBacklog: 8, paws.SysctlTCPSyncookies: 0}, map[pcapts.Cause]int{pcapts.CauseUnprovenPeer: 43}},
		{"timestamps-off-mix", "10.200.0.2:8080", 4096, nil, map[pcapts.Cause]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "lab", tt.name+".pcap.gz"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := pcapts.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			p := paws.ProfileFor(paws.MustParseKernelVersion("6.18.44"))
			s := paws.DefaultSettings(p)
			for k, v := range tt.sysctls {
				if err := s.SetSysctl(k, v); err != nil {
					t.Fatal(err)
				}
			}
			var a *pcapts.Analyzer
			mismatch, causes := 0, map[pcapts.Cause]int{}
			onSYN := func(syn pcapts.SYN) {
				if syn.Explanation.Predicted != syn.Observed {
					mismatch++
					t.Logf("%v TSval %d: observed %v, predicted %v: %s", syn.Flow.Src, syn.TSval, syn.Observed, syn.Explanation.Predicted, syn.Explanation.Text)
				}
				if c := syn.Explanation.Cause; c != pcapts.CauseNone {
					causes[c]++
				}
			}
			for r.Next() {
				seg := r.Segment()
				if a == nil {
					ev, err := paws.NewEvaluator(paws.Config{Profile: p, Settings: s, Start: paws.TimeOf(seg.Time),
						Listener: paws.Listener{Addr: netip.MustParseAddrPort(tt.listener), Backlog: tt.backlog}})
					if err != nil {
						t.Fatal(err)
					}
					a = pcapts.NewAnalyzer(pcapts.Config{Evaluator: ev, OnSYN: onSYN})
				}
				a.Add(seg)
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			a.Flush()
			if mismatch != 0 {
				t.Errorf("%d SYNs not predicted", mismatch)
			}
			if tt.causes != nil && !maps.Equal(causes, tt.causes) {
				t.Errorf("causes %v, want %v", causes, tt.causes)
			}
		})
	}
}
