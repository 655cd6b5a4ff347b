//go:build linux

package tcpdiag

import (
	"flag"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/nstest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bin from this kernel (needs root)")

// The canned kernel replies in testdata are captured from a live kernel by
//
//	sudo go test -run TestIntegrationCapture ./tcpdiag -args -update
//
// which builds the namespaces below, dumps them and writes the raw reply
// bytes. Without -update the test checks that the kernel still answers
// the way the captures say.

func captureListeners(t *testing.T) (inet, inet6 []byte) {
	ns := nstest.New(t)
	for i := range captureV4Count {
		ns.Listen(t, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(captureV4Base+i)), i%7+1)
	}
	full := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(captureFullPort))
	ns.Listen(t, full, 2)
	for range 3 {
		c, err := ns.Dial(t, full, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	for i := range 5 {
		ns.Listen(t, netip.AddrPortFrom(netip.IPv6Loopback(), uint16(captureV6Base+i)), 10)
	}
	ns.Listen(t, netip.AddrPortFrom(netip.IPv6Unspecified(), captureDualPort), 11)

	ns.Do(t, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		s := rawSocket(fd)
		for _, fam := range []uint8{afInet, afInet6} {
			if err := s.send(appendListenRequest(nil, captureSeq, fam, skMemInfoExt, 0)); err != nil {
				return err
			}
			var all []byte
			buf := make([]byte, recvBufSize)
			d := dump{op: "capture", seq: captureSeq}
			for !d.done {
				n, err := s.recv(buf)
				if err != nil {
					return err
				}
				all = append(all, buf[:n]...)
				if err := d.datagram(buf[:n], func([]byte, int) error { return nil }); err != nil {
					return err
				}
			}
			if fam == afInet {
				inet = all
			} else {
				inet6 = all
			}
		}
		return nil
	})
	return inet, inet6
}

func captureTCPMetrics(t *testing.T) []byte {
	cns, sns := nstest.New(t), nstest.New(t)
	nstest.Veth(t, cns, "c0", "10.232.0.1/24", sns, "s0", captureMetricsS1+"/24")
	sns.IP(t, "addr", "add", captureMetricsS2+"/24", "dev", "s0")
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, addr := range []string{captureMetricsS1, captureMetricsS2} {
		var ln net.Listener
		sns.Do(t, func() error {
			var err error
			ln, err = net.Listen("tcp", addr+":80")
			return err
		})
		defer ln.Close()
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}
		})
		c, err := cns.Dial(t, netip.MustParseAddrPort(addr+":80"), 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		c.Close()
	}
	var out []byte
	for try := 0; ; try++ {
		var entries int
		out = out[:0]
		cns.Do(t, func() error {
			gc, err := genetlink.Dial(nil)
			if err != nil {
				return err
			}
			defer gc.Close()
			f, err := gc.GetFamily("tcp_metrics")
			if err != nil {
				return err
			}
			if _, err := gc.Send(genetlink.Message{Header: genetlink.Header{Command: tcpMetricsCmdGet, Version: 1}}, f.ID, netlink.Request|netlink.Dump); err != nil {
				return err
			}
			_, nmsgs, err := gc.Receive()
			if err != nil {
				return err
			}
			entries = len(nmsgs)
			for _, m := range nmsgs {
				m.Header.Sequence, m.Header.PID = captureSeq, 0
				b, err := m.MarshalBinary()
				if err != nil {
					return err
				}
				out = append(out, b...)
			}
			return nil
		})
		if entries == 2 {
			return out
		}
		if try == 100 {
			t.Fatalf("tcp_metrics has %d entries after 5 s, want 2", entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestIntegrationCapture(t *testing.T) {
	nstest.RequireRoot(t)
	inet, inet6 := captureListeners(t)
	metrics := captureTCPMetrics(t)
	if *update {
		for path, b := range map[string][]byte{captureInet: inet, captureInet6: inet6, captureMetrics: metrics} {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", path, len(b))
		}
	}
	// Whether or not the files were rewritten, this kernel's replies must
	// decode to what the captures hold.
	for name, b := range map[string][]byte{"inet": inet, "inet6": inet6} {
		d := dump{op: name, seq: captureSeq}
		var ls []Listener
		err := d.datagram(b, func(p []byte, off int) (err error) {
			ls, err = appendListener(ls, p, off, skMemInfoExt)
			return err
		})
		n := len(ls)
		if err != nil || d.result() != nil || !d.done {
			t.Errorf("%s capture: done=%v, %v, %v", name, d.done, err, d.result())
		}
		if want := map[string]int{"inet": captureV4Count + 1, "inet6": 6}[name]; n != want {
			t.Errorf("%s capture holds %d listeners, want %d", name, n, want)
		}
	}
}
