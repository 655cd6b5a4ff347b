package kernelcheck

import (
	"context"
	"errors"
	"time"

	"github.com/paws-go/paws"
)

// ErrUnavailable is wrapped by the error of Available, and of Run, when
// this process cannot run scenarios: not root, a tool missing, or not
// Linux.
var ErrUnavailable = errors.New("kernelcheck: cannot run live scenarios")

// DefaultTimeout bounds one scenario when Options.Timeout is zero. Each
// scenario's traffic takes under 5 s.
const DefaultTimeout = 30 * time.Second

// Options configures Run. The zero value is ready to use.
type Options struct {
	// Dir, when set, keeps each scenario's capture as Dir/<name>.pcap;
	// otherwise it is written to a temporary directory and removed.
	Dir string
	// Timeout bounds the scenario, setup and cleanup included (default
	// DefaultTimeout).
	Timeout time.Duration
	// Kernel, when set, makes the evaluator apply the rules of this
	// release (paws.ProfileFor) instead of the running kernel's, to see
	// which of them the running kernel does not follow.
	Kernel paws.KernelVersion
}

type kind uint8

const (
	kindAcceptQueue kind = iota + 1
	kindSynQueue
	kindSynQueueCookies
	kindUnprovenPeer
	kindTimeWaitPAWS
	kindTimeWaitPAWSRFC1337
	kindTimeWaitNoTS
	kindPerHostPAWS
)

// Scenario is one live check of the evaluator against the kernel.
type Scenario struct {
	// Name is a short identifier such as "accept-queue-overflow".
	Name string
	// Description says what the scenario does, in a sentence or two.
	Description string
	kind        kind
}

// Scenarios returns the scenarios in the order they are meant to run.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "accept-queue-overflow", kind: kindAcceptQueue, Description: "listen(128) clamped to 2 by net.core.somaxconn=2, never accepted; " +
			"6 connects 50 ms apart that stay open: 3 fill the accept queue (backlog+1), the SYNs of the other 3 are dropped, first ones and 1 s retransmissions."},
		{Name: "syn-queue-no-syncookies", kind: kindSynQueue, Description: "tcp_syncookies=0, listen(4); a client whose SYN-ACKs are dropped by iptables sends 8 SYNs back to back " +
			"(5 fill the SYN queue, backlog+1), a second client connects 200 ms later; every SYN is retransmitted once after 1 s."},
		{Name: "syn-queue-syncookies", kind: kindSynQueueCookies, Description: "the same with tcp_syncookies=1: SYNs beyond the full SYN queue get cookies, and the second client connects with one."},
		{Name: "syn-backlog-unproven-peer", kind: kindUnprovenPeer, Description: "tcp_syncookies=0, tcp_max_syn_backlog=8, listen(128); c2 completes a connection (its RTT is cached: proven), " +
			"c1 sends 12 half-open SYNs (the queue stops at 7, the last quarter being kept for proven peers), then c2 (proven) and c3 (unproven) connect."},
		{Name: "timewait-paws-nat", kind: kindTimeWaitPAWS, Description: "two clients on fixed ports behind a router that SNATs both to one address and port (conntrack flushed between connections), " +
			"so every connection reuses the server's TIME_WAIT 4-tuple; the server closes first; connections alternate c1, c2, c1 with tcp_rfc1337=0. " +
			"TSval offsets are per 4-tuple on this kernel, so one client's clock is behind the other's and one of the two TIME_WAIT hits carries an older TSval."},
		{Name: "timewait-paws-nat-rfc1337", kind: kindTimeWaitPAWSRFC1337, Description: "the same with tcp_rfc1337=1: the client's RST no longer kills the TIME_WAIT socket, so the rejected connection times out."},
		{Name: "timewait-nat-no-timestamps", kind: kindTimeWaitNoTS, Description: "the same with tcp_rfc1337=0 and c2 at tcp_timestamps=0: TIME_WAIT hits are decided by sequence number alone, " +
			"a rejected SYN gets a bare ACK and moves no counter."},
		{Name: "per-host-paws", kind: kindPerHostPAWS, Description: "tcp_tw_recycle=1: two clients behind one SNAT address (distinct ports), server closes first, connections alternate c1, c2, c1; " +
			"a SYN older than the TSval cached for the address is dropped (PAWSPassive). Only on kernels that have net.ipv4.tcp_tw_recycle (up to 4.11)."},
	}
}

// Run plays the scenario in namespaces it creates and removes, and compares
// what the kernel did with what the evaluator predicts. An error means the
// scenario could not be run or measured (a command failed, the timeout
// passed); differences between kernel and evaluator are not errors but
// Result.Status. The namespaces are deleted before Run returns; if that
// fails, the error is returned with the Result. An error wraps
// ErrUnavailable when the process cannot run scenarios at all, and the
// context's error when the timeout or ctx ended the scenario.
func (s Scenario) Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return run(ctx, s, opts)
}
