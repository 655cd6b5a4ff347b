//go:build linux

package netstat_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/paws-go/paws/netstat"
)

func TestOpenHost(t *testing.T) {
	r, err := netstat.OpenHost()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	prev, cur := new(netstat.Snapshot), new(netstat.Snapshot)
	for _, s := range []*netstat.Snapshot{prev, cur} {
		if err := r.ReadInto(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := cur.Get(netstat.TCPExtListenDrops); !ok {
		t.Error("ListenDrops missing from /proc/self/net/netstat")
	}
	if _, ok := cur.Get(netstat.TCPActiveOpens); !ok {
		t.Error("Tcp ActiveOpens missing from /proc/self/net/snmp")
	}
	if cur.Time.Before(prev.Time) || cur.Time.IsZero() {
		t.Errorf("times %v then %v", prev.Time, cur.Time)
	}
	if _, err := cur.Sub(prev); err != nil {
		t.Errorf("delta of two live reads: %v", err)
	}
	// Steady state: alternating snapshots of unchanged headers. IcmpMsg
	// may gain a type between reads; retry once if it does.
	for try := 0; ; try++ {
		n := testing.AllocsPerRun(50, func() {
			prev, cur = cur, prev
			if err := r.ReadInto(cur); err != nil {
				t.Fatal(err)
			}
		})
		if n == 0 {
			break
		}
		if try == 1 {
			t.Fatalf("ReadInto allocates %v times per read", n)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := netstat.OpenPID(1 << 30); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenPID(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := netstat.OpenPID(0); err == nil {
		t.Error("OpenPID(0) succeeded")
	}
	if _, err := netstat.OpenNetNS("/nonexistent/netns"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenNetNS(missing) = %v, want fs.ErrNotExist", err)
	}
	r, err := netstat.OpenPID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := r.ReadInto(new(netstat.Snapshot)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadInto after Close = %v, want fs.ErrClosed", err)
	}
}
