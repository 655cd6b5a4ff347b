package sysctl_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"testing/fstest"

	"github.com/paws-go/paws/internal/procfixture"
	"github.com/paws-go/paws/sysctl"
)

// A copy of /proc/sys from the RHEL 7 server of a real incident: NATed
// clients saw SYNs ignored because tcp_tw_recycle was on.
func ExampleFS_TCP() {
	tree, err := procfixture.FS("3.10.0-1160.el7.x86_64")
	if err != nil {
		log.Fatal(err)
	}
	tcp, err := sysctl.NewFSFromFS(tree).TCP()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kernel:", tcp.Kernel, tcp.Kernel.Distro())
	fmt.Println("tcp_tw_recycle:", tcp.TWRecycle)
	fmt.Println("tcp_timestamps:", tcp.Timestamps)
	fmt.Println("tcp_syncookies:", tcp.SynCookies)
	fmt.Println("somaxconn:", tcp.SoMaxConn)
	fmt.Println("tcp_tw_reuse_delay:", tcp.TWReuseDelay)
	fmt.Println("absent:", tcp.Absent())
	// Output:
	// kernel: 3.10.0-1160.el7.x86_64 rhel7
	// tcp_tw_recycle: true
	// tcp_timestamps: on
	// tcp_syncookies: on
	// somaxconn: 128
	// tcp_tw_reuse_delay: absent
	// absent: [net.ipv4.tcp_tw_reuse_delay net.ipv4.tcp_invalid_ratelimit]
}

func ExampleFS_Read() {
	fsys := sysctl.NewFSFromFS(fstest.MapFS{
		"sys/net/ipv4/tcp_fack":            {Data: []byte("1\n")},
		"sys/net/ipv4/ip_local_port_range": {Data: []byte("32768\t60999\n")},
	})
	s, err := fsys.Read(sysctl.NetIPv4IPLocalPortRange)
	fmt.Printf("%q %v\n", s, err)
	n, err := fsys.Int("net.ipv4.tcp_fack")
	fmt.Println(n, err)
	_, err = fsys.Int("net.ipv4.tcp_tw_recycle")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	_, err = fsys.Read("net/ipv4/tcp_fack")
	fmt.Println(err)
	// Output:
	// "32768\t60999" <nil>
	// 1 <nil>
	// true
	// sysctl: invalid name "net/ipv4/tcp_fack": contains "/": use the dotted form
}

func ExampleNewFS() {
	fsys, err := sysctl.NewFS()
	if err != nil {
		log.Fatal(err) // not Linux, or no procfs
	}
	tcp, err := fsys.TCP()
	if err != nil {
		// tcp holds every value that could be read; err names the others.
		log.Print(err)
	}
	if tcp.TWRecycle.V && tcp.Timestamps.V.Enabled() {
		fmt.Println("tcp_tw_recycle drops SYNs from clients behind NAT")
	}
	if backlog, ok := tcp.SoMaxConn.Get(); ok {
		fmt.Println("listen() backlogs are clamped to", backlog)
	}
}

func ExampleForNetNS() {
	fsys, err := sysctl.ForNetNS("/run/netns/web")
	if err != nil {
		log.Fatal(err) // errors.Is(err, fs.ErrNotExist) if there is no such namespace
	}
	tcp, err := fsys.TCP()
	switch {
	case errors.Is(err, fs.ErrPermission):
		log.Fatal("entering another network namespace needs CAP_SYS_ADMIN")
	case err != nil:
		log.Print(err)
	}
	fmt.Println("somaxconn in netns web:", tcp.SoMaxConn)
}

func ExampleTimestampsMode_String() {
	for _, m := range []sysctl.TimestampsMode{sysctl.TimestampsOff, sysctl.TimestampsOn, sysctl.TimestampsOnNoOffsets, 3} {
		fmt.Println(int(m), m)
	}
	// Output:
	// 0 off
	// 1 on
	// 2 on-without-offsets
	// 3 TimestampsMode(3)
}
