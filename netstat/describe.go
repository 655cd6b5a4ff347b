package netstat

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/paws-go/paws"
)

// Description says what "netstat -s" prints for a counter and what the
// counter counts on a given kernel.
type Description struct {
	// Sentence is the net-tools format of the counter's line, with one %d
	// verb: "%d passive connections rejected because of time stamp". For a
	// counter net-tools does not know it is "Name: %d", its fallback.
	Sentence string
	// Meaning says what increments the counter on that kernel, or that the
	// kernel does not have it. Empty for counters this package does not
	// describe.
	Meaning string
	// Always is true when netstat -s prints the line even for 0 (the Tcp
	// and Udp sections); TcpExt lines and fallbacks are printed only when
	// non-zero.
	Always bool
}

// Line returns the sentence with n filled in.
func (d Description) Line(n Value) string {
	return strings.Replace(d.Sentence, "%d", n.String(), 1)
}

// sentence returns the net-tools statistics.c (HEAD 2ab3c5efdb5c) lines for
// the counters of spec §9.1 and the Tcp and Udp sections. Older
// net-tools differ: 1.60 prints "SYNs to LISTEN sockets ignored", and
// releases up to about 2.0-20131004 (RHEL 7's) print "packets rejects in
// established connections because of timestamp".
func sentence(c Counter) string {
	switch c {
	case TCPExtSyncookiesSent:
		return "%d SYN cookies sent"
	case TCPExtSyncookiesRecv:
		return "%d SYN cookies received"
	case TCPExtSyncookiesFailed:
		return "%d invalid SYN cookies received"
	case TCPExtEmbryonicRsts:
		return "%d resets received for embryonic SYN_RECV sockets"
	case TCPExtTW:
		return "%d TCP sockets finished time wait in fast timer"
	case TCPExtTWRecycled:
		return "%d time wait sockets recycled by time stamp"
	case TCPExtTWKilled:
		return "%d TCP sockets finished time wait in slow timer"
	case TCPExtPAWSPassive:
		return "%d passive connections rejected because of time stamp"
	case TCPExtPAWSActive:
		return "%d active connections rejected because of time stamp"
	case TCPExtPAWSEstab:
		return "%d packets rejected in established connections because of timestamp"
	case TCPExtListenOverflows:
		return "%d times the listen queue of a socket overflowed"
	case TCPExtListenDrops:
		return "%d SYNs to LISTEN sockets dropped"
	case "TcpExt:DelayedACKs":
		return "%d delayed acks sent"
	case "TcpExt:PruneCalled":
		return "%d packets pruned from receive queue because of socket buffer overrun"
	case "TcpExt:TCPPureAcks":
		return "%d acknowledgments not containing data payload received"
	case "TcpExt:TCPHPAcks":
		return "%d predicted acknowledgments"
	case "TcpExt:TCPTimeouts":
		return "%d other TCP timeouts"
	case TCPActiveOpens:
		return "%d active connection openings"
	case TCPPassiveOpens:
		return "%d passive connection openings"
	case TCPAttemptFails:
		return "%d failed connection attempts"
	case TCPEstabResets:
		return "%d connection resets received"
	case TCPCurrEstab:
		return "%d connections established"
	case TCPInSegs:
		return "%d segments received"
	case TCPOutSegs:
		return "%d segments sent out"
	case TCPRetransSegs:
		return "%d segments retransmitted"
	case TCPInErrs:
		return "%d bad segments received"
	case TCPOutRsts:
		return "%d resets sent"
	case "Udp:InDatagrams":
		return "%d packets received"
	case "Udp:NoPorts":
		return "%d packets to unknown port received"
	case "Udp:InErrors":
		return "%d packet receive errors"
	case "Udp:OutDatagrams":
		return "%d packets sent"
	case "Udp:RcvbufErrors":
		return "%d receive buffer errors"
	case "Udp:SndbufErrors":
		return "%d send buffer errors"
	}
	return ""
}

// hidden are the fields net-tools never prints (its format is empty or
// static).
func hidden(c Counter) bool {
	switch c {
	case TCPMaxConn, "Tcp:RtoMin", "Tcp:RtoMax", "Tcp:RtoAlgorithm":
		return true
	}
	return false
}

// Describe returns the netstat -s sentence of c and what c counts on
// kernel v (spec §9). A zero v describes the newest behaviour.
func Describe(c Counter, v paws.KernelVersion) Description {
	d := Description{Sentence: sentence(c)}
	if d.Sentence == "" {
		d.Sentence = c.Name() + ": %d"
	}
	d.Always = c.Proto() == "Tcp" || c.Proto() == "Udp"
	d.Meaning = meaning(c, v)
	return d
}

func meaning(c Counter, v paws.KernelVersion) string {
	at := func(major, minor int) bool { return v.IsZero() || v.AtLeast(major, minor, 0) }
	rhel := v.Distro()
	switch c {
	case TCPExtPAWSPassive:
		if at(4, 12) {
			return "not on this kernel: removed in 4.12 together with tcp_tw_recycle and the per-host PAWS check"
		}
		m := "SYNs dropped by the per-host PAWS check (tcp_tw_recycle=1): the SYN's TSval was older than the one remembered for its source address less than 60 s ago"
		if at(3, 8) {
			return m + "; each drop also counts in ListenDrops"
		}
		return m + "; before 3.8 these drops do not count in ListenDrops"
	case TCPExtPAWSActive:
		return "SYN-ACKs rejected because their TSecr was not a timestamp this side sent (active opens)"
	case TCPExtPAWSEstab:
		if at(6, 16) {
			return "segments dropped by PAWS on established and SYN_RECV connections; TIME_WAIT rejects count in PAWSTimewait from 6.16"
		}
		return "segments dropped by PAWS on established and SYN_RECV connections, and SYNs or segments rejected by PAWS on TIME_WAIT sockets (PAWSTimewait does not exist before 6.16)"
	case TCPExtPAWSOldAck:
		if !at(6, 14) {
			return "not on this kernel: added in 6.14"
		}
		return "old ACKs dropped by PAWS that earlier kernels counted in PAWSEstab"
	case TCPExtTSEcrRejected:
		if !at(6, 15) {
			return "not on this kernel: added in 6.15"
		}
		return "segments whose TSecr does not match a timestamp this side sent (SYN_RECV check)"
	case TCPExtPAWSTimewait:
		if !at(6, 16) {
			return "not on this kernel: added in 6.16; TIME_WAIT PAWS rejects count in PAWSEstab"
		}
		return "segments and SYNs rejected by PAWS on TIME_WAIT sockets (an ACK is sent back)"
	case TCPExtBeyondWindow:
		if !at(6, 17) {
			return "not on this kernel: added in 6.17"
		}
		return "segments dropped because they lie beyond the receive window"
	case TCPExtListenOverflows:
		if at(3, 8) {
			return "accept queue full: a SYN dropped, or a completing handshake's final ACK dropped (each also counts in ListenDrops)"
		}
		return "accept queue full when the final ACK of a handshake arrived"
	case TCPExtListenDrops:
		if at(3, 8) {
			return "every SYN or final ACK a listener dropped: accept queue full, SYN queue full without syncookies, unproven peer, per-host PAWS, and other listen-path failures"
		}
		return "only failures on the final-ACK path (accept queue full, child creation failed); SYN-path drops such as per-host PAWS are not counted before 3.8"
	case TCPExtTCPReqQFullDrop:
		if !at(3, 6) {
			return "not on this kernel: added by 3.6"
		}
		return "SYNs dropped because the SYN queue was full and syncookies were off"
	case TCPExtTCPReqQFullDoCookies:
		if !at(3, 6) {
			return "not on this kernel: added by 3.6"
		}
		return "SYNs answered with a syncookie because the SYN queue was full (or tcp_syncookies=2)"
	case TCPExtSyncookiesSent:
		return "SYN-ACKs sent with a syncookie"
	case TCPExtSyncookiesRecv:
		return "valid syncookie ACKs received"
	case TCPExtSyncookiesFailed:
		return "ACKs that looked like syncookie answers but did not validate"
	case TCPExtTW:
		return "TIME_WAIT sockets that expired"
	case TCPExtTWRecycled:
		return "TIME_WAIT sockets taken over by a new outgoing connection (tcp_tw_reuse)"
	case TCPExtTWKilled:
		return "TIME_WAIT sockets killed early (tcp_tw_recycle's short timeout, or an RST)"
	case TCPExtTCPTimeWaitOverflow:
		if !at(3, 0) && rhel != paws.DistroRHEL6 {
			return "not on this kernel: added in 3.0"
		}
		return "connections closed without a TIME_WAIT socket because tcp_max_tw_buckets was reached"
	case TCPExtTCPChallengeACK, TCPExtTCPSYNChallenge:
		if !at(3, 6) && rhel != paws.DistroRHEL6 {
			return "not on this kernel: added in 3.6 (RFC 5961)"
		}
		if c == TCPExtTCPSYNChallenge {
			return "SYNs received on an established connection, answered with a challenge ACK"
		}
		return "challenge ACKs sent (RFC 5961)"
	case TCPExtTCPACKSkippedSynRecv, TCPExtTCPACKSkippedPAWS, TCPExtTCPACKSkippedSeq,
		TCPExtTCPACKSkippedFinWait2, TCPExtTCPACKSkippedTimeWait, TCPExtTCPACKSkippedChallenge:
		if !at(4, 0) && rhel != paws.DistroRHEL7 {
			return "not on this kernel: added in 4.0 (RHEL 7 backport)"
		}
		return "ACKs not sent because of tcp_invalid_ratelimit"
	case TCPExtEmbryonicRsts:
		return "RSTs received for connections in SYN_RECV"
	case TCPPassiveOpens:
		return "connections a listener created, counted at the final ACK, not at the SYN"
	case TCPActiveOpens:
		return "connect() calls that sent a SYN"
	case TCPAttemptFails:
		return "connections that went from SYN_SENT or SYN_RECV to CLOSED, or from SYN_RECV back to LISTEN"
	}
	return ""
}

// presence is spec §9.2: when a described counter is printed.
type presence struct {
	c     Counter
	since [2]int // major, minor; zero for every version
	until [2]int // first version without it; zero for none
	rhel  paws.Distro
}

func presences() []presence {
	return []presence{
		{c: TCPExtSyncookiesSent},
		{c: TCPExtSyncookiesRecv},
		{c: TCPExtSyncookiesFailed},
		{c: TCPExtEmbryonicRsts},
		{c: TCPExtTW},
		{c: TCPExtTWRecycled},
		{c: TCPExtTWKilled},
		{c: TCPExtPAWSPassive, until: [2]int{4, 12}},
		{c: TCPExtPAWSActive},
		{c: TCPExtPAWSEstab},
		{c: TCPExtBeyondWindow, since: [2]int{6, 17}},
		{c: TCPExtTSEcrRejected, since: [2]int{6, 15}},
		{c: TCPExtPAWSOldAck, since: [2]int{6, 14}},
		{c: TCPExtPAWSTimewait, since: [2]int{6, 16}},
		{c: TCPExtListenOverflows},
		{c: TCPExtListenDrops},
		{c: TCPExtTCPTimeWaitOverflow, since: [2]int{3, 0}},
		{c: TCPExtTCPReqQFullDoCookies, since: [2]int{3, 6}},
		{c: TCPExtTCPReqQFullDrop, since: [2]int{3, 6}},
		{c: TCPExtTCPChallengeACK, since: [2]int{3, 6}, rhel: paws.DistroRHEL6},
		{c: TCPExtTCPSYNChallenge, since: [2]int{3, 6}, rhel: paws.DistroRHEL6},
		{c: TCPExtTCPACKSkippedSynRecv, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPExtTCPACKSkippedPAWS, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPExtTCPACKSkippedSeq, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPExtTCPACKSkippedFinWait2, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPExtTCPACKSkippedTimeWait, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPExtTCPACKSkippedChallenge, since: [2]int{4, 0}, rhel: paws.DistroRHEL7},
		{c: TCPActiveOpens},
		{c: TCPPassiveOpens},
		{c: TCPAttemptFails},
		{c: TCPMaxConn},
	}
}

// Expected returns the counters of spec §9.1 that kernel v prints, from
// the per-version lists of spec §9.2, including the RHEL 6 and RHEL 7
// backports recognised by v.Distro(). Counters outside §9.1 are not
// listed.
func Expected(v paws.KernelVersion) []Counter {
	var cs []Counter
	for _, e := range presences() {
		in := e.since == [2]int{} || v.AtLeast(e.since[0], e.since[1], 0) || (e.rhel != paws.DistroNone && v.Distro() == e.rhel)
		if e.until != [2]int{} && v.AtLeast(e.until[0], e.until[1], 0) {
			in = false
		}
		if in {
			cs = append(cs, e.c)
		}
	}
	return cs
}

// Format writes d as "netstat -s" prints it: each protocol as a
// "Proto:" line, then one indented sentence per counter, Tcp and Udp
// lines always, all others only when non-zero. Sentences are those of
// Describe for kernel v.
func (d *Delta) Format(w io.Writer, v paws.KernelVersion) error {
	bw := bufio.NewWriter(w)
	if d.lay != nil {
		last := ""
		for _, g := range d.lay.groups {
			for i := g.start; i < g.end; i++ {
				c, val := d.lay.keys[i], d.values[i]
				if hidden(c) {
					continue
				}
				desc := Describe(c, v)
				if !desc.Always && val == (Value{}) {
					continue
				}
				if g.proto != last {
					fmt.Fprintf(bw, "%s:\n", g.proto)
					last = g.proto
				}
				fmt.Fprintf(bw, "    %s\n", desc.Line(val))
			}
		}
	}
	return bw.Flush()
}
