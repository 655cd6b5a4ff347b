// Package capgen provides a deterministic generator of TCP packet captures
// with known ground truth, for the tests and benchmarks of package pcapts.
//
// A capture is generated from a Config: client addresses of several kinds
// (a single host with its own TSval clock, a NAT hiding 2 to 8 hosts with
// unrelated clocks and rates, a sender with a fresh TSval offset for every
// connection, a host without timestamps, and a mix), talking to one server
// with a mix of answered, retransmitted, unanswered, TIME_WAIT-answered and
// reset SYNs. Write streams the packets, in time order, as pcap (either
// byte order, microsecond or nanosecond) or pcapng (one or more
// interfaces with different link types and time stamp resolutions), and
// returns the ground truth per address. The same Config gives the same
// bytes.
package capgen
