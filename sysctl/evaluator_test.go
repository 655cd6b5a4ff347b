package sysctl_test

import (
	"net/netip"
	"testing"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/sysctl"
)

func TestTCPProfileAndSettings(t *testing.T) {
	tests := []struct {
		kernel        string
		wantRecycle   bool
		wantSettings  func(s paws.Settings) bool
		describeCheck string
	}{
		{"3.10.0-1160.el7.x86_64", true, func(s paws.Settings) bool {
			return s.TCPTwRecycle == 1 && s.TCPTimestamps == 1 && s.Somaxconn == 128
		}, "tw_recycle=1, timestamps=1, somaxconn=128"},
		{"6.18.44-fc-v595", false, func(s paws.Settings) bool {
			return s.TCPTwRecycle == 0 && s.Somaxconn == 4096 && s.TCPSyncookies == 1 && s.TCPTwReuse == 2
		}, "no tw_recycle, somaxconn=4096, syncookies=1, tw_reuse=2"},
	}
	for _, tt := range tests {
		t.Run(tt.kernel, func(t *testing.T) {
			tcp, err := fixtureFS(t, tt.kernel).TCP()
			if err != nil {
				t.Fatal(err)
			}
			p := tcp.Profile()
			if p.HasTWRecycle != tt.wantRecycle {
				t.Errorf("Profile().HasTWRecycle = %v, want %v", p.HasTWRecycle, tt.wantRecycle)
			}
			if s := tcp.Settings(p); !tt.wantSettings(s) {
				t.Errorf("Settings() = %+v, want %s", s, tt.describeCheck)
			}
		})
	}
}

// A kernel whose version says tcp_tw_recycle was removed but which still
// has the sysctl (a vendor backport) gets the per-host check.
func TestTCPProfileRecyclePresentOverridesVersion(t *testing.T) {
	tcp := sysctl.TCP{
		Kernel:     paws.MustParseKernelVersion("4.19.0-27-amd64"),
		TWRecycle:  sysctl.ValueOf(true),
		Timestamps: sysctl.ValueOf(sysctl.TimestampsOn),
	}
	p := tcp.Profile()
	if !p.HasTWRecycle || !p.Counters.Has(paws.PAWSPassive) {
		t.Fatalf("Profile() = %v, want per-host PAWS with PAWSPassive", p)
	}
	s := tcp.Settings(p)
	if s.TCPTwRecycle != 1 {
		t.Fatalf("Settings().TCPTwRecycle = %d, want 1", s.TCPTwRecycle)
	}
	// With these settings the evaluator reproduces TV1's drop.
	ev, err := paws.NewEvaluator(paws.Config{Profile: p, Settings: s,
		Listener: paws.Listener{Addr: netip.MustParseAddrPort("100.64.0.1:80"), Backlog: 128}})
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("172.16.0.13:51000")
	ev.Step(paws.Event{Type: paws.EventSYN, Src: src, HasTS: true, TSval: 2088983548})
	ev.Step(paws.Event{Time: 4e8, Type: paws.EventServerClose, Src: src, HasTS: true, TSval: 2088983950, TSvalAt: 3e8})
	r := ev.Step(paws.Event{Time: 1e9, Type: paws.EventSYN, Src: netip.MustParseAddrPort("172.16.0.13:40001"), HasTS: true, TSval: 271344470})
	if r.Outcome != paws.OutcomeDrop || r.Counters[paws.PAWSPassive] != 1 {
		t.Fatalf("SYN after close: %v, PAWSPassive +%d; want a per-host PAWS drop", r.Outcome, r.Counters[paws.PAWSPassive])
	}
}
