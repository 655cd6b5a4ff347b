// Package paws explains why a Linux server ignores some SYNs.
//
// A client's SYN reaches the server, no SYN-ACK comes back, the client
// retransmits. The usual causes are timestamp checks (PAWS) against the
// wrong host behind a NAT, a TIME_WAIT socket on a reused 4-tuple, and full
// listen queues. Which of them can happen, and which counter then moves,
// depends on the kernel version, its distribution backports and a dozen
// sysctls.
//
// This root package is a pure model of the kernel's listen path: given a
// kernel profile (ProfileFor), settings (the sysctls) and a stream of packet
// events, an Evaluator predicts for every SYN what the kernel does (answer,
// answer with a cookie, drop, ACK from TIME_WAIT, RST) and which
// /proc/net/netstat counters move. It does no I/O. Scenario files in JSON
// describe an incident so that it can be replayed (ParseScenario).
//
// Diagnose turns what was observed on a host or in a namespace (its
// profile and settings, counter deltas over an interval, listeners and the
// processes that own them) into findings: what drops SYNs or will, the
// numbers that show it, and what to change. It is pure as well; the
// readers below fill its input.
//
// The subpackages read the real kernel:
//
//   - sysctl: typed reads of the relevant sysctls and the kernel release,
//     from this host, another network namespace or a fixture tree.
//   - netstat: every counter of /proc/net/netstat and /proc/net/snmp,
//     snapshots, deltas that survive wrap and detect resets, and the
//     sentences netstat -s prints.
//   - tcpdiag: listening sockets and their queues over inet_diag netlink,
//     the processes that own them and their file descriptor limits, and the
//     kernel's tcp_metrics peer cache.
//   - pcapts: pcap and pcapng captures turned into TCP timestamp events,
//     the TSval clocks behind each source address (how many hosts hide
//     behind one NAT address), and observed against predicted outcomes.
//
// The programs under examples/ compose them: diagnose (the main job: go
// run ./examples/diagnose), healthcheck (an HTTP check for load-balancer
// software), exporter (Prometheus metrics and alerting rules), kernelcheck
// (the model's assumptions tested on the running kernel in namespaces it
// creates), pcapaudit (a capture's report) and pawseval (a scenario file's
// predicted table).
//
// # Network namespaces
//
// Containers have their own network namespace, with their own sysctls
// under /proc/sys/net, their own counters and their own sockets. Every
// reader can be pointed at one, by the pid of a process inside it or by a
// namespace file such as /run/netns/NAME or /proc/PID/ns/net:
//
//   - netstat reads /proc/PID/net/netstat, which needs no privilege beyond
//     reading that process's /proc entry.
//   - sysctl and tcpdiag must enter the namespace: /proc/sys/net and
//     netlink sockets belong to the namespace of the thread that opens
//     them. They do so on a locked OS thread of a goroutine they wait for,
//     and return that thread to its namespace before it runs anything else.
//     The caller's own thread never changes namespace, even on error.
//     Entering a namespace needs CAP_SYS_ADMIN.
//
// # Errors
//
// Errors wrap the standard sentinels so that errors.Is answers the
// questions a caller has:
//
//   - fs.ErrNotExist: the kernel does not have the thing asked for (a
//     sysctl removed in this version, the tcp_metrics netlink family), or a
//     namespace's process has gone.
//   - fs.ErrPermission: the caller lacks the privilege; readers that can
//     return partial results do so and report the rest with this error.
//   - ErrNotSupported: the system is not Linux, or a feature is missing.
//   - Each package's ErrParse (and ErrVersion here): the kernel or a file
//     said something this module cannot read; the message names the file,
//     line, field or byte offset.
//
// # Privileges
//
// Reading this host's counters, sysctls and listening sockets needs no
// privilege. Seeing the owners of other users' sockets needs root or
// CAP_SYS_PTRACE (their /proc/PID/fd). Entering another network namespace
// needs CAP_SYS_ADMIN. Capturing packets is done by tcpdump and needs
// CAP_NET_RAW; pcapts only reads the files.
//
// # Kernel versions
//
// A counter or sysctl that this kernel does not have is reported as absent,
// never as zero: PAWSPassive and net.ipv4.tcp_tw_recycle exist only up to
// 4.11, PAWSTimewait from 6.16, net.ipv4.tcp_tw_reuse_delay from 6.14.
// ProfileFor maps a KernelVersion, including distribution kernels such as
// "3.10.0-1160.el7.x86_64" whose backports differ from mainline, to the
// rules the Evaluator applies; each rule can be overridden.
package paws
