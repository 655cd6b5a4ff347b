//go:build linux

package tcpdiag

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"github.com/prometheus/procfs"
	vnl "github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/netns"
	"github.com/paws-go/paws/internal/nstest"
)

// Sinks keep the compiler from optimising benchmark work away.
var (
	sinkInt   int
	sinkProcs []ownedProcess
)

const benchListeners = 20000

// holderScript listens on 127.0.0.1:base..base+n-1 (backlog 128), says
// "ready" and holds the sockets until its stdin closes.
const holderScript = `
import socket, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", base + i))
    s.listen(128)
    held.append(s)
print("ready", flush=True)
sys.stdin.read()
`

// listenMany opens n listeners on 127.0.0.1:20000+i in ns. They are held
// by two child processes, because RLIMIT_NOFILE is capped at 20,000 here
// and even root may not raise the hard limit (no CAP_SYS_RESOURCE).
func listenMany(b *testing.B, ns *nstest.NS, n int) {
	for _, part := range [][2]int{{20000, n / 2}, {20000 + n/2, n - n/2}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "python3", "-c", holderScript,
			strconv.Itoa(part[0]), strconv.Itoa(part[1]))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stdin.Close(); _ = cmd.Wait(); cancel() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			b.Fatalf("listener holder: %q, %v", line, err)
		}
	}
}

// BenchmarkListeners measures one full LISTEN dump (IPv4 and IPv6) of a
// namespace with 20,000 listeners, five ways, in the same run:
//
//   - ss: "ss -ltn" as a whole process, forked on a thread in the namespace;
//   - vishvananda: netlink.SocketDiagTCP (all states, filtered afterwards),
//     called on a thread in the namespace: its package-level functions
//     open their socket in the calling thread's namespace;
//   - mdlayher: mdlayher/netlink Execute with the same request as tcpdiag,
//     each message decoded by tcpdiag's decoder;
//   - bare: a raw NETLINK_SOCK_DIAG socket, write, recvfrom into a reused
//     buffer, walking the netlink headers only; bare-skmeminfo asks for
//     INET_DIAG_SKMEMINFO too; bare-store copies each inet_diag_msg into
//     an array as large as tcpdiag's result;
//   - tcpdiag: Conn.AppendListeners into a reused slice; tcpdiag-drops the
//     same with Config.ReadDrops; tcpdiag-new-slice is Conn.Listeners,
//     which allocates the result.
//
// ByPort compares ListenersOnPort (id.idiag_sport in the request, the
// kernel filters) with a full dump filtered in Go. Owners compares the
// descriptor scan with prometheus/procfs's FileDescriptorTargets over all
// of /proc; two child processes hold the 20,000 sockets.
//
// Root only: sudo go test -run '^$' -bench BenchmarkListeners ./tcpdiag
func BenchmarkListeners(b *testing.B) {
	nstest.RequireRoot(b, "ss", "python3")
	ns := nstest.New(b)
	listenMany(b, ns, benchListeners)

	c, err := Dial(&Config{NetNS: NetNSPath(ns.Path)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	check := func(b *testing.B, n int) {
		b.Helper()
		if n != benchListeners {
			b.Fatalf("got %d listeners, want %d", n, benchListeners)
		}
	}

	b.Run("Dump/ss", func(b *testing.B) {
		var out bytes.Buffer
		run := func(w io.Writer) {
			err := netns.Do(ns.Target(), func() error {
				cmd := exec.Command("ss", "-ltn")
				cmd.Stdout = w
				return cmd.Run()
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		run(&out)
		check(b, strings.Count(out.String(), "\n")-1)
		b.ReportAllocs()
		for b.Loop() {
			run(io.Discard)
		}
	})

	b.Run("Dump/vishvananda", func(b *testing.B) {
		dump := func() (n int) {
			err := netns.Do(ns.Target(), func() error {
				for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
					socks, err := vnl.SocketDiagTCP(family)
					if err != nil {
						return err
					}
					for _, s := range socks {
						if s.State == tcpListen {
							n++
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
		check(b, dump())
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = dump()
		}
	})

	b.Run("Dump/mdlayher", func(b *testing.B) {
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		nc, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, &netlink.Config{NetNS: fd})
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		var ls []Listener
		dump := func() []Listener {
			ls = ls[:0]
			for _, family := range []uint8{afInet, afInet6} {
				req := appendListenRequest(nil, 0, family, 0, 0)
				msgs, err := nc.Execute(netlink.Message{
					Header: netlink.Header{Type: sockDiagByFamily, Flags: netlink.Request | netlink.Dump},
					Data:   req[nlmsgHdrLen:],
				})
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range msgs {
					if ls, err = appendListener(ls, m.Data, 0, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			return ls
		}
		check(b, len(dump()))
		b.ReportAllocs()
		for b.Loop() {
			sinkListeners = dump()
		}
	})

	bare := func(b *testing.B, ext byte, out [][inetDiagMsgLen]byte) {
		var fd int
		ns.Do(b, func() error {
			var err error
			fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
			return err
		})
		defer unix.Close(fd)
		buf := make([]byte, recvBufSize)
		var req []byte
		var seq uint32
		dump := func() (n int) {
			for _, family := range []uint8{afInet, afInet6} {
				seq++
				req = appendListenRequest(req[:0], seq, family, ext, 0)
				if _, err := unix.Write(fd, req); err != nil {
					b.Fatal(err)
				}
				for done := false; !done; {
					r, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
					if errno != 0 {
						b.Fatal(errno)
					}
					for off := 0; off+nlmsgHdrLen <= int(r); {
						l := int(ne.Uint32(buf[off:]))
						switch ne.Uint16(buf[off+4:]) {
						case nlmsgDone:
							done = true
						case sockDiagByFamily:
							if out != nil && n < len(out) && l >= nlmsgHdrLen+inetDiagMsgLen {
								out[n] = [inetDiagMsgLen]byte(buf[off+nlmsgHdrLen:])
							}
							n++
						}
						off += align4(max(l, nlmsgHdrLen))
					}
				}
			}
			return n
		}
		check(b, dump())
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = dump()
		}
	}
	// bare sends tcpdiag's default request; bare-skmeminfo also asks for
	// INET_DIAG_SKMEMINFO, as tcpdiag does with Config.ReadDrops: the
	// difference is what reading Listener.Drops costs the kernel.
	// bare-store also copies each socket's 72-byte inet_diag_msg into a
	// reused array, as much memory as tcpdiag's []Listener (72-byte
	// elements): the floor of any dump that returns its results. What
	// separates it from bare is the cost of those stores, not decoding.
	b.Run("Dump/bare", func(b *testing.B) { bare(b, 0, nil) })
	b.Run("Dump/bare-skmeminfo", func(b *testing.B) { bare(b, skMemInfoExt, nil) })
	b.Run("Dump/bare-store", func(b *testing.B) {
		bare(b, 0, make([][inetDiagMsgLen]byte, benchListeners+100))
	})

	b.Run("Dump/tcpdiag", func(b *testing.B) {
		ls, err := c.AppendListeners(make([]Listener, 0, benchListeners+100))
		if err != nil {
			b.Fatal(err)
		}
		check(b, len(ls))
		b.ReportAllocs()
		for b.Loop() {
			ls, err = c.AppendListeners(ls[:0])
			if err != nil {
				b.Fatal(err)
			}
		}
		sinkListeners = ls
	})

	b.Run("Dump/tcpdiag-drops", func(b *testing.B) {
		cd, err := Dial(&Config{NetNS: NetNSPath(ns.Path), ReadDrops: true})
		if err != nil {
			b.Fatal(err)
		}
		defer cd.Close()
		ls := make([]Listener, 0, benchListeners+100)
		b.ReportAllocs()
		for b.Loop() {
			ls, err = cd.AppendListeners(ls[:0])
			if err != nil {
				b.Fatal(err)
			}
		}
		check(b, len(ls))
		sinkListeners = ls
	})

	b.Run("Dump/tcpdiag-new-slice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ls, err := c.Listeners()
			if err != nil {
				b.Fatal(err)
			}
			sinkListeners = ls
		}
		check(b, len(sinkListeners))
	})

	const port = 20000 + benchListeners/2
	b.Run("ByPort/kernel-filter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ls, err := c.ListenersOnPort(port)
			if err != nil || len(ls) != 1 {
				b.Fatalf("ListenersOnPort = %v, %v", ls, err)
			}
			sinkListeners = ls
		}
	})
	b.Run("ByPort/dump-and-filter", func(b *testing.B) {
		all := make([]Listener, 0, benchListeners+100)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			all, err = c.AppendListeners(all[:0])
			if err != nil {
				b.Fatal(err)
			}
			var ls []Listener
			for _, l := range all {
				if l.Local.Port() == port {
					ls = append(ls, l)
				}
			}
			if len(ls) != 1 {
				b.Fatalf("found %d listeners on port %d", len(ls), port)
			}
			sinkListeners = ls
		}
	})

	// The owner scans look for the inode of one listener in every process.
	probe, err := c.ListenersOnPort(port)
	if err != nil || len(probe) != 1 {
		b.Fatalf("ListenersOnPort(%d) = %v, %v", port, probe, err)
	}
	inode := uint64(probe[0].Inode)
	b.Run("Owners/tcpdiag", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := ownerScan{root: "/proc", want: map[uint64]int{inode: 0}}
			procs, err := s.run()
			if len(procs) != 1 {
				b.Fatalf("found %d owners (%v)", len(procs), err)
			}
			sinkProcs = procs
		}
	})
	b.Run("Owners/procfs", func(b *testing.B) {
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		want := "socket:[" + uitoa(inode) + "]"
		b.ReportAllocs()
		for b.Loop() {
			procs, err := fs.AllProcs()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, p := range procs {
				targets, err := p.FileDescriptorTargets()
				if err != nil {
					continue
				}
				for _, t := range targets {
					if t == want {
						n++
					}
				}
			}
			if n != 1 {
				b.Fatalf("found %d owners", n)
			}
			sinkInt = n
		}
	})
}
