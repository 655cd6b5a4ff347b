// Package tcpdiag provides the kernel's view of TCP listeners and of its
// per-peer TCP metrics cache, for this host or any network namespace: the
// three things to read when a Linux server ignores SYNs.
//
//   - Conn.Listeners dumps LISTEN sockets over sock_diag (inet_diag, what
//     "ss -ltn" prints): accept-queue length and effective backlog. A
//     listener whose AcceptQueue exceeds its Backlog drops every new SYN.
//   - Conn.Owners maps listeners to the processes holding them, with their
//     open descriptors against RLIMIT_NOFILE: a process at its descriptor
//     limit cannot accept(), so its queue fills ("ulimit -n"). It also
//     tells whether the backlog was clamped to net.core.somaxconn.
//   - Conn.TCPMetrics dumps the tcp_metrics cache ("ip tcp_metrics"). On
//     kernels 3.7 to 4.11 its entries carry the per-peer timestamp that
//     per-host PAWS (tcp_tw_recycle) compares SYNs against.
//
// See https://man7.org/linux/man-pages/man7/sock_diag.7.html for the
// protocol.
//
// # Network namespaces
//
// A netlink socket answers for the network namespace it was created in.
// Dial creates its sockets, and reads /proc/sys/net/core/somaxconn, on a
// locked OS thread that has entered Config.NetNS (by path, by pid with
// NetNSOfPID, or by an open descriptor with NetNSFD); the caller's thread
// never changes namespace. The zero NetNS is the namespace of the calling
// thread. Entering another namespace needs CAP_SYS_ADMIN; without it Dial
// returns an error matching fs.ErrPermission.
//
// The descriptor scan of Conn.Owners does not depend on the network
// namespace: socket inodes are unique system-wide, so a proc mount of the
// initial pid namespace (the default "/proc" on the host) finds the owners
// of a container's listeners.
//
// # Performance
//
// BenchmarkListeners (root only) dumps a namespace holding 20,000
// listeners. Median of 6 runs on 2 cores, other work running:
//
//	ss -ltn (whole process)                    39.8 ms
//	vishvananda/netlink SocketDiagTCP          28.9 ms
//	mdlayher/netlink, same request             22.3 ms
//	Conn.AppendListeners, reused slice         3.56 ms, 0 allocations
//	Conn.Listeners                             3.90 ms, 1 allocation
//	bare write/recvfrom loop, counting only    3.35 ms
//
// A dump is 11 times as fast as ss, 8 times as fast as vishvananda and
// 6 times as fast as mdlayher, and takes 1.06 times the bare loop (1.065
// to 1.09 in three sessions that alternated the two eight times). The
// bare loop sends the same request and reads into a buffer of the same
// size: the kernel's work, about 170 ns a socket, is nearly all of a
// dump. Writing 72 bytes a socket into a result as large as the
// []Listener costs nothing measurable (Dump/bare-store); the rest is
// decoding, about 8 ns a socket (BenchmarkDecodeListeners): one bounds
// check for the fixed inet_diag_msg, fields stored in place, and no
// attribute walk for IPv4 listeners unless Config.ReadDrops asks for
// INET_DIAG_SKMEMINFO. Run:
//
//	sudo go test -run '^$' -bench BenchmarkListeners/Dump -benchmem ./tcpdiag
//
// # Errors
//
// Kernel errors keep their errno: errors.Is(err, fs.ErrPermission) for
// EPERM and EACCES, fs.ErrNotExist for ENOENT (for instance a kernel
// without the tcp_metrics family). Undecodable replies wrap ErrMalformed.
// A dump the kernel flagged as interrupted returns its results and
// ErrDumpInterrupted. Owners returns what it could read and a
// *ProcessError for processes it was not allowed to inspect. On systems
// other than Linux every call fails with ErrNotSupported.
package tcpdiag
