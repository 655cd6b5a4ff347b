package paws_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/paws-go/paws"
)

// The incident of a CentOS 7 server with tcp_tw_recycle=1: two hosts
// behind one NAT address, the server closes a connection of host A, and
// host B's SYNs are dropped.
func ExampleEvaluator() {
	p := paws.ProfileFor(paws.MustParseKernelVersion("3.10.0-1160.el7.x86_64"))
	s := paws.DefaultSettings(p)
	if err := s.SetSysctl("net.ipv4.tcp_tw_recycle", 1); err != nil {
		panic(err)
	}
	w0 := paws.Time(1700000000e9)
	e, err := paws.NewEvaluator(paws.Config{Profile: p, Settings: s, Start: w0,
		Listener: paws.Listener{Addr: netip.MustParseAddrPort("100.64.0.1:80"), Backlog: 128}})
	if err != nil {
		panic(err)
	}
	a := netip.MustParseAddrPort("172.16.0.13:51000")
	b := netip.MustParseAddrPort("172.16.0.13:40001")
	for _, ev := range []paws.Event{
		{Time: w0, Type: paws.EventSYN, Src: a, HasTS: true, TSval: 2088983548},
		{Time: w0 + 400e6, Type: paws.EventServerClose, Src: a, HasTS: true, TSval: 2088983950, TSvalAt: w0 + 300e6},
		{Time: w0 + 1e9, Type: paws.EventSYN, Src: b, HasTS: true, TSval: 271344470},
	} {
		r := e.Step(ev)
		fmt.Printf("%-12s %-6s %-13s %s\n", ev.Type, r.Outcome, r.Reason, r.Counters)
	}
	fmt.Println(e.Step(paws.Event{Time: w0 + 2e9, Type: paws.EventSYN, Src: b, HasTS: true, TSval: 271345544}).Explain())
	// Output:
	// syn          answer none          —
	// server_close none   none          —
	// syn          drop   per_host_paws PAWSPassive+1 ListenDrops+1
	// SYN 172.16.0.13:40001 dropped: per-host PAWS — TSval 271345544 is older than 2088983950, cached 2 s ago when this server closed a connection from 172.16.0.13
}

// An assumption written as a test: on 3.10 with tcp_tw_recycle=1, a SYN
// older than the cached timestamp is dropped with PAWSPassive+1; on 4.12
// the check is gone.
func ExampleSim() {
	for _, kernel := range []string{"3.10.0-1160.el7.x86_64", "4.12.0"} {
		var sysctls []paws.Sysctl
		if paws.ProfileFor(paws.MustParseKernelVersion(kernel)).HasTWRecycle {
			sysctls = append(sysctls, paws.Sysctl{Name: paws.SysctlTCPTwRecycle, Value: 1})
		}
		sim, err := paws.NewSim(kernel, "100.64.0.1:80", 128, sysctls...)
		if err != nil {
			panic(err)
		}
		sim.ServerClose(0.4, "172.16.0.13:51000", 2088983950, 0.3)
		r := sim.SYN(1, "172.16.0.13:40001", 271344470)
		fmt.Println(kernel, r.Outcome, r.Counters[paws.PAWSPassive])
	}
	// Output:
	// 3.10.0-1160.el7.x86_64 drop 1
	// 4.12.0 answer 0
}

func ExampleProfileFor() {
	for _, k := range []string{"2.6.32-642.6.2.el6.x86_64", "3.10.105", "4.9.229", "6.18.44"} {
		p := paws.ProfileFor(paws.MustParseKernelVersion(k))
		fmt.Println(k, p.Era, p.HasTWRecycle, p.TSOffset, p.TimeWaitPAWSCounter)
	}
	// Output:
	// 2.6.32-642.6.2.el6.x86_64 E1 true none PAWSEstab
	// 3.10.105 E2 true none PAWSEstab
	// 4.9.229 E3 true none PAWSEstab
	// 6.18.44 E4 false per-4-tuple PAWSTimewait
}

func ExampleParseScenario() {
	s, err := paws.ParseScenario([]byte(`{"kernel": "6.18.44", "listener": {"addr": "10.0.0.1:80", "backlog": 128},
	  "wall_start": 1700000000, "events": [
	  {"t": 0, "type": "server_close", "src": "198.51.100.9:30000", "last_tsval": 5000000, "rcv_nxt": 1000},
	  {"t": 10, "type": "syn", "src": "198.51.100.9:30000", "seq": 900, "tsval": 3000000}]}`))
	if err != nil {
		panic(err)
	}
	res, _, err := s.Run()
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println(r.Outcome, r.Reason, r.Counters)
	}
	_, err = paws.ParseScenario([]byte(strings.Replace(`{"kernel": "6.18.44", "listener": {"addr": "10.0.0.1:80", "backlog": 1},
	  "wall_start": 0, "events": [{"t": 0, "type": "syn", "src": "X"}]}`, "X", "1.2.3.4", 1)))
	fmt.Println(err)
	// Output:
	// none none TW+1
	// ack timewait_paws PAWSTimewait+1
	// paws: scenario: events[0].src: "1.2.3.4" is not ip:port
}
