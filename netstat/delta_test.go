package netstat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
)

func mustParse(t testing.TB, in string, at time.Time) *netstat.Snapshot {
	t.Helper()
	s, err := netstat.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	s.Time = at
	return s
}

func TestDelta(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 5, 52, 48, 0, time.UTC)
	const hdr = "TcpExt: TW ListenDrops Big\n"
	const snmpHdr = "Tcp: MaxConn CurrEstab PassiveOpens\n"
	prev := mustParse(t, hdr+"TcpExt: 10 5 18446744073709551611\n"+snmpHdr+"Tcp: -1 40 100\n", t0)
	cur := mustParse(t, hdr+"TcpExt: 10 25 3\n"+snmpHdr+"Tcp: -1 12 160\n", t0.Add(4*time.Second))

	d, err := cur.Sub(prev)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for c, v := range d.All() {
		got[c.String()] = v.String()
	}
	want := map[string]string{
		"TcpExt:TW":          "0",
		"TcpExt:ListenDrops": "20",
		"TcpExt:Big":         "8", // 2^64-5 -> 3 wrapped
		"Tcp:MaxConn":        "0",
		"Tcp:CurrEstab":      "-28", // a level may go down
		"Tcp:PassiveOpens":   "60",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("unexpected delta (-want +got):\n%s", diff)
	}
	if d.Interval() != 4*time.Second || d.Len() != 6 {
		t.Errorf("Interval %v Len %d", d.Interval(), d.Len())
	}
	if r, ok := d.Rate(netstat.TCPExtListenDrops); !ok || r != 5 {
		t.Errorf("Rate(ListenDrops) = %v, %v; want 5", r, ok)
	}
	if r, ok := d.Rate(netstat.TCPCurrEstab); !ok || r != -7 {
		t.Errorf("Rate(CurrEstab) = %v, %v; want -7", r, ok)
	}
	if _, ok := d.Rate(netstat.TCPExtPAWSPassive); ok {
		t.Error("Rate of an absent counter")
	}
	if _, ok := d.Get(netstat.TCPCurrEstab); ok {
		t.Error("Get of a negative level change reported ok")
	}
	if v, ok := d.Lookup("TcpExt", "Big"); !ok || v.String() != "8" {
		t.Errorf("Lookup(Big) = %v, %v", v, ok)
	}

	// Reusing a Delta over snapshots with different header layouts of the
	// same counters gives the same result.
	cur2 := mustParse(t, "TcpExt: Big TW ListenDrops\nTcpExt: 3 10 25\n"+snmpHdr+"Tcp: -1 12 160\n", t0.Add(4*time.Second))
	if err := d.Compute(prev, cur2); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Get(netstat.TCPExtListenDrops); v != 20 {
		t.Errorf("ListenDrops across layouts = %d, want 20", v)
	}
	if v, _ := d.Get("TcpExt:Big"); v != 8 {
		t.Errorf("Big across layouts = %d, want 8", v)
	}

	// Without times there is no rate.
	d2, err := mustParse(t, hdr+"TcpExt: 11 5 0\n", time.Time{}).Sub(mustParse(t, hdr+"TcpExt: 10 5 0\n", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d2.Rate(netstat.TCPExtTW); ok || d2.Interval() != 0 {
		t.Error("rate without times")
	}
}

func TestDeltaIcmpMsgAppears(t *testing.T) {
	prev := mustParse(t, "IcmpMsg: InType3\nIcmpMsg: 4\n", time.Time{})
	cur := mustParse(t, "IcmpMsg: InType3 InType8\nIcmpMsg: 6 2\n", time.Time{})
	d, err := cur.Sub(prev)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Lookup("IcmpMsg", "InType8"); v.String() != "2" {
		t.Errorf("new IcmpMsg type moved %v, want 2", v)
	}
	if v, _ := d.Lookup("IcmpMsg", "InType3"); v.String() != "2" {
		t.Errorf("InType3 moved %v, want 2", v)
	}
}

func TestDeltaReset(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	base := "TcpExt: TW ListenDrops\nTcpExt: 1000000000000 50\nTcp: CurrEstab\nTcp: 9\n"
	tests := []struct {
		name string
		cur  string
		at   time.Time
	}{
		{"went backwards", "TcpExt: TW ListenDrops\nTcpExt: 1000000 60\nTcp: CurrEstab\nTcp: 9\n", t0},
		{"one small counter went backwards", "TcpExt: TW ListenDrops\nTcpExt: 1000000000001 49\nTcp: CurrEstab\nTcp: 9\n", t0},
		{"counter disappeared", "TcpExt: TW\nTcpExt: 1000000000001\nTcp: CurrEstab\nTcp: 9\n", t0},
		{"counter appeared", "TcpExt: TW ListenDrops New\nTcpExt: 1000000000001 50 0\nTcp: CurrEstab\nTcp: 9\n", t0},
		{"read earlier", base, t0.Add(-time.Second)},
	}
	prev := mustParse(t, base, t0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := mustParse(t, tt.cur, tt.at)
			d, err := cur.Sub(prev)
			if !errors.Is(err, netstat.ErrReset) {
				t.Fatalf("Sub = %v, %v; want ErrReset", d, err)
			}
			var reused netstat.Delta
			if err := reused.Compute(prev, cur); err == nil || reused.Len() != 0 {
				t.Errorf("Compute = %v, Len %d after error", err, reused.Len())
			}
		})
	}
	// A level going down is not a reset.
	if _, err := mustParse(t, "TcpExt: TW ListenDrops\nTcpExt: 1000000000000 50\nTcp: CurrEstab\nTcp: 0\n", t0).Sub(prev); err != nil {
		t.Errorf("CurrEstab going down: %v", err)
	}
	var empty netstat.Snapshot
	if _, err := prev.Sub(&empty); err == nil {
		t.Error("delta against an empty snapshot")
	}
}

func TestDeltaFormat(t *testing.T) {
	prev := mustParse(t, "TcpExt: TW PAWSPassive ListenOverflows ListenDrops TCPFooBar PAWSEstab\nTcpExt: 1 2 3 4 5 6\n"+
		"Tcp: RtoAlgorithm MaxConn ActiveOpens PassiveOpens\nTcp: 1 -1 10 20\n", time.Time{})
	cur := mustParse(t, "TcpExt: TW PAWSPassive ListenOverflows ListenDrops TCPFooBar PAWSEstab\nTcpExt: 1 12 3 16 9 6\n"+
		"Tcp: RtoAlgorithm MaxConn ActiveOpens PassiveOpens\nTcp: 1 -1 10 25\n", time.Time{})
	d, err := cur.Sub(prev)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := d.Format(&b, paws.MustParseKernelVersion("3.10.0-1160.el7.x86_64")); err != nil {
		t.Fatal(err)
	}
	want := `TcpExt:
    10 passive connections rejected because of time stamp
    12 SYNs to LISTEN sockets dropped
    TCPFooBar: 4
Tcp:
    0 active connection openings
    5 passive connection openings
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("unexpected netstat -s text (-want +got):\n%s", diff)
	}
}
