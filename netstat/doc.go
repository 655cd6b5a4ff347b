// Package netstat provides the TCP/IP counters of /proc/net/netstat and
// /proc/net/snmp: every counter a kernel prints, typed access to the ones
// that explain ignored SYNs (PAWS rejects, listen queue overflows and
// drops, syncookies, TIME_WAIT), deltas and rates between two reads, and
// the "netstat -s" sentence and per-kernel meaning of each counter.
//
// # Reading
//
// Both files are pairs of lines, "Proto: Name1 Name2 ..." followed by
// "Proto: v1 v2 ...". Counters are matched by name, never by position:
// kernels insert names in the middle of a line (6.14 to 6.17 put
// PAWSOldAck, TSEcrRejected, PAWSTimewait and BeyondWindow right after
// PAWSEstab) and remove others (PAWSPassive in 4.12). A Snapshot keeps
// every counter of every protocol (TcpExt, IpExt, MPTcpExt, Ip, Icmp,
// IcmpMsg, Tcp, Udp, UdpLite, and any a later kernel adds) in file order.
// A counter the kernel does not print is absent, which Get reports apart
// from a counter that is 0. Values are uint64, except the signed fields
// (Tcp MaxConn is -1), which Value keeps without loss.
//
// Sources:
//   - OpenHost: /proc/self/net, the namespace of this process's main
//     thread (what /proc/net shows);
//   - OpenPID: /proc/PID/net, another process's namespace, without setns;
//   - OpenNetNS: a namespace file such as /run/netns/NAME, opened from a
//     locked thread inside it, so the caller's thread never moves;
//   - NewReader: any fs.FS rooted where /proc is (a saved tree, a fixture);
//     it works on every operating system. On systems other than Linux the
//     other three fail with an error wrapping paws.ErrNotSupported.
//
// # Allocation
//
// Readers from OpenHost, OpenPID and OpenNetNS keep the two files open and
// re-read them with pread into one buffer. A Snapshot remembers the header
// lines it was built from; reading into it again while they are unchanged
// only parses the values, and allocates nothing. Two snapshots used in
// turn (prev, cur) share the Reader's last layout, so that steady state is
// allocation-free too, as is Delta.Compute into a reused Delta.
//
// # Deltas and resets
//
// Delta gives how far each counter moved, modulo 2^64 for event counters
// (from 2^64-5 to 3 is 8) and signed for levels such as Tcp CurrEstab.
// When the two snapshots cannot come from one life of the same counters
// (a counter went backwards, one disappeared, one other than an IcmpMsg
// type appeared, or the later one was read first) Compute fails with an
// error wrapping ErrReset instead of returning a huge number. The Delta
// type documents the rule.
//
// # Errors
//
// A missing file or namespace gives an error wrapping fs.ErrNotExist, an
// unreadable one fs.ErrPermission. Malformed content gives a *ParseError,
// which wraps ErrParse and names the file, line and field: a header and
// value line of different lengths, a value that is not a 64-bit integer,
// a line without "Proto:", a value line of another protocol than its
// header, or a header line without a value line. Blank lines are skipped
// (2.6 kernels print one inside IcmpMsg).
//
// # Why not prometheus/procfs
//
// prometheus/procfs (v0.23.0) reads the same files through Proc.Netstat
// and Proc.Snmp. It was measured against this package in one benchmark run
// (BenchmarkRead, kernel 6.18.44, 2 vCPU, both files of /proc/self/net,
// medians of 10 interleaved runs):
//
//	BenchmarkRead/impl=paws    19.2 µs/op       0 B/op    0 allocs/op
//	BenchmarkRead/impl=pread   18.0 µs/op       0 B/op    0 allocs/op
//	BenchmarkRead/impl=procfs  71.5 µs/op   40920 B/op  382 allocs/op
//
// "pread" is the bare cost of the Reader's system calls on the same files
// into a buffer of the same size; the kernel spends most of it summing
// per-CPU counters. Re-reading unchanged header lines costs one memcmp of
// them and one pass over the values (BenchmarkParse: 0.85 µs for the
// 312 counters of 6.18), so the whole read is within 7% of the bare one
// and 3.7 times faster than procfs. The speed is not the reason, though:
// procfs keeps a fixed list of fields, so on 6.18 it drops 41 of the 135
// TcpExt counters, among them PAWSOldAck, TSEcrRejected, PAWSTimewait and
// BeyondWindow, which this package exists to read, and the whole MPTcpExt
// line; and it stores each value as a *float64, which loses precision
// above 2^53 and costs an allocation per counter. So this package parses
// the files itself.
package netstat
