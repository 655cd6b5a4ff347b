package paws

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Diagnose turns an observed host into findings, most severe first; among
// equally severe findings the order is that of the checks below, and
// within a check that of h.Listeners. It does no I/O and never fails: a
// missing value yields no finding rather than a wrong one.
//
// The checks (Check constants):
//
//   - per-host-paws-risk: tcp_tw_recycle and timestamps are on (≤ 4.11);
//     NATed clients will be dropped. An info finding when tcp_tw_recycle
//     is absent from the namespace of a kernel that has it (it is global
//     there).
//   - per-host-paws-drops: PAWSPassive rose.
//   - timewait-paws: the TIME_WAIT PAWS counter of the profile rose
//     (PAWSTimewait from 6.16, PAWSEstab before, where it is only a hint).
//   - accept-queue-full: a listener's accept queue is full now.
//   - listen-overflows: ListenOverflows rose. When every listener's
//     Drops is known, the finding names the listeners whose drops rose,
//     and is about one listener (Finding.Listener) when only one did;
//     otherwise it names those whose accept queues are fullest now.
//   - syn-queue-drops: TCPReqQFullDrop rose.
//   - unproven-peer-drops: with tcp_syncookies=0, ListenDrops rose by at
//     least 2 more than ListenOverflows, TCPReqQFullDrop and PAWSPassive
//     together (SYNs from peers without cached RTT dropped in the last
//     quarter of tcp_max_syn_backlog, counted nowhere else). The margin of
//     2 absorbs the skew of reading two per-CPU sums one after the other.
//   - syn-cookies: TCPReqQFullDoCookies rose (info).
//   - fd-limit: a listener's owner is at its descriptor limit (critical),
//     or uses 90% of it or more (warning).
//   - backlog-clamped: a listener's backlog equals a net.core.somaxconn
//     below 4096 (info).
//   - tw-reuse, timestamps: trade-offs of tcp_tw_reuse=1 and
//     tcp_timestamps=0 (info).
//
// Rules on counters need h.Interval > 0 and the counter in h.Observed: a
// counter the kernel does not have never yields a finding, and a single
// reading yields only the findings about the current state. Rules on
// sysctls need the sysctl present (not in h.Absent, and known to the
// kernel of h.Profile): a Host without a Profile yields no finding on
// sysctls.
func Diagnose(h Host) []Finding {
	d := diagnosis{h: &h}
	d.perHostPAWS()
	d.timeWaitPAWS()
	d.acceptQueues()
	d.listenOverflows()
	d.synQueue()
	d.unprovenPeers()
	d.fdLimits()
	d.backlogClamped()
	d.notes()
	slices.SortStableFunc(d.out, func(a, b Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	return d.out
}

// diagnosis collects the findings of one Host.
type diagnosis struct {
	h   *Host
	out []Finding
}

func (d *diagnosis) add(f Finding) { d.out = append(d.out, f) }

// moved returns how far c rose over the interval, and false when it did
// not, when the kernel does not have c, or when there was one reading.
func (d *diagnosis) moved(c Counter) (uint64, bool) {
	h := d.h
	if h.Interval <= 0 || int(c) >= NumCounters || !h.Observed.Has(c) || h.Deltas[c] == 0 {
		return 0, false
	}
	return h.Deltas[c], true
}

// delta returns c's delta over the interval, 0 when it is not observed.
func (d *diagnosis) delta(c Counter) uint64 {
	if d.h.Interval <= 0 || int(c) >= NumCounters || !d.h.Observed.Has(c) {
		return 0
	}
	return d.h.Deltas[c]
}

// present reports whether the kernel has the sysctl and the namespace
// showed it, so that its Settings field is a value read, not a default.
// Without a profile (zero Era) nothing is known of the sysctls.
func (d *diagnosis) present(name string) bool {
	return d.h.Profile.Era != 0 && d.h.Profile.HasSysctl(name) && !slices.Contains(d.h.Absent, name)
}

// sysctl formats "name = value", or "name absent".
func (d *diagnosis) sysctl(name string) string {
	if !d.present(name) {
		return name + " absent"
	}
	v, _ := d.h.Settings.Sysctl(name)
	return name + " = " + strconv.Itoa(v)
}

// counters formats the deltas of cs that the kernel has, the first with
// its rate: "ListenOverflows +75 in 2s (37.5/s), ListenDrops +75".
func (d *diagnosis) counters(cs ...Counter) string {
	var b strings.Builder
	for _, c := range cs {
		if !d.h.Observed.Has(c) {
			continue
		}
		n := d.h.Deltas[c]
		if b.Len() > 0 {
			fmt.Fprintf(&b, ", %s +%d", c.Name(), n)
			continue
		}
		fmt.Fprintf(&b, "%s +%d in %s (%s/s)", c.Name(), n, formatInterval(d.h.Interval), formatRate(n, d.h.Interval))
	}
	return b.String()
}

func formatInterval(iv time.Duration) string {
	if iv >= time.Second {
		return iv.Round(10 * time.Millisecond).String()
	}
	return iv.Round(time.Millisecond).String()
}

func formatRate(n uint64, iv time.Duration) string {
	r := float64(n) / iv.Seconds()
	if r >= 100 {
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(r*100)/100, 'f', -1, 64)
}

// kernel names the observed kernel for explanations.
func (d *diagnosis) kernel() string {
	if d.h.Profile.Kernel.IsZero() {
		return "this kernel"
	}
	return d.h.Profile.Kernel.String()
}

const twRecycleRemedy = "Set net.ipv4.tcp_tw_recycle=0 now (sysctl -w) and remove it from /etc/sysctl.conf and /etc/sysctl.d. " +
	"Keep net.ipv4.tcp_timestamps on. The option breaks clients behind NAT and was removed from Linux in 4.12."

func (d *diagnosis) perHostPAWS() {
	h, p := d.h, &d.h.Profile
	if p.HasTWRecycle && slices.Contains(h.Absent, SysctlTCPTwRecycle) {
		d.add(Finding{
			Check: CheckPerHostPAWSRisk, Severity: SeverityInfo,
			Evidence: SysctlTCPTwRecycle + " absent in this namespace; kernel " + d.kernel(),
			Explanation: "This kernel has tcp_tw_recycle, but not in this network namespace: before 4.11 it is global, " +
				"and the initial namespace's value applies here too. If it is 1 there, per-host PAWS drops SYNs of NATed clients in every namespace.",
			Remedy: "Read it in the host's namespace (sysctl net.ipv4.tcp_tw_recycle); if it is 1, set it to 0 there.",
		})
	}
	tw := p.HasTWRecycle && h.Settings.TCPTwRecycle == 1 && d.present(SysctlTCPTwRecycle)
	if tw && h.Settings.TCPTimestamps != 0 {
		var ex strings.Builder
		ex.WriteString("With tcp_tw_recycle on, this kernel remembers for each client address the last timestamp (TSval) " +
			"of the connections it closed first, for 60 s, and silently drops any SYN from that address carrying an older TSval (per-host PAWS). " +
			"Clients behind one NAT or load-balancer address with different clocks will be dropped for 60 s after the server closes a connection of another: " +
			"they retransmit their SYN and their connect() times out.")
		if p.Era == EraConnRequest {
			ex.WriteString(" A SYN without timestamps from such an address is dropped as well.")
		}
		ex.WriteString(" Clients whose TSval offset changes per connection (Linux 4.10.0, 6.12.94 and later 6.12, 7.0) are dropped even without NAT.")
		if !p.ListenCountersOnSYN {
			ex.WriteString(" Each drop counts in PAWSPassive only, not in ListenDrops (before 3.8).")
		} else {
			ex.WriteString(" Each drop counts in PAWSPassive and ListenDrops.")
		}
		if !p.PerHostIPv6 {
			ex.WriteString(" IPv6 clients are not affected on this kernel.")
		}
		d.add(Finding{
			Check: CheckPerHostPAWSRisk, Severity: SeverityWarning,
			Evidence:    d.sysctl(SysctlTCPTwRecycle) + ", " + d.sysctl(SysctlTCPTimestamps) + "; kernel " + d.kernel(),
			Explanation: ex.String(),
			Remedy:      twRecycleRemedy,
		})
	}
	if _, ok := d.moved(PAWSPassive); ok {
		ev := d.counters(PAWSPassive, ListenDrops)
		if d.present(SysctlTCPTwRecycle) {
			ev += "; " + d.sysctl(SysctlTCPTwRecycle)
		}
		d.add(Finding{
			Check: CheckPerHostPAWSDrops, Severity: SeverityCritical,
			Evidence: ev,
			Explanation: "SYNs are being dropped silently by per-host PAWS (tcp_tw_recycle): their TSval was older than the one this server cached for their address " +
				"when it last closed a connection from it, less than 60 s earlier. Typically several clients share one NAT address. " +
				"The clients see SYN retransmissions and connect timeouts; \"ip tcp_metrics show\" lists the cached TSvals (tw_ts) per address.",
			Remedy: twRecycleRemedy,
		})
	}
}

func (d *diagnosis) timeWaitPAWS() {
	h, p := d.h, &d.h.Profile
	c := p.TimeWaitPAWSCounter
	if c != PAWSTimewait && c != PAWSEstab {
		return
	}
	if _, ok := d.moved(c); !ok {
		return
	}
	ev := d.counters(c, TCPACKSkippedTimeWait) + "; " + d.sysctl(SysctlTCPRFC1337)
	var ex strings.Builder
	ex.WriteString("SYNs reused the address and port of a client connection that this server closed first and still holds in TIME_WAIT (60 s), " +
		"with a TSval older than that connection's last one: another host behind the same NAT reusing the port, " +
		"or a client whose TSval offset changes per connection. The TIME_WAIT socket answers such a SYN with a bare ACK, not a SYN-ACK.")
	sev := SeverityWarning
	if h.Settings.TCPRFC1337 == 1 && d.present(SysctlTCPRFC1337) {
		sev = SeverityCritical
		ex.WriteString(" With tcp_rfc1337=1 the TIME_WAIT socket ignores the client's RST, every retransmitted SYN is rejected again " +
			"and re-arms its 60 s timer: these connections fail.")
	} else {
		ex.WriteString(" The client answers with a RST that kills the TIME_WAIT socket (tcp_rfc1337=0) and its next SYN gets through: " +
			"the connection is delayed (about 10 ms on a recent client, up to 1 s on older ones), not lost.")
	}
	if c == PAWSEstab {
		ex.WriteString(" On " + d.kernel() + " (before 6.16) the counter is PAWSEstab, which also counts segments of established connections " +
			"rejected by PAWS: this is a hint, not proof. A capture (pcapts) shows whether SYNs are answered by a bare ACK.")
	}
	d.add(Finding{
		Check: CheckTimeWaitPAWS, Severity: sev,
		Evidence: ev, Explanation: ex.String(),
		Remedy: "Do not turn tcp_timestamps off: that only hides the rejections and removes PAWS and RTT measurement from every connection. " +
			"Let clients close first (HTTP keep-alive, client-side close) so the TIME_WAIT stays on the clients, where tcp_tw_reuse=1 lets them reuse it; " +
			"give the NAT more source ports or addresses so that it reuses a port less often; keep tcp_rfc1337=0.",
	})
}

// owners formats the owners of l: "pawsd (pid 12) 9/1024 fds".
func owners(l *HostListener) string {
	if len(l.Owners) == 0 {
		return "owner unknown"
	}
	var parts []string
	for _, o := range l.Owners {
		parts = append(parts, fmt.Sprintf("%s (pid %d) %d/%d fds", o.Command, o.PID, o.OpenFiles, o.MaxOpenFiles))
	}
	return "owner " + strings.Join(parts, ", ")
}

// acceptRemedy is the remedy for a full accept queue.
func (d *diagnosis) acceptRemedy() string {
	return "Find why the application does not accept() fast enough: a blocked or single-threaded accept loop, too few workers, or its descriptor limit. " +
		"A larger backlog (the listen() argument, capped by " + d.sysctl(SysctlSomaxconn) + ") only absorbs bursts."
}

func (d *diagnosis) acceptQueues() {
	p := &d.h.Profile
	for i := range d.h.Listeners {
		l := &d.h.Listeners[i]
		if l.AcceptQueue <= l.Backlog {
			continue
		}
		var ex strings.Builder
		fmt.Fprintf(&ex, "The accept queue of %s is full: %d connections are waiting for the application to call accept(). Until it does, the kernel drops ", l.Addr, l.AcceptQueue)
		if p.AcceptQueueYoung {
			ex.WriteString("new SYNs to this listener while more than one recent handshake is pending, and the final ACK of handshakes in progress;")
		} else {
			ex.WriteString("every new SYN to this listener and the final ACK of handshakes in progress;")
		}
		ex.WriteString(" clients retransmit and wait.")
		var remedy string
		for _, o := range l.Owners {
			if o.AtFDLimit {
				fmt.Fprintf(&ex, " %s (pid %d) has all %d descriptors of its limit (RLIMIT_NOFILE) open: accept() fails with EMFILE, so the queue cannot drain.",
					o.Command, o.PID, o.MaxOpenFiles)
				remedy += fdRemedy(o) + " "
			}
		}
		if len(l.Owners) == 0 {
			ex.WriteString(" No process holding the socket could be read (run as root to see the owners).")
		}
		d.add(Finding{
			Check: CheckAcceptQueueFull, Severity: SeverityCritical, Listener: l.Addr,
			Evidence:    fmt.Sprintf("accept queue %d > backlog %d (ss -ltn Recv-Q, Send-Q); %s", l.AcceptQueue, l.Backlog, owners(l)),
			Explanation: ex.String(),
			Remedy:      remedy + d.acceptRemedy(),
		})
	}
}

// fill is how full a listener's accept queue is: 1 when full.
func fill(l HostListener) float64 { return float64(l.AcceptQueue) / (float64(l.Backlog) + 1) }

func (d *diagnosis) listenOverflows() {
	if _, ok := d.moved(ListenOverflows); !ok {
		return
	}
	var cands []HostListener
	for _, l := range d.h.Listeners {
		if l.AcceptQueue > 0 {
			cands = append(cands, l)
		}
	}
	slices.SortStableFunc(cands, func(a, b HostListener) int { return cmp.Compare(fill(b), fill(a)) })
	var ex strings.Builder
	ex.WriteString("A listener's accept queue was full while connections arrived: ")
	if d.h.Profile.ListenCountersOnSYN {
		ex.WriteString("the SYNs and final handshake ACKs that met it were dropped.")
	} else {
		ex.WriteString("the final handshake ACKs that met it were dropped (on this kernel SYNs dropped for a full queue count nowhere).")
	}
	ev := d.counters(ListenOverflows, ListenDrops)
	var about netip.AddrPort
	if dropped, ok := d.listenerDrops(); ok {
		if len(dropped) == 0 {
			ex.WriteString(" The counter covers the whole namespace and no listener open now dropped anything over the interval: " +
				"the listener that overflowed has been closed since.")
		} else {
			var names []string
			for _, l := range dropped[:min(5, len(dropped))] {
				names = append(names, fmt.Sprintf("%s +%d (accept queue %d of %d)", l.Addr, l.Drops, l.AcceptQueue, uint64(l.Backlog)+1))
			}
			if len(dropped) > 5 {
				names = append(names, fmt.Sprintf("%d more", len(dropped)-5))
			}
			ev += "; dropped by listener (sk_drops): " + strings.Join(names, ", ")
			ex.WriteString(" The counter covers the whole namespace; the listeners' own drop counters show which dropped: " + dropped[0].Addr.String())
			if len(dropped) > 1 {
				fmt.Fprintf(&ex, " most, and %d more.", len(dropped)-1)
			} else {
				about = dropped[0].Addr
				ex.WriteString(", and no other.")
			}
		}
	} else if len(cands) == 0 {
		ex.WriteString(" The counter covers the whole namespace and no queue holds a connection now: the overflow was a burst that has drained since.")
	} else {
		var names []string
		for _, l := range cands[:min(3, len(cands))] {
			names = append(names, fmt.Sprintf("%s %d of %d (backlog %d)", l.Addr, l.AcceptQueue, uint64(l.Backlog)+1, l.Backlog))
		}
		ev += "; fullest accept queues now: " + strings.Join(names, ", ")
		ex.WriteString(" The counter covers the whole namespace; the candidates are the listeners whose queues are fullest now: " + cands[0].Addr.String() + " first.")
	}
	d.add(Finding{
		Check: CheckListenOverflows, Severity: SeverityCritical, Listener: about,
		Evidence: ev, Explanation: ex.String(), Remedy: d.acceptRemedy(),
	})
}

// listenerDrops returns the listeners whose drops rose over the interval,
// most first, and false when the drops of some listener (or of all, when
// there is none) are not known.
func (d *diagnosis) listenerDrops() ([]HostListener, bool) {
	ls := d.h.Listeners
	if len(ls) == 0 || slices.ContainsFunc(ls, func(l HostListener) bool { return !l.DropsKnown }) {
		return nil, false
	}
	var out []HostListener
	for _, l := range ls {
		if l.Drops > 0 {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b HostListener) int { return cmp.Compare(b.Drops, a.Drops) })
	return out, true
}

// synQueueSize says how the SYN queue of a listener is sized on the
// profile's kernel.
func (d *diagnosis) synQueueSize() string {
	switch d.h.Profile.SynQueue {
	case SynQueuePow2:
		return "On this kernel a listener's SYN queue holds roundup_pow_of_two(max(8, min(backlog, tcp_max_syn_backlog)) + 1) requests."
	case SynQueueBacklogStrict:
		return "On this kernel a listener's SYN queue holds its listen backlog plus one request; tcp_max_syn_backlog does not size it."
	}
	return "On this kernel a listener's SYN queue holds as many requests as its listen backlog; tcp_max_syn_backlog does not size it."
}

func (d *diagnosis) synQueue() {
	h := d.h
	if _, ok := d.moved(TCPReqQFullDrop); ok {
		ev := d.counters(TCPReqQFullDrop, ListenDrops) + "; " + d.sysctl(SysctlTCPSyncookies) + ", " + d.sysctl(SysctlTCPMaxSynBacklog)
		f := Finding{Check: CheckSynQueueDrops, Severity: SeverityCritical, Evidence: ev}
		if h.Settings.TCPSyncookies == 0 && d.present(SysctlTCPSyncookies) {
			f.Explanation = "A listener's SYN queue (handshakes waiting for the client's final ACK) was full and SYN cookies are off, " +
				"so new SYNs were dropped silently: a SYN flood, or many clients whose final ACK is slow or lost. " + d.synQueueSize()
		} else {
			f.Severity = SeverityWarning
			f.Explanation = "The kernel dropped SYNs on a full SYN queue as if SYN cookies were off, although " + d.sysctl(SysctlTCPSyncookies) +
				" here: the setting changed during the interval, the value in force is the initial namespace's (the sysctl is global on older kernels), " +
				"or the kernel is built without CONFIG_SYN_COOKIES. " + d.synQueueSize()
		}
		f.Remedy = "Set net.ipv4.tcp_syncookies=1: a full SYN queue is then answered with cookies instead of dropping. Raise the listen backlog and net.core.somaxconn"
		if h.Profile.SynQueue == SynQueuePow2 {
			f.Remedy += " and net.ipv4.tcp_max_syn_backlog, which all cap the SYN queue on this kernel."
		} else {
			f.Remedy += ", which cap the SYN queue on this kernel."
		}
		d.add(f)
	}
	if _, ok := d.moved(TCPReqQFullDoCookies); ok {
		d.add(Finding{
			Check: CheckSynCookies, Severity: SeverityInfo,
			Evidence: d.counters(TCPReqQFullDoCookies, SyncookiesSent, SyncookiesRecv) + "; " + d.sysctl(SysctlTCPSyncookies),
			Explanation: "A listener's SYN queue overflowed and the kernel answered with SYN cookies: connections still succeed. " +
				"A cookie keeps window scaling and SACK only when timestamps are on, and its final ACK is still dropped if the accept queue is full, " +
				"leaving a connection the client believes open.",
			Remedy: "Nothing is lost yet. If this is not an attack, raise the listen backlog (and net.core.somaxconn) of the busy listener.",
		})
	}
}

func (d *diagnosis) unprovenPeers() {
	h := d.h
	if !h.Profile.ListenCountersOnSYN || h.Settings.TCPSyncookies != 0 || !d.present(SysctlTCPSyncookies) {
		return
	}
	drops, ok := d.moved(ListenDrops)
	if !ok {
		return
	}
	counted := d.delta(ListenOverflows) + d.delta(TCPReqQFullDrop) + d.delta(PAWSPassive)
	if drops < counted+2 {
		return
	}
	ex := "With SYN cookies off, once a listener's SYN queue has less than a quarter of tcp_max_syn_backlog free, the kernel drops SYNs from clients " +
		"it has no round-trip time cached for, and counts them only in ListenDrops. "
	if h.Profile.Proven == ProvenNever {
		ex += "On this kernel no client counts as known at that point, so every new SYN is dropped in that zone. "
	} else {
		ex += "Clients that completed a connection to this host before (an RTT in tcp_metrics) still get through. "
	}
	ex += "This is reachable only when a listen backlog exceeds three quarters of tcp_max_syn_backlog. " +
		"Other listen-path failures (memory, routing) also count only in ListenDrops."
	d.add(Finding{
		Check: CheckUnprovenPeer, Severity: SeverityCritical,
		Evidence: fmt.Sprintf("ListenDrops +%d in %s, %d more than ListenOverflows, TCPReqQFullDrop and PAWSPassive together; %s, %s",
			drops, formatInterval(h.Interval), drops-counted, d.sysctl(SysctlTCPSyncookies), d.sysctl(SysctlTCPMaxSynBacklog)),
		Explanation: ex,
		Remedy:      "Set net.ipv4.tcp_syncookies=1, or raise net.ipv4.tcp_max_syn_backlog to at least 4/3 of the largest listen backlog.",
	})
}

// fdRemedy is the remedy for an owner at or near its descriptor limit.
func fdRemedy(o HostProcess) string {
	return fmt.Sprintf("Raise the descriptor limit of %s: LimitNOFILE= in its systemd unit, ulimit -n where it is started, "+
		"or prlimit --pid %d --nofile=SOFT:HARD for the running process; check it for a descriptor leak (ls /proc/%d/fd | wc -l over time).",
		o.Command, o.PID, o.PID)
}

func (d *diagnosis) fdLimits() {
	seen := make(map[int]bool)
	for _, l := range d.h.Listeners {
		for _, o := range l.Owners {
			if seen[o.PID] {
				continue
			}
			seen[o.PID] = true
			var f Finding
			switch {
			case o.AtFDLimit:
				f.Severity = SeverityCritical
				f.Explanation = fmt.Sprintf("%s has no free descriptor: accept() fails with EMFILE (too many open files), so connections stay in the accept queue; "+
					"once it is full the kernel drops every new SYN to its listeners.", o.Command)
			case o.MaxOpenFiles > 0 && uint64(o.OpenFiles)*10 >= o.MaxOpenFiles*9:
				f.Severity = SeverityWarning
				f.Explanation = fmt.Sprintf("%s uses %d%% of its descriptor limit. At the limit accept() fails with EMFILE, "+
					"its accept queues fill and the kernel drops SYNs to its listeners.", o.Command, uint64(o.OpenFiles)*100/o.MaxOpenFiles)
			default:
				continue
			}
			f.Check, f.Listener = CheckFDLimit, l.Addr
			f.Evidence = fmt.Sprintf("%s (pid %d): %d of %d descriptors open (RLIMIT_NOFILE soft limit); holds %s",
				o.Command, o.PID, o.OpenFiles, o.MaxOpenFiles, strings.Join(d.heldBy(o.PID), ", "))
			f.Remedy = fdRemedy(o)
			d.add(f)
		}
	}
}

// heldBy lists the listeners that process pid holds.
func (d *diagnosis) heldBy(pid int) []string {
	var out []string
	for _, l := range d.h.Listeners {
		if slices.ContainsFunc(l.Owners, func(o HostProcess) bool { return o.PID == pid }) {
			out = append(out, l.Addr.String())
		}
	}
	return out
}

// smallSomaxconn is the net.core.somaxconn below which a backlog equal to
// it is reported as clamped: the default from 5.4.
const smallSomaxconn = 4096

func (d *diagnosis) backlogClamped() {
	s := d.h.Settings.Somaxconn
	if s <= 0 || s >= smallSomaxconn || !d.present(SysctlSomaxconn) {
		return
	}
	var addrs []string
	var only netip.AddrPort
	for _, l := range d.h.Listeners {
		if int64(l.Backlog) == int64(s) {
			addrs = append(addrs, l.Addr.String())
			only = l.Addr
		}
	}
	if len(addrs) == 0 {
		return
	}
	if len(addrs) > 1 {
		only = netip.AddrPort{}
	}
	if len(addrs) > 5 {
		addrs = append(addrs[:5], fmt.Sprintf("%d more", len(addrs)-5))
	}
	d.add(Finding{
		Check: CheckBacklogClamped, Severity: SeverityInfo, Listener: only,
		Evidence: fmt.Sprintf("backlog %d = %s: %s", s, d.sysctl(SysctlSomaxconn), strings.Join(addrs, ", ")),
		Explanation: "The effective backlog of these listeners equals net.core.somaxconn: the application probably asked for more " +
			"(nginx asks for 511, many servers for 65535 or -1) and the kernel cut it down. Their accept queues hold backlog+1 connections, " +
			"and on 4.4 and later the SYN queue is capped by the same number.",
		Remedy: "If a queue fills in bursts, raise net.core.somaxconn (4096 is the default from 5.4) and restart the application so that it listens again.",
	})
}

func (d *diagnosis) notes() {
	h := d.h
	if h.Settings.TCPTwReuse == 1 && d.present(SysctlTCPTwReuse) {
		d.add(Finding{
			Check: CheckTWReuse, Severity: SeverityInfo, Evidence: d.sysctl(SysctlTCPTwReuse),
			Explanation: "tcp_tw_reuse=1 lets this host's own outgoing connections (connect()) take over its TIME_WAIT sockets toward the same server, " +
				"protected by timestamps. It is client side only: it has no effect on SYNs this host receives, so it neither causes nor cures dropped SYNs here.",
			Remedy: "Nothing to change for incoming connections; TIME_WAIT on the server side is handled by letting clients close first.",
		})
	}
	if h.Settings.TCPTimestamps == 0 && d.present(SysctlTCPTimestamps) {
		d.add(Finding{
			Check: CheckTimestamps, Severity: SeverityInfo, Evidence: d.sysctl(SysctlTCPTimestamps),
			Explanation: "With timestamps off no SYN is dropped by PAWS here (neither per-host nor TIME_WAIT), but every connection loses " +
				"RFC 7323 round-trip measurement and its protection against old duplicates once sequence numbers wrap. " +
				"It hides NAT port reuse rather than fixing it: a SYN meeting a TIME_WAIT socket is then accepted only if its sequence number is higher, " +
				"about half the time, and the rejection (a bare ACK) counts nowhere.",
			Remedy: "Turn timestamps back on (sysctl -w net.ipv4.tcp_timestamps=1) and fix tcp_tw_recycle or TIME_WAIT reuse at their cause.",
		})
	}
}
