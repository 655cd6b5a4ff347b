package paws

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	kernelRHEL7 = "3.10.0-1160.el7.x86_64"
	kernel419   = "4.19.0-27-amd64"
	kernel618   = "6.18.44"
)

// testHost returns a host observed for 2 s with the kernel's defaults,
// every counter of the kernel observed and no movement; the sysctls the
// kernel lacks are absent.
func testHost(t *testing.T, kernel string) Host {
	t.Helper()
	p := ProfileFor(MustParseKernelVersion(kernel))
	h := Host{Profile: p, Settings: DefaultSettings(p), Interval: 2 * time.Second, Observed: p.Counters}
	for _, n := range SysctlNames() {
		if !p.HasSysctl(n) {
			h.Absent = append(h.Absent, n)
		}
	}
	return h
}

func setSysctl(t *testing.T, h *Host, name string, v int) {
	t.Helper()
	if err := h.Settings.SetSysctl(name, v); err != nil {
		t.Fatal(err)
	}
}

var (
	web  = netip.MustParseAddrPort("10.0.0.1:80")
	api  = netip.MustParseAddrPort("127.0.0.1:8080")
	pawd = HostProcess{PID: 12, Command: "pawsd", OpenFiles: 9, MaxOpenFiles: 1024}
)

// want is a finding reduced to what the table compares.
type want struct {
	check    Check
	severity Severity
	listener netip.AddrPort
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name   string
		kernel string
		setup  func(t *testing.T, h *Host)
		want   []want
		// contains maps a check to texts its finding must contain
		// (evidence, explanation and remedy joined).
		contains map[Check][]string
		absent   map[Check][]string
	}{
		{
			name: "rhel7 tw_recycle seed (TV1) warns", kernel: kernelRHEL7,
			setup: func(t *testing.T, h *Host) { setSysctl(t, h, SysctlTCPTwRecycle, 1) },
			want:  []want{{CheckPerHostPAWSRisk, SeverityWarning, netip.AddrPort{}}},
			contains: map[Check][]string{CheckPerHostPAWSRisk: {
				"net.ipv4.tcp_tw_recycle = 1, net.ipv4.tcp_timestamps = 1; kernel 3.10.0-1160.el7.x86_64",
				"behind one NAT", "60 s", "without timestamps", "PAWSPassive and ListenDrops", "tcp_tw_recycle=0", "4.12"}},
		},
		{
			name: "rhel7 tw_recycle off is fine", kernel: kernelRHEL7,
			setup: func(t *testing.T, h *Host) {},
		},
		{
			name: "rhel7 tw_recycle with timestamps off: no PAWS, timestamps note", kernel: kernelRHEL7,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPTwRecycle, 1)
				setSysctl(t, h, SysctlTCPTimestamps, 0)
			},
			want:     []want{{CheckTimestamps, SeverityInfo, netip.AddrPort{}}},
			contains: map[Check][]string{CheckTimestamps: {"net.ipv4.tcp_timestamps = 0", "half the time", "counts nowhere"}},
		},
		{
			name: "rhel7 tw_recycle absent in a namespace: global, look at the host", kernel: kernelRHEL7,
			setup:    func(t *testing.T, h *Host) { h.Absent = append(h.Absent, SysctlTCPTwRecycle) },
			want:     []want{{CheckPerHostPAWSRisk, SeverityInfo, netip.AddrPort{}}},
			contains: map[Check][]string{CheckPerHostPAWSRisk: {"net.ipv4.tcp_tw_recycle absent", "global"}},
		},
		{
			name: "rhel7 PAWSPassive rising is critical", kernel: kernelRHEL7,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPTwRecycle, 1)
				h.Interval = 10 * time.Second
				h.Deltas[PAWSPassive], h.Deltas[ListenDrops] = 5, 5
			},
			want: []want{
				{CheckPerHostPAWSDrops, SeverityCritical, netip.AddrPort{}},
				{CheckPerHostPAWSRisk, SeverityWarning, netip.AddrPort{}},
			},
			contains: map[Check][]string{CheckPerHostPAWSDrops: {
				"PAWSPassive +5 in 10s (0.5/s), ListenDrops +5; net.ipv4.tcp_tw_recycle = 1", "ip tcp_metrics show"}},
		},
		{
			name: "3.7 counts per-host drops in PAWSPassive only", kernel: "3.7.2",
			setup:    func(t *testing.T, h *Host) { setSysctl(t, h, SysctlTCPTwRecycle, 1) },
			want:     []want{{CheckPerHostPAWSRisk, SeverityWarning, netip.AddrPort{}}},
			contains: map[Check][]string{CheckPerHostPAWSRisk: {"PAWSPassive only"}},
			absent:   map[Check][]string{CheckPerHostPAWSRisk: {"without timestamps"}},
		},
		{
			name: "4.19 has no PAWSPassive: a stray delta yields nothing", kernel: kernel419,
			setup: func(t *testing.T, h *Host) { h.Deltas[PAWSPassive] = 5 },
		},
		{
			name: "6.18 PAWSTimewait rising warns", kernel: kernel618,
			setup: func(t *testing.T, h *Host) { h.Deltas[PAWSTimewait] = 3 },
			want:  []want{{CheckTimeWaitPAWS, SeverityWarning, netip.AddrPort{}}},
			contains: map[Check][]string{CheckTimeWaitPAWS: {
				"PAWSTimewait +3 in 2s (1.5/s), TCPACKSkippedTimeWait +0; net.ipv4.tcp_rfc1337 = 0",
				"bare ACK", "Do not turn tcp_timestamps off", "tcp_tw_reuse=1", "delayed"}},
			absent: map[Check][]string{CheckTimeWaitPAWS: {"hint"}},
		},
		{
			name: "6.18 PAWSTimewait with rfc1337=1 is critical", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[PAWSTimewait] = 3
				setSysctl(t, h, SysctlTCPRFC1337, 1)
			},
			want:     []want{{CheckTimeWaitPAWS, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckTimeWaitPAWS: {"net.ipv4.tcp_rfc1337 = 1", "connections fail"}},
		},
		{
			name: "6.18 PAWSEstab is not TIME_WAIT PAWS", kernel: kernel618,
			setup: func(t *testing.T, h *Host) { h.Deltas[PAWSEstab] = 30 },
		},
		{
			name: "4.19 PAWSEstab is a TIME_WAIT hint", kernel: kernel419,
			setup:    func(t *testing.T, h *Host) { h.Deltas[PAWSEstab] = 4 },
			want:     []want{{CheckTimeWaitPAWS, SeverityWarning, netip.AddrPort{}}},
			contains: map[Check][]string{CheckTimeWaitPAWS: {"PAWSEstab +4 in 2s (2/s)", "before 6.16", "hint, not proof"}},
		},
		{
			name: "one reading: no counter findings, current state only", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Interval = 0
				h.Deltas[PAWSTimewait], h.Deltas[ListenOverflows], h.Deltas[ListenDrops], h.Deltas[TCPReqQFullDrop] = 3, 9, 9, 9
				h.Listeners = []HostListener{{Addr: api, AcceptQueue: 5, Backlog: 4, Owners: []HostProcess{pawd}}}
			},
			want: []want{{CheckAcceptQueueFull, SeverityCritical, api}},
		},
		{
			name: "6.18 accept queue full names the listener and owner", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Listeners = []HostListener{
					{Addr: web, AcceptQueue: 4, Backlog: 4, Owners: []HostProcess{pawd}},
					{Addr: api, AcceptQueue: 5, Backlog: 4, Owners: []HostProcess{pawd}},
				}
			},
			want: []want{{CheckAcceptQueueFull, SeverityCritical, api}},
			contains: map[Check][]string{CheckAcceptQueueFull: {
				"accept queue 5 > backlog 4", "pawsd (pid 12) 9/1024 fds", "127.0.0.1:8080", "every new SYN", "net.core.somaxconn = 4096"}},
			absent: map[Check][]string{CheckAcceptQueueFull: {"EMFILE"}},
		},
		{
			name: "4.4 accept queue drops SYNs only with young requests", kernel: "4.4.155",
			setup: func(t *testing.T, h *Host) {
				h.Listeners = []HostListener{{Addr: api, AcceptQueue: 129, Backlog: 128}}
			},
			want: []want{
				{CheckAcceptQueueFull, SeverityCritical, api},
				{CheckBacklogClamped, SeverityInfo, api},
			},
			contains: map[Check][]string{CheckAcceptQueueFull: {"more than one recent handshake", "owners"}},
		},
		{
			name: "owner at its fd limit: accept queue and fd-limit", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				full := HostProcess{PID: 7, Command: "java", OpenFiles: 1024, MaxOpenFiles: 1024, AtFDLimit: true}
				h.Listeners = []HostListener{{Addr: api, AcceptQueue: 5, Backlog: 4, Owners: []HostProcess{full}},
					{Addr: web, Owners: []HostProcess{full}}}
			},
			want: []want{
				{CheckAcceptQueueFull, SeverityCritical, api},
				{CheckFDLimit, SeverityCritical, api},
			},
			contains: map[Check][]string{
				CheckAcceptQueueFull: {"java (pid 7) has all 1024 descriptors", "EMFILE", "prlimit --pid 7"},
				CheckFDLimit:         {"java (pid 7): 1024 of 1024 descriptors open", "holds 127.0.0.1:8080, 10.0.0.1:80", "LimitNOFILE"},
			},
		},
		{
			name: "owner near its fd limit warns", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Listeners = []HostListener{{Addr: web, Owners: []HostProcess{{PID: 3, Command: "nginx", OpenFiles: 950, MaxOpenFiles: 1024}}}}
			},
			want:     []want{{CheckFDLimit, SeverityWarning, web}},
			contains: map[Check][]string{CheckFDLimit: {"nginx uses 92%"}},
		},
		{
			name: "owner far from its fd limit, or limit unknown", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Listeners = []HostListener{{Addr: web, Owners: []HostProcess{{PID: 3, OpenFiles: 500, MaxOpenFiles: 1024}, {PID: 4, OpenFiles: 9}}}}
			},
		},
		{
			name: "6.18 listen overflows name the fullest listeners", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 75, 75
				h.Listeners = []HostListener{{Addr: web, AcceptQueue: 1, Backlog: 4095}, {Addr: api, AcceptQueue: 3, Backlog: 4}}
			},
			want: []want{{CheckListenOverflows, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckListenOverflows: {
				"ListenOverflows +75 in 2s (37.5/s), ListenDrops +75; fullest accept queues now: 127.0.0.1:8080 3 of 5 (backlog 4), 10.0.0.1:80 1 of 4096 (backlog 4095)"}},
		},
		{
			name: "6.18 listen overflows name the one listener whose drops rose, not the fullest", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 75, 75
				h.Listeners = []HostListener{
					{Addr: web, AcceptQueue: 1, Backlog: 4095, Drops: 75, DropsKnown: true},
					{Addr: api, AcceptQueue: 3, Backlog: 4, DropsKnown: true},
				}
			},
			want: []want{{CheckListenOverflows, SeverityCritical, web}},
			contains: map[Check][]string{CheckListenOverflows: {
				"ListenOverflows +75 in 2s (37.5/s), ListenDrops +75; dropped by listener (sk_drops): 10.0.0.1:80 +75 (accept queue 1 of 4096)",
				"show which dropped: 10.0.0.1:80, and no other."}},
			absent: map[Check][]string{CheckListenOverflows: {"fullest", "127.0.0.1:8080"}},
		},
		{
			name: "6.18 listen overflows name every listener whose drops rose, most first", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 75, 80
				h.Listeners = []HostListener{
					{Addr: web, AcceptQueue: 5, Backlog: 4, Drops: 5, DropsKnown: true},
					{Addr: netip.MustParseAddrPort("[::]:443"), Backlog: 511, DropsKnown: true},
					{Addr: api, AcceptQueue: 3, Backlog: 4, Drops: 75, DropsKnown: true},
				}
			},
			want: []want{
				{CheckAcceptQueueFull, SeverityCritical, web},
				{CheckListenOverflows, SeverityCritical, netip.AddrPort{}},
			},
			contains: map[Check][]string{CheckListenOverflows: {
				"dropped by listener (sk_drops): 127.0.0.1:8080 +75 (accept queue 3 of 5), 10.0.0.1:80 +5 (accept queue 5 of 5)",
				"127.0.0.1:8080 most, and 1 more."}},
			absent: map[Check][]string{CheckListenOverflows: {"fullest", "[::]:443"}},
		},
		{
			name: "6.18 listen overflows with no open listener's drops risen", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 4, 4
				h.Listeners = []HostListener{{Addr: api, AcceptQueue: 3, Backlog: 4, DropsKnown: true}}
			},
			want:     []want{{CheckListenOverflows, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckListenOverflows: {"ListenOverflows +4 in 2s (2/s), ListenDrops +4", "closed since"}},
			absent:   map[Check][]string{CheckListenOverflows: {"fullest", "127.0.0.1:8080"}},
		},
		{
			name: "listen overflows fall back to the fullest queues when some listener's drops are unknown", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 75, 75
				h.Listeners = []HostListener{{Addr: web, AcceptQueue: 1, Backlog: 4095, Drops: 75, DropsKnown: true}, {Addr: api, AcceptQueue: 3, Backlog: 4}}
			},
			want: []want{{CheckListenOverflows, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckListenOverflows: {
				"fullest accept queues now: 127.0.0.1:8080 3 of 5 (backlog 4), 10.0.0.1:80 1 of 4096 (backlog 4095)"}},
			absent: map[Check][]string{CheckListenOverflows: {"sk_drops"}},
		},
		{
			name: "listen overflows after a drained burst", kernel: kernel419,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 2, 2
				h.Listeners = []HostListener{{Addr: web, Backlog: 511}}
			},
			want:     []want{{CheckListenOverflows, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckListenOverflows: {"drained"}},
		},
		{
			name: "ListenOverflows not observed yields nothing", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Observed = h.Observed.Without(ListenOverflows, ListenDrops)
				h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 75, 75
			},
		},
		{
			name: "4.19 SYN queue drops without cookies are critical", kernel: kernel419,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPSyncookies, 0)
				h.Deltas[TCPReqQFullDrop], h.Deltas[ListenDrops] = 10, 10
			},
			want: []want{{CheckSynQueueDrops, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckSynQueueDrops: {
				"TCPReqQFullDrop +10 in 2s (5/s), ListenDrops +10; net.ipv4.tcp_syncookies = 0, net.ipv4.tcp_max_syn_backlog = 1024",
				"as many requests as its listen backlog", "tcp_syncookies=1"}},
			absent: map[Check][]string{CheckSynQueueDrops: {"and net.ipv4.tcp_max_syn_backlog, which"}},
		},
		{
			name: "rhel7 SYN queue is sized by tcp_max_syn_backlog too", kernel: kernelRHEL7,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPSyncookies, 0)
				h.Deltas[TCPReqQFullDrop], h.Deltas[ListenDrops] = 10, 10
			},
			want:     []want{{CheckSynQueueDrops, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckSynQueueDrops: {"roundup_pow_of_two", "and net.ipv4.tcp_max_syn_backlog, which all cap"}},
		},
		{
			name: "SYN queue drops with cookies on only warn", kernel: kernel618,
			setup:    func(t *testing.T, h *Host) { h.Deltas[TCPReqQFullDrop], h.Deltas[ListenDrops] = 1, 1 },
			want:     []want{{CheckSynQueueDrops, SeverityWarning, netip.AddrPort{}}},
			contains: map[Check][]string{CheckSynQueueDrops: {"net.ipv4.tcp_syncookies = 1 here", "plus one request"}},
		},
		{
			name: "cookies sent is a note", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				h.Deltas[TCPReqQFullDoCookies], h.Deltas[SyncookiesSent], h.Deltas[SyncookiesRecv] = 22, 22, 22
			},
			want:     []want{{CheckSynCookies, SeverityInfo, netip.AddrPort{}}},
			contains: map[Check][]string{CheckSynCookies: {"TCPReqQFullDoCookies +22 in 2s (11/s), SyncookiesSent +22, SyncookiesRecv +22"}},
		},
		{
			name: "6.18 ListenDrops beyond the counted causes with cookies off", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPSyncookies, 0)
				setSysctl(t, h, SysctlTCPMaxSynBacklog, 8)
				h.Deltas[ListenDrops], h.Deltas[ListenOverflows] = 17, 3
			},
			want: []want{
				{CheckListenOverflows, SeverityCritical, netip.AddrPort{}},
				{CheckUnprovenPeer, SeverityCritical, netip.AddrPort{}},
			},
			contains: map[Check][]string{CheckUnprovenPeer: {"ListenDrops +17 in 2s, 14 more than", "net.ipv4.tcp_max_syn_backlog = 8", "round-trip time cached"}},
		},
		{
			name: "4.12 proves no peer", kernel: "4.12.0",
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPSyncookies, 0)
				h.Deltas[ListenDrops] = 6
			},
			want:     []want{{CheckUnprovenPeer, SeverityCritical, netip.AddrPort{}}},
			contains: map[Check][]string{CheckUnprovenPeer: {"every new SYN is dropped in that zone"}},
		},
		{
			name: "ListenDrops within the margin, or with cookies on, are explained", kernel: kernel618,
			setup: func(t *testing.T, h *Host) {
				setSysctl(t, h, SysctlTCPSyncookies, 0)
				h.Deltas[ListenDrops], h.Deltas[TCPReqQFullDrop] = 11, 10
			},
			want: []want{{CheckSynQueueDrops, SeverityCritical, netip.AddrPort{}}},
		},
		{
			name: "ListenDrops beyond the counted ones with cookies on", kernel: kernel618,
			setup: func(t *testing.T, h *Host) { h.Deltas[ListenDrops] = 40 },
		},
		{
			name: "4.19 tcp_tw_reuse=1 is a note", kernel: kernel419,
			setup:    func(t *testing.T, h *Host) { setSysctl(t, h, SysctlTCPTwReuse, 1) },
			want:     []want{{CheckTWReuse, SeverityInfo, netip.AddrPort{}}},
			contains: map[Check][]string{CheckTWReuse: {"net.ipv4.tcp_tw_reuse = 1", "no effect on SYNs this host receives"}},
		},
		{
			name: "4.19 default tcp_tw_reuse=2 says nothing", kernel: kernel419,
			setup: func(t *testing.T, h *Host) {},
		},
		{
			name: "4.19 backlog clamped to somaxconn 128", kernel: kernel419,
			setup: func(t *testing.T, h *Host) {
				h.Listeners = []HostListener{{Addr: web, Backlog: 128}, {Addr: api, Backlog: 128}, {Addr: netip.MustParseAddrPort("[::]:22"), Backlog: 64}}
			},
			want:     []want{{CheckBacklogClamped, SeverityInfo, netip.AddrPort{}}},
			contains: map[Check][]string{CheckBacklogClamped: {"backlog 128 = net.core.somaxconn = 128: 10.0.0.1:80, 127.0.0.1:8080"}},
			absent:   map[Check][]string{CheckBacklogClamped: {"[::]:22"}},
		},
		{
			name: "6.18 backlog equal to the default somaxconn 4096 is not reported", kernel: kernel618,
			setup: func(t *testing.T, h *Host) { h.Listeners = []HostListener{{Addr: web, Backlog: 4096}} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost(t, tt.kernel)
			tt.setup(t, &h)
			got := Diagnose(h)
			var gotW []want
			for _, f := range got {
				gotW = append(gotW, want{f.Check, f.Severity, f.Listener})
				if f.Evidence == "" || f.Explanation == "" || f.Remedy == "" {
					t.Errorf("%s: empty text in %+v", f.Check, f)
				}
			}
			if !slices.Equal(gotW, tt.want) {
				t.Fatalf("findings %v, want %v\n%s", gotW, tt.want, dump(got))
			}
			for check, texts := range tt.contains {
				s := text(got, check)
				for _, x := range texts {
					if !strings.Contains(s, x) {
						t.Errorf("%s finding lacks %q:\n%s", check, x, s)
					}
				}
			}
			for check, texts := range tt.absent {
				s := text(got, check)
				for _, x := range texts {
					if strings.Contains(s, x) {
						t.Errorf("%s finding has %q:\n%s", check, x, s)
					}
				}
			}
		})
	}
}

func text(fs []Finding, c Check) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Check == c {
			b.WriteString(f.Evidence + "\n" + f.Explanation + "\n" + f.Remedy + "\n")
		}
	}
	return b.String()
}

func dump(fs []Finding) string {
	b, _ := json.MarshalIndent(fs, "", "  ")
	return string(b)
}

// TestDiagnoseOrder checks that findings come most severe first and that
// equal severities keep the order of the checks and the listeners.
func TestDiagnoseOrder(t *testing.T) {
	h := testHost(t, kernel419)
	setSysctl(t, &h, SysctlTCPTwReuse, 1)
	h.Deltas[PAWSEstab] = 1
	h.Deltas[ListenOverflows], h.Deltas[ListenDrops] = 4, 4
	h.Listeners = []HostListener{{Addr: web, AcceptQueue: 129, Backlog: 128}, {Addr: api, AcceptQueue: 6, Backlog: 5}}
	var got []want
	for _, f := range Diagnose(h) {
		got = append(got, want{f.Check, f.Severity, f.Listener})
	}
	wantOrder := []want{
		{CheckAcceptQueueFull, SeverityCritical, web},
		{CheckAcceptQueueFull, SeverityCritical, api},
		{CheckListenOverflows, SeverityCritical, netip.AddrPort{}},
		{CheckTimeWaitPAWS, SeverityWarning, netip.AddrPort{}},
		{CheckBacklogClamped, SeverityInfo, web},
		{CheckTWReuse, SeverityInfo, netip.AddrPort{}},
	}
	if !slices.Equal(got, wantOrder) {
		t.Fatalf("order %v, want %v", got, wantOrder)
	}
}

// TestDiagnoseZero checks that hosts with missing parts yield nothing
// rather than wrong findings: a zero Profile has no TIME_WAIT counter, and
// PassiveOpens (Counter 0) moving must not read as one.
func TestDiagnoseZero(t *testing.T) {
	if fs := Diagnose(Host{}); len(fs) != 0 {
		t.Fatalf("zero host: %v", fs)
	}
	h := Host{Interval: time.Second, Observed: CounterSet(0).With(PassiveOpens)}
	h.Deltas[PassiveOpens] = 100
	if fs := Diagnose(h); len(fs) != 0 {
		t.Fatalf("PassiveOpens moving with a zero profile: %v", dump(fs))
	}
}

// TestDiagnoseRandom feeds random hosts: Diagnose must not panic, must
// sort by severity and must not report a counter the kernel lacks.
func TestDiagnoseRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kernels := []string{"2.6.32-642.el6.x86_64", "3.7.2", kernelRHEL7, "4.4.155", kernel419, "6.12.0", kernel618}
	for range 2000 {
		h := testHost(t, kernels[r.IntN(len(kernels))])
		h.Interval = time.Duration(r.IntN(3)) * time.Second
		h.Observed = CounterSet(r.Uint64()) & h.Profile.Counters
		for c := range h.Deltas {
			if r.IntN(3) == 0 {
				h.Deltas[c] = r.Uint64N(1000)
			}
		}
		h.Settings.TCPSyncookies, h.Settings.TCPTwReuse, h.Settings.TCPTimestamps = r.IntN(3), r.IntN(3), r.IntN(3)
		h.Settings.Somaxconn = []int{0, 128, 4096}[r.IntN(3)]
		for i := range r.IntN(4) {
			l := HostListener{Addr: netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(i)), AcceptQueue: r.Uint32N(200), Backlog: r.Uint32N(200)}
			l.Drops, l.DropsKnown = r.Uint64N(3), r.IntN(3) > 0
			if r.IntN(2) == 0 {
				l.Owners = []HostProcess{{PID: r.IntN(3), OpenFiles: r.IntN(1100), MaxOpenFiles: r.Uint64N(1100), AtFDLimit: r.IntN(4) == 0}}
			}
			h.Listeners = append(h.Listeners, l)
		}
		fs := Diagnose(h)
		if !slices.IsSortedFunc(fs, func(a, b Finding) int { return int(b.Severity) - int(a.Severity) }) {
			t.Fatalf("not sorted: %v", dump(fs))
		}
		for _, f := range fs {
			if f.Evidence == "" || f.Explanation == "" || f.Remedy == "" {
				t.Fatalf("empty text: %+v", f)
			}
			if h.Interval == 0 && (f.Check == CheckListenOverflows || f.Check == CheckPerHostPAWSDrops || f.Check == CheckTimeWaitPAWS ||
				f.Check == CheckSynQueueDrops || f.Check == CheckUnprovenPeer || f.Check == CheckSynCookies) {
				t.Fatalf("counter finding from one reading: %+v", f)
			}
			if f.Check == CheckPerHostPAWSDrops && !h.Observed.Has(PAWSPassive) {
				t.Fatalf("PAWSPassive finding without the counter: %+v", f)
			}
		}
	}
}

// TestFindingJSON checks the JSON shape of a Finding, which the examples
// print.
func TestFindingJSON(t *testing.T) {
	b, err := json.Marshal([]Finding{
		{Check: CheckAcceptQueueFull, Severity: SeverityCritical, Listener: api, Evidence: "e", Explanation: "x", Remedy: "r"},
		{Check: CheckTWReuse, Severity: SeverityInfo, Evidence: "e", Explanation: "x", Remedy: "r"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"check":"accept-queue-full","severity":"critical","listener":"127.0.0.1:8080","evidence":"e","explanation":"x","remedy":"r"},` +
		`{"check":"tw-reuse","severity":"info","evidence":"e","explanation":"x","remedy":"r"}]`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
