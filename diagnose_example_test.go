package paws_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/paws-go/paws"
)

// A CentOS 7 server with tcp_tw_recycle=1 behind which clients share a NAT
// address, observed for 10 s, and a listener whose application stopped
// accepting. In a program, internal/observe (or the sysctl, netstat and
// tcpdiag packages) fill the Host.
func ExampleDiagnose() {
	p := paws.ProfileFor(paws.MustParseKernelVersion("3.10.0-1160.el7.x86_64"))
	h := paws.Host{Profile: p, Settings: paws.DefaultSettings(p), Interval: 10 * time.Second, Observed: p.Counters}
	if err := h.Settings.SetSysctl(paws.SysctlTCPTwRecycle, 1); err != nil {
		panic(err)
	}
	h.Deltas[paws.PAWSPassive], h.Deltas[paws.ListenDrops] = 5, 5
	h.Listeners = []paws.HostListener{{
		Addr: netip.MustParseAddrPort("0.0.0.0:8080"), AcceptQueue: 129, Backlog: 128,
		Owners: []paws.HostProcess{{PID: 4242, Command: "java", OpenFiles: 4096, MaxOpenFiles: 4096, AtFDLimit: true}},
	}}
	for _, f := range paws.Diagnose(h) {
		fmt.Printf("%-8s %-19s %s\n", f.Severity, f.Check, f.Evidence)
	}
	// Output:
	// critical per-host-paws-drops PAWSPassive +5 in 10s (0.5/s), ListenDrops +5; net.ipv4.tcp_tw_recycle = 1
	// critical accept-queue-full   accept queue 129 > backlog 128 (ss -ltn Recv-Q, Send-Q); owner java (pid 4242) 4096/4096 fds
	// critical fd-limit            java (pid 4242): 4096 of 4096 descriptors open (RLIMIT_NOFILE soft limit); holds 0.0.0.0:8080
	// warning  per-host-paws-risk  net.ipv4.tcp_tw_recycle = 1, net.ipv4.tcp_timestamps = 1; kernel 3.10.0-1160.el7.x86_64
	// info     backlog-clamped     backlog 128 = net.core.somaxconn = 128: 0.0.0.0:8080
}
