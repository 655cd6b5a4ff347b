//go:build linux

package tcpdiag

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// fakeSocket is a sock_diag transport whose kernel is an nltest.Func.
// Replies are queued as datagrams of at most perDatagram messages, so a
// dump spans several reads, as it does from the kernel.
type fakeSocket struct {
	t           *testing.T
	fn          nltest.Func
	perDatagram int
	queue       [][]byte
	requests    []netlink.Message
}

func (s *fakeSocket) send(b []byte) error {
	var req netlink.Message
	if err := req.UnmarshalBinary(b); err != nil {
		s.t.Fatalf("request does not parse as a netlink message: %v", err)
	}
	if int(req.Header.Length) != len(b) {
		s.t.Fatalf("request header length %d, %d bytes sent", req.Header.Length, len(b))
	}
	req.Data = slices.Clone(req.Data) // b is the Conn's reused buffer
	s.requests = append(s.requests, req)
	msgs, err := s.fn([]netlink.Message{req})
	if err != nil {
		return err
	}
	for len(msgs) > 0 {
		n := min(max(s.perDatagram, 1), len(msgs))
		var dgram []byte
		for _, m := range msgs[:n] {
			if m.Header.Sequence == 0 {
				m.Header.Sequence = req.Header.Sequence
			}
			m.Header.Length = uint32(nlmsgHdrLen + len(m.Data))
			b, err := m.MarshalBinary()
			if err != nil {
				s.t.Fatal(err)
			}
			dgram = append(dgram, b...)
		}
		s.queue = append(s.queue, dgram)
		msgs = msgs[n:]
	}
	return nil
}

func (s *fakeSocket) recv(b []byte) (int, error) {
	if len(s.queue) == 0 {
		return 0, errTimeout
	}
	d := s.queue[0]
	s.queue = s.queue[1:]
	if len(d) > len(b) {
		return 0, ErrMalformed
	}
	return copy(b, d), nil
}

func (s *fakeSocket) close() error { return nil }

// loadCapture splits a capture into its netlink messages, with sequence 0
// so that the fake kernel answers with the request's.
func loadCapture(t testing.TB, path string) []netlink.Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []netlink.Message
	for len(b) > 0 {
		n := int(binary.NativeEndian.Uint32(b))
		var m netlink.Message
		if err := m.UnmarshalBinary(b[:align4(n)]); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m.Header.Sequence = 0
		m.Data = slices.Clone(m.Data)
		msgs = append(msgs, m)
		b = b[align4(n):]
	}
	return msgs
}

// kernel answers AF_INET and AF_INET6 listener dumps with the captures,
// as multi-part replies.
func kernel(t testing.TB, edit func(family uint8, msgs []netlink.Message) []netlink.Message) nltest.Func {
	inet, inet6 := loadCapture(t, captureInet), loadCapture(t, captureInet6)
	return func(req []netlink.Message) ([]netlink.Message, error) {
		msgs := inet
		if req[0].Data[0] == afInet6 {
			msgs = inet6
		}
		msgs = slices.Clone(msgs)
		for i := range msgs {
			msgs[i].Data = slices.Clone(msgs[i].Data)
		}
		if edit != nil {
			msgs = edit(req[0].Data[0], msgs)
		}
		return nltest.Multipart(msgs)
	}
}

func testConn(t *testing.T, fn nltest.Func) (*Conn, *fakeSocket) {
	t.Helper()
	s := &fakeSocket{t: t, perDatagram: 7, fn: nltest.CheckRequest(
		[]netlink.HeaderType{sockDiagByFamily},
		[]netlink.HeaderFlags{netlink.Request | netlink.Dump},
		fn)}
	c := newTestConn(s, nil, t.TempDir())
	// The captures answer requests for INET_DIAG_SKMEMINFO: ask for it,
	// as Dial does for Config.ReadDrops.
	c.ext = skMemInfoExt
	t.Cleanup(func() { c.Close() })
	return c, s
}

func TestListenersCaptured(t *testing.T) {
	c, s := testConn(t, kernel(t, nil))
	ls, err := c.Listeners()
	if err != nil {
		t.Fatalf("Listeners: %v", err)
	}
	if len(s.queue) != 0 {
		t.Errorf("%d datagrams left unread", len(s.queue))
	}
	if want := captureV4Count + 1 + 6; len(ls) != want {
		t.Fatalf("got %d listeners, want %d", len(ls), want)
	}
	inodes := map[uint32]bool{}
	got := map[netip.AddrPort]Listener{}
	for _, l := range ls {
		if l.Inode == 0 || inodes[l.Inode] || l.Cookie == 0 {
			t.Errorf("listener %v: inode %d (duplicate %v), cookie %d", l, l.Inode, inodes[l.Inode], l.Cookie)
		}
		inodes[l.Inode] = true
		got[l.Local] = l
	}
	lo4 := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for i := range captureV4Count {
		l, ok := got[netip.AddrPortFrom(lo4, uint16(captureV4Base+i))]
		if !ok || l.Backlog != uint32(i%7+1) || l.AcceptQueue != 0 || l.AcceptQueueFull() || l.V6Only {
			t.Errorf("port %d: %+v (found %v), want backlog %d, empty queue", captureV4Base+i, l, ok, i%7+1)
		}
	}
	full := got[netip.AddrPortFrom(lo4, captureFullPort)]
	if full.AcceptQueue != 3 || full.Backlog != 2 || !full.AcceptQueueFull() || full.FillRatio() != 1 || full.Capacity() != 3 {
		t.Errorf("full listener = %+v", full)
	}
	for i := range 5 {
		l := got[netip.AddrPortFrom(netip.IPv6Loopback(), uint16(captureV6Base+i))]
		if l.Backlog != 10 || !l.V6Only {
			t.Errorf("[::1]:%d = %+v, want backlog 10, V6Only", captureV6Base+i, l)
		}
	}
	dual := got[netip.AddrPortFrom(netip.IPv6Unspecified(), captureDualPort)]
	if dual.Backlog != 11 || dual.V6Only {
		t.Errorf("[::]:%d = %+v, want backlog 11, dual stack", captureDualPort, dual)
	}
	if !slices.IsSortedFunc(ls, func(a, b Listener) int {
		return boolInt(a.Local.Addr().Is6()) - boolInt(b.Local.Addr().Is6())
	}) {
		t.Error("IPv4 listeners do not all come before IPv6 ones")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestListenersRequest(t *testing.T) {
	c, s := testConn(t, kernel(t, func(_ uint8, msgs []netlink.Message) []netlink.Message {
		return msgs[len(msgs)-1:] // just NLMSG_DONE
	}))
	c.ext = 0 // as Dial does without Config.ReadDrops
	if _, err := c.Listeners(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListenersOnPort(8080); err != nil {
		t.Fatal(err)
	}
	c.ext = skMemInfoExt // as Dial does for Config.ReadDrops
	if _, err := c.Listeners(); err != nil {
		t.Fatal(err)
	}
	if len(s.requests) != 6 {
		t.Fatalf("%d requests, want 6", len(s.requests))
	}
	for i, req := range s.requests {
		family := []uint8{afInet, afInet6}[i%2]
		port := []uint16{0, 8080, 0}[i/2]
		want := make([]byte, inetDiagReqV2Len)
		want[0] = family           // sdiag_family
		want[1] = unix.IPPROTO_TCP // sdiag_protocol
		if i >= 4 {
			want[2] = 1 << (7 - 1) // idiag_ext: INET_DIAG_SKMEMINFO
		}
		binary.NativeEndian.PutUint32(want[4:], 1<<10)       // idiag_states: TCPF_LISTEN
		binary.BigEndian.PutUint16(want[8:], port)           // id.idiag_sport
		binary.NativeEndian.PutUint64(want[48:], ^uint64(0)) // id.idiag_cookie: INET_DIAG_NOCOOKIE
		if diff := cmp.Diff(want, req.Data); diff != "" {
			t.Errorf("request %d (-want +got):\n%s", i, diff)
		}
		if req.Header.Sequence != uint32(i+1) {
			t.Errorf("request %d has sequence %d", i, req.Header.Sequence)
		}
	}
	if _, err := c.ListenersOnPort(0); err == nil {
		t.Error("ListenersOnPort(0) succeeded")
	}
}

func TestListenersPermission(t *testing.T) {
	c, _ := testConn(t, func(req []netlink.Message) ([]netlink.Message, error) {
		return nltest.Error(int(unix.EPERM), req)
	})
	ls, err := c.Listeners()
	if !errors.Is(err, fs.ErrPermission) || len(ls) != 0 {
		t.Fatalf("Listeners() = %v, %v; want fs.ErrPermission", ls, err)
	}
}

func TestListenersDumpInterrupted(t *testing.T) {
	c, _ := testConn(t, kernel(t, func(family uint8, msgs []netlink.Message) []netlink.Message {
		if family == afInet {
			msgs[40].Header.Flags |= netlink.DumpInterrupted
		}
		return msgs
	}))
	ls, err := c.Listeners()
	if !errors.Is(err, ErrDumpInterrupted) {
		t.Fatalf("error = %v, want ErrDumpInterrupted", err)
	}
	if want := captureV4Count + 1 + 6; len(ls) != want {
		t.Errorf("got %d listeners with the interrupted dump, want all %d", len(ls), want)
	}
}

func TestListenersMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m *netlink.Message)
		// lost is the number of listeners the damage costs.
		lost int
	}{
		{"attribute past message", func(m *netlink.Message) {
			binary.NativeEndian.PutUint16(m.Data[inetDiagMsgLen:], 200)
		}, 1},
		{"short attribute", func(m *netlink.Message) {
			binary.NativeEndian.PutUint16(m.Data[inetDiagMsgLen:], 2)
		}, 1},
		{"truncated inet_diag_msg", func(m *netlink.Message) { m.Data = m.Data[:48] }, 1},
		{"odd SKMEMINFO", func(m *netlink.Message) {
			a := attrs{b: m.Data[inetDiagMsgLen:]}
			for a.next() {
				if a.typ == inetDiagSKMemInfo {
					binary.NativeEndian.PutUint16(m.Data[inetDiagMsgLen+a.at:], 7)
				}
			}
		}, 1},
		{"unknown family", func(m *netlink.Message) { m.Data[0] = 99 }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testConn(t, kernel(t, func(family uint8, msgs []netlink.Message) []netlink.Message {
				if family == afInet {
					tc.edit(&msgs[10])
				}
				return msgs
			}))
			ls, err := c.Listeners()
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want ErrMalformed", err)
			}
			t.Log(err)
			if want := captureV4Count + 1 + 6 - tc.lost; len(ls) != want {
				t.Errorf("got %d listeners, want the %d undamaged ones", len(ls), want)
			}
			// The dump was read to its end: the next one works.
			if ls, err := c.Listeners(); !errors.Is(err, ErrMalformed) || len(ls) != captureV4Count+1+6-tc.lost {
				t.Errorf("second call: %d listeners, %v", len(ls), err)
			}
		})
	}
}

// TestListenersUnusedAttributes checks that the attributes of an IPv4
// listener are left unread when the request did not ask for
// INET_DIAG_SKMEMINFO, the only one of use (appendListener), and that
// those of an IPv6 listener, which may carry INET_DIAG_SKV6ONLY, are read.
func TestListenersUnusedAttributes(t *testing.T) {
	damage := func(m *netlink.Message) { binary.NativeEndian.PutUint16(m.Data[inetDiagMsgLen:], 2) }
	for _, tc := range []struct {
		name   string
		family uint8
		ext    uint8
		lost   int
	}{
		{"IPv4 default", afInet, 0, 0},
		{"IPv4 ReadDrops", afInet, skMemInfoExt, 1},
		{"IPv6 default", afInet6, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testConn(t, kernel(t, func(family uint8, msgs []netlink.Message) []netlink.Message {
				if family == tc.family {
					damage(&msgs[1])
				}
				return msgs
			}))
			c.ext = tc.ext
			ls, err := c.Listeners()
			if tc.lost == 0 && err != nil || tc.lost > 0 && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want ErrMalformed: %v", err, tc.lost > 0)
			}
			if want := captureV4Count + 1 + 6 - tc.lost; len(ls) != want {
				t.Errorf("got %d listeners, want %d", len(ls), want)
			}
		})
	}
}

func TestDatagramMalformed(t *testing.T) {
	msgs := loadCapture(t, captureInet)
	var good []byte
	for _, m := range msgs[:3] {
		m.Header.Sequence = 1
		b, _ := m.MarshalBinary()
		good = append(good, b...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"short header", good[:10]},
		{"length past datagram", good[:100]},
		{"length below header", append(binary.NativeEndian.AppendUint32(nil, 8), good[4:]...)},
		{"short error", func() []byte {
			b := slices.Clone(good[:nlmsgHdrLen+2])
			binary.NativeEndian.PutUint32(b, nlmsgHdrLen+2)
			binary.NativeEndian.PutUint16(b[4:], nlmsgError)
			return b
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dump{op: "test", seq: 1}
			err := d.datagram(tc.b, func([]byte, int) error { return nil })
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want ErrMalformed", err)
			}
		})
	}
	// Stale messages of another dump are skipped.
	d := dump{op: "test", seq: 2}
	var n int
	if err := d.datagram(good, func([]byte, int) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("stale datagram: %d messages decoded, %v", n, err)
	}
}

// genlKernel serves the generic netlink controller (resolving
// "tcp_metrics" to family) and passes other requests to fn.
func genlKernel(t *testing.T, family uint16, fn nltest.Func) *genetlink.Conn {
	const genlIDCtrl = 0x10
	return genetlink.NewConn(nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) {
		if req[0].Header.Type != genlIDCtrl {
			return fn(req)
		}
		var name string
		ad, err := netlink.NewAttributeDecoder(req[0].Data[4:])
		if err != nil {
			t.Fatal(err)
		}
		for ad.Next() {
			if ad.Type() == unix.CTRL_ATTR_FAMILY_NAME {
				name = ad.String()
			}
		}
		if name != "tcp_metrics" || family == 0 {
			return nltest.Error(int(unix.ENOENT), req)
		}
		attrs := nltest.MustMarshalAttributes([]netlink.Attribute{
			{Type: unix.CTRL_ATTR_FAMILY_ID, Data: binary.NativeEndian.AppendUint16(nil, family)},
			{Type: unix.CTRL_ATTR_FAMILY_NAME, Data: []byte("tcp_metrics\x00")},
			{Type: unix.CTRL_ATTR_VERSION, Data: binary.NativeEndian.AppendUint32(nil, 1)},
		})
		return []netlink.Message{{
			Header: netlink.Header{Type: genlIDCtrl, Sequence: req[0].Header.Sequence, PID: nltest.PID},
			Data:   append([]byte{unix.CTRL_CMD_NEWFAMILY, 2, 0, 0}, attrs...),
		}}, nil
	}))
}

func metricsConn(t *testing.T, family uint16, fn nltest.Func) *Conn {
	t.Helper()
	c := newTestConn(&fakeSocket{t: t}, genlKernel(t, family, fn), t.TempDir())
	t.Cleanup(func() { c.Close() })
	return c
}

func capturedMetrics(t *testing.T, family uint16, edit func([]netlink.Message)) nltest.Func {
	return nltest.CheckRequest([]netlink.HeaderType{netlink.HeaderType(family)}, []netlink.HeaderFlags{netlink.Request | netlink.Dump},
		func(req []netlink.Message) ([]netlink.Message, error) {
			if got := req[0].Data; len(got) != 4 || got[0] != tcpMetricsCmdGet || got[1] != 1 {
				t.Errorf("tcp_metrics request payload = %x, want TCP_METRICS_CMD_GET version 1", got)
			}
			msgs := loadCapture(t, captureMetrics)
			for i := range msgs {
				msgs[i].Header.Type = netlink.HeaderType(family)
				msgs[i].Header.Sequence = req[0].Header.Sequence
				msgs[i].Header.PID = nltest.PID
			}
			if edit != nil {
				edit(msgs)
			}
			return nltest.Multipart(append(msgs, netlink.Message{Header: netlink.Header{Sequence: req[0].Header.Sequence, PID: nltest.PID}}))
		})
}

func TestTCPMetricsCaptured(t *testing.T) {
	const family = 27
	c := metricsConn(t, family, capturedMetrics(t, family, nil))
	ms, err := c.TCPMetrics()
	if err != nil {
		t.Fatalf("TCPMetrics: %v", err)
	}
	local := netip.MustParseAddr("10.232.0.1")
	var peers []netip.Addr
	for _, m := range ms {
		peers = append(peers, m.Peer)
		if m.Local != local || !m.Has(FieldRTT|FieldRTTVar|FieldCWnd) || m.Has(FieldTWTimestamp) {
			t.Errorf("entry %+v, want local %v with rtt, rttvar, cwnd and no TW timestamp", m, local)
		}
		// The kernel gives RTT in µs and, rounded, in ms: µs wins.
		if m.RTT <= 0 || m.RTT >= time.Millisecond || m.RTT%time.Microsecond != 0 {
			t.Errorf("RTT = %v, want a sub-millisecond value in µs", m.RTT)
		}
	}
	want := []netip.Addr{netip.MustParseAddr(captureMetricsS1), netip.MustParseAddr(captureMetricsS2)}
	slices.SortFunc(peers, netip.Addr.Compare)
	if !slices.Equal(peers, want) {
		t.Errorf("peers = %v, want %v", peers, want)
	}
}

func TestTCPMetricsNoFamily(t *testing.T) {
	c := metricsConn(t, 0, nil)
	if _, err := c.TCPMetrics(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error = %v, want fs.ErrNotExist", err)
	}
}

func TestTCPMetricsErrors(t *testing.T) {
	const family = 30
	t.Run("EPERM", func(t *testing.T) {
		c := metricsConn(t, family, func(req []netlink.Message) ([]netlink.Message, error) {
			msgs, err := nltest.Error(int(unix.EPERM), req)
			// nltest copies the request's flags; Dump includes 0x200,
			// which in an error reply means NLM_F_ACK_TLVS. The kernel
			// sends 0 here.
			msgs[0].Header.Flags = 0
			return msgs, err
		})
		if _, err := c.TCPMetrics(); !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("error = %v, want fs.ErrPermission", err)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		c := metricsConn(t, family, capturedMetrics(t, family, func(msgs []netlink.Message) {
			msgs[1].Header.Flags |= netlink.DumpInterrupted
		}))
		ms, err := c.TCPMetrics()
		if !errors.Is(err, ErrDumpInterrupted) || len(ms) != 2 {
			t.Fatalf("TCPMetrics() = %d entries, %v; want 2 and ErrDumpInterrupted", len(ms), err)
		}
	})
	t.Run("truncated attribute", func(t *testing.T) {
		c := metricsConn(t, family, capturedMetrics(t, family, func(msgs []netlink.Message) {
			// First attribute (the peer address) claims 60 bytes.
			binary.NativeEndian.PutUint16(msgs[0].Data[4:], 60)
		}))
		ms, err := c.TCPMetrics()
		if !errors.Is(err, ErrMalformed) || len(ms) != 1 {
			t.Fatalf("TCPMetrics() = %d entries, %v; want the 1 intact one and ErrMalformed", len(ms), err)
		}
		t.Log(err)
	})
}

func TestClosedConn(t *testing.T) {
	c, _ := testConn(t, kernel(t, nil))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err1 := c.Listeners()
	_, err2 := c.SoMaxConn()
	_, err3 := c.TCPMetrics()
	_, err4 := c.Owners(nil)
	for i, err := range []error{err1, err2, err3, err4} {
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("call %d after Close: %v, want net.ErrClosed", i, err)
		}
	}
}
