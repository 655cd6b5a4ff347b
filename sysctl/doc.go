// Package sysctl provides typed reads of the Linux sysctls that decide how
// the TCP listen path treats SYNs: tcp_tw_recycle, tcp_timestamps,
// tcp_tw_reuse, tcp_syncookies, the queue limits and their neighbours,
// together with the kernel release that gives them meaning.
//
// An FS names where the values come from:
//
//   - NewFS: /proc/sys as seen by the calling thread (the process's own
//     network namespace);
//   - ForNetNS and ForPID: another network namespace, by namespace file or
//     by the pid of a process living in it;
//   - NewFSFromFS: any fs.FS rooted where /proc is, such as a copied tree
//     or a test fixture. This source works on every operating system.
//
// FS.TCP reads every typed sysctl at once into a TCP value, and FS.Read and
// FS.Int read any other sysctl by its dotted name:
//
//	fsys, err := sysctl.NewFS()
//	if err != nil {
//		return err
//	}
//	tcp, err := fsys.TCP()
//	if err != nil {
//		// tcp still holds every value that could be read.
//		log.Printf("partial read: %v", err)
//	}
//	if tcp.TWRecycle.V {
//		fmt.Println(tcp.Kernel, "drops SYNs of NATed clients: tcp_tw_recycle is on")
//	}
//
// # Network namespaces
//
// Files under /proc/sys/net belong to the network namespace of the thread
// that opens them, not to the process whose /proc directory they are read
// through: /proc/<pid>/root/proc/sys/net shows the reader's own values. An
// FS made by ForNetNS or ForPID therefore enters the namespace (setns(2))
// on a dedicated, locked OS thread for each call, reads every file of that
// call there, and returns; the caller's thread never changes namespace. This
// needs CAP_SYS_ADMIN; without it the error matches fs.ErrPermission.
// kernel.osrelease is not per network namespace and reads the same
// everywhere.
//
// # Kernel versions
//
// A sysctl that the kernel does not have (tcp_tw_recycle from 4.12 on,
// tcp_tw_reuse_delay before 6.14, tcp_invalid_ratelimit before 4.0) is
// reported as absent: its Value has Present false and TCP.Absent lists it.
// Absence is not an error. On kernels that keep a sysctl global, it is also
// absent from every namespace but the initial one, and the value in force
// there is the initial namespace's.
//
// # Errors
//
// Reading one sysctl never stops the others: TCP returns every value it
// could read together with an error joining one *Error per failed sysctl.
// A missing sysctl read by name matches fs.ErrNotExist, an unreadable one
// fs.ErrPermission, content that does not parse ErrParse, and a name that
// cannot denote a sysctl fs.ErrInvalid. On systems other than Linux, NewFS,
// ForNetNS and ForPID fail with an error matching paws.ErrNotSupported.
package sysctl
