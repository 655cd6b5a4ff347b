package kernelcheck

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/capgen"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/pcapts"
)

var (
	testStart  = time.Unix(1700000000, 0)
	testServer = netip.MustParseAddrPort("10.241.0.2:8080")
)

func at(ms int) time.Time { return testStart.Add(time.Duration(ms) * time.Millisecond) }

// overflowCapture is three clients connecting to a listener with backlog 1
// that never accepts: the first two complete their handshakes (the
// accept queue holds backlog+1), the third's SYN comes while it is full.
// With answerThird the capture shows a SYN-ACK for it anyway.
func overflowCapture(t *testing.T, answerThird bool) []byte {
	t.Helper()
	var pkts []capgen.Packet
	for i := range 3 {
		c := netip.AddrPortFrom(netip.MustParseAddr("10.241.1.2"), uint16(40000+i))
		isn, sisn := uint32(1000*(i+1)), uint32(50000*(i+1))
		ms := 100 * i
		pkts = append(pkts, capgen.Packet{Time: at(ms), Src: c, Dst: testServer, Flags: capgen.SYN, Seq: isn, HasTimestamp: true, TSval: uint32(7000 + ms)})
		if i < 2 || answerThird {
			pkts = append(pkts,
				capgen.Packet{Time: at(ms + 1), Src: testServer, Dst: c, Flags: capgen.SYN | capgen.ACK, Seq: sisn, Ack: isn + 1, HasTimestamp: true, TSval: 1, TSecr: uint32(7000 + ms)},
				capgen.Packet{Time: at(ms + 2), Src: c, Dst: testServer, Flags: capgen.ACK, Seq: isn + 1, Ack: sisn + 1, HasTimestamp: true, TSval: uint32(7002 + ms), TSecr: 1})
		}
	}
	// A SYN after the measured window: ignored.
	pkts = append(pkts, capgen.Packet{Time: at(5000), Src: netip.MustParseAddrPort("10.241.1.2:40009"), Dst: testServer, Flags: capgen.SYN, Seq: 9, HasTimestamp: true, TSval: 9})
	var buf bytes.Buffer
	if err := capgen.WritePackets(&buf, capgen.PcapNano, pkts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testConfig(t *testing.T) paws.Config {
	t.Helper()
	p := paws.ProfileFor(paws.MustParseKernelVersion("6.18.44"))
	return paws.Config{Profile: p, Settings: paws.DefaultSettings(p), Start: paws.TimeOf(testStart),
		Listener: paws.Listener{Addr: testServer, Backlog: 1}}
}

// deltaOf returns the delta between two /proc/net/netstat texts.
func deltaOf(t *testing.T, before, after string) *netstat.Delta {
	t.Helper()
	b, err := netstat.Parse(strings.NewReader(before))
	if err != nil {
		t.Fatal(err)
	}
	a, err := netstat.Parse(strings.NewReader(after))
	if err != nil {
		t.Fatal(err)
	}
	b.Time, a.Time = at(0), at(1000)
	d, err := a.Sub(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const netstatBefore = "TcpExt: ListenOverflows ListenDrops PAWSTimewait\nTcpExt: 10 10 0\nTcp: PassiveOpens\nTcp: 5\n"

func TestEvaluateAgrees(t *testing.T) {
	ev, err := evaluate(bytes.NewReader(overflowCapture(t, false)), testConfig(t), at(0), at(1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.syns) != 3 {
		t.Fatalf("%d SYNs evaluated, want 3 (the one after the window is ignored)", len(ev.syns))
	}
	want := []pcapts.Outcome{pcapts.OutcomeAnswered, pcapts.OutcomeAnswered, pcapts.OutcomeUnanswered}
	for i, s := range ev.syns {
		if s.Observed != want[i] || !synAgrees(s) {
			t.Errorf("SYN %d: observed %v, predicted %v; want %v for both", i+1, s.Observed, s.Explanation.Predicted, want[i])
		}
	}
	if got := ev.syns[2].Explanation.Reason; got != paws.ReasonAcceptqFull {
		t.Errorf("third SYN: reason %v, want %v", got, paws.ReasonAcceptqFull)
	}
	r := &Result{SYNs: ev.syns, Queue: &QueueCheck{Predicted: ev.queues.AcceptQ, Observed: 2},
		Counters: compareCounters(ev.totals, deltaOf(t, netstatBefore, "TcpExt: ListenOverflows ListenDrops PAWSTimewait\nTcpExt: 11 11 0\nTcp: PassiveOpens\nTcp: 7\n"))}
	r.verdict("")
	if r.Status != StatusAgrees {
		t.Fatalf("status %v, want agrees; differences: %q", r.Status, r.Differences())
	}
	got := map[paws.Counter]uint64{}
	for _, c := range r.Counters {
		got[c.Counter] = c.Observed
	}
	wantCounters := map[paws.Counter]uint64{paws.ListenOverflows: 1, paws.ListenDrops: 1, paws.PassiveOpens: 2}
	if len(got) != len(wantCounters) {
		t.Errorf("counters compared: %v, want %v", got, wantCounters)
	}
	for c, v := range wantCounters {
		if got[c] != v {
			t.Errorf("%v: observed %d, want %d", c, got[c], v)
		}
	}
}

func TestEvaluateDiffers(t *testing.T) {
	// The kernel answered the third SYN and counted no overflow; the
	// evaluator, with backlog 1, predicts the drop.
	ev, err := evaluate(bytes.NewReader(overflowCapture(t, true)), testConfig(t), at(0), at(1000))
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Scenario: "test", SYNs: ev.syns, PredictedBacklog: 1, Backlog: 2, RequestedBacklog: 1,
		Counters: compareCounters(ev.totals, deltaOf(t, netstatBefore, "TcpExt: ListenOverflows ListenDrops PAWSTimewait\nTcpExt: 10 10 0\nTcp: PassiveOpens\nTcp: 8\n"))}
	r.verdict("")
	if r.Status != StatusDiffers {
		t.Fatalf("status %v, want differs", r.Status)
	}
	want := []string{
		"SYN #3 +0.200s 10.241.1.2:40002 > 10.241.0.2:8080 TSval 7200: predicted unanswered (acceptq_full), observed answered",
		"counter PassiveOpens predicted +2, observed +3",
		"counter ListenOverflows predicted +1, observed +0",
		"counter ListenDrops predicted +1, observed +0",
		"effective backlog of listen(1): predicted 1, observed 2",
	}
	got := r.Differences()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var out strings.Builder
	if err := r.Format(&out, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "test: differs") || strings.Count(out.String(), "DIFFERS: ") != len(want) {
		t.Errorf("Format:\n%s", out.String())
	}
}

func TestCounterAbsent(t *testing.T) {
	var predicted paws.Counters
	predicted[paws.PAWSPassive] = 1
	predicted[paws.PAWSEstab] = 2
	cs := compareCounters(predicted, deltaOf(t, "TcpExt: PAWSEstab\nTcpExt: 1\n", "TcpExt: PAWSEstab\nTcpExt: 3\n"))
	if len(cs) != 2 {
		t.Fatalf("compared %v, want PAWSPassive and PAWSEstab", cs)
	}
	for _, c := range cs {
		switch c.Counter {
		case paws.PAWSPassive:
			if c.Present || c.Agrees() || c.String() != "PAWSPassive predicted +1, observed absent from this kernel" {
				t.Errorf("PAWSPassive: %+v %q, want absent and differing", c, c)
			}
		case paws.PAWSEstab:
			if !c.Present || !c.Agrees() {
				t.Errorf("PAWSEstab: %+v, want present, +2, agreeing", c)
			}
		}
	}
	if c := (CounterCheck{Counter: paws.PAWSPassive}); !c.Agrees() {
		t.Error("an absent counter predicted +0 must agree")
	}
}

func TestVerdict(t *testing.T) {
	differ := []pcapts.SYN{{Observed: pcapts.OutcomeAnswered, Explanation: pcapts.Explanation{Valid: true, Predicted: pcapts.OutcomeUnanswered}}}
	tests := []struct {
		name        string
		r           Result
		unexercised string
		want        Status
	}{
		{"agrees", Result{}, "", StatusAgrees},
		{"unexercised", Result{}, "ListenOverflows did not move", StatusInconclusive},
		{"capture incomplete", Result{Dropped: 3}, "", StatusInconclusive},
		{"difference wins", Result{SYNs: differ, Dropped: 3}, "nothing happened", StatusDiffers},
		{"unevaluated SYN", Result{SYNs: []pcapts.SYN{{}}}, "", StatusDiffers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.verdict(tt.unexercised)
			if tt.r.Status != tt.want {
				t.Errorf("status %v (note %q), want %v", tt.r.Status, tt.r.Note, tt.want)
			}
		})
	}
}
