package tcpdiag

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"time"
)

// Kernel ABI constants, from include/uapi/linux/{netlink,sock_diag,
// inet_diag,tcp_metrics}.h. They are the same on every architecture, so
// the decoders build and are tested on every system.
const (
	nlmsgHdrLen = 16

	nlmsgNoop    = 0x1
	nlmsgError   = 0x2
	nlmsgDone    = 0x3
	nlmsgOverrun = 0x4

	nlmFRequest  = 0x1
	nlmFMulti    = 0x2
	nlmFDumpIntr = 0x10
	nlmFRoot     = 0x100
	nlmFMatch    = 0x200
	nlmFDump     = nlmFRoot | nlmFMatch

	sockDiagByFamily = 20

	afInet  = 2
	afInet6 = 10

	ipprotoTCP = 6
	tcpListen  = 10

	// inet_diag_req_v2 and inet_diag_msg sizes.
	inetDiagReqV2Len = 56
	inetDiagMsgLen   = 72

	inetDiagSKMemInfo = 7  // INET_DIAG_SKMEMINFO: u32[SK_MEMINFO_VARS]
	inetDiagSKV6Only  = 11 // INET_DIAG_SKV6ONLY: u8

	skMemInfoDrops = 8 // SK_MEMINFO_DROPS

	// idiag_ext of inet_diag_req_v2 requests attribute n with bit n-1.
	skMemInfoExt = 1 << (inetDiagSKMemInfo - 1)
	// listenStates is the state mask of a LISTEN-only dump.
	listenStates = 1 << tcpListen

	nlaTypeMask = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

	tcpMetricsCmdGet = 1 // TCP_METRICS_CMD_GET

	tcpMetricsAttrAddrIPv4       = 1
	tcpMetricsAttrAddrIPv6       = 2
	tcpMetricsAttrAge            = 3
	tcpMetricsAttrTWTSVal        = 4
	tcpMetricsAttrTWTSStamp      = 5
	tcpMetricsAttrVals           = 6
	tcpMetricsAttrFOpenMSS       = 7
	tcpMetricsAttrFOpenSynDrops  = 8
	tcpMetricsAttrFOpenSynDropTS = 9
	tcpMetricsAttrFOpenCookie    = 10
	tcpMetricsAttrSAddrIPv4      = 11
	tcpMetricsAttrSAddrIPv6      = 12

	// Nested in TCP_METRICS_ATTR_VALS: enum tcp_metric_index + 1.
	tcpMetricRTT        = 1 // ms
	tcpMetricRTTVar     = 2 // ms
	tcpMetricSSThresh   = 3
	tcpMetricCWnd       = 4
	tcpMetricReordering = 5
	tcpMetricRTTUS      = 6 // µs, 4.1+
	tcpMetricRTTVarUS   = 7 // µs, 4.1+
)

var ne = binary.NativeEndian

// appendListenRequest appends a SOCK_DIAG_BY_FAMILY dump request for TCP
// listeners of family (afInet or afInet6), asking for the attributes in
// ext (0 or skMemInfoExt). A non-zero port sets
// id.idiag_sport, which the kernel compares with every listener while it
// walks its listening hash (inet_diag_dump_icsk), so only that port comes
// back. The header's length is set; seq is the caller's.
func appendListenRequest(b []byte, seq uint32, family, ext uint8, port uint16) []byte {
	start := len(b)
	b = append(b, make([]byte, nlmsgHdrLen+inetDiagReqV2Len)...)
	h := b[start:]
	ne.PutUint32(h[0:], nlmsgHdrLen+inetDiagReqV2Len)
	ne.PutUint16(h[4:], sockDiagByFamily)
	ne.PutUint16(h[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(h[8:], seq)
	r := h[nlmsgHdrLen:]
	r[0] = family     // sdiag_family
	r[1] = ipprotoTCP // sdiag_protocol
	r[2] = ext        // idiag_ext
	ne.PutUint32(r[4:], listenStates)
	binary.BigEndian.PutUint16(r[8:], port) // id.idiag_sport
	// id.idiag_cookie = INET_DIAG_NOCOOKIE (~0): no exact-socket lookup.
	ne.PutUint32(r[8+40:], ^uint32(0))
	ne.PutUint32(r[8+44:], ^uint32(0))
	return b
}

// dump tracks one netlink dump across the datagrams that carry it.
type dump struct {
	op          string // for messages: "inet_diag dump of AF_INET"
	seq         uint32
	off         int // bytes of this dump seen before the current datagram
	done        bool
	interrupted bool
	// err is the first error of a message decoder; the dump goes on to
	// NLMSG_DONE so the socket stays in step, then err is returned.
	err error
}

// datagram walks the netlink messages in b and passes the payload of each
// data message to fn. It returns an error for a malformed header or a
// kernel error; d.done is set at NLMSG_DONE. Messages of another sequence
// number (left over from an abandoned dump) are skipped.
func (d *dump) datagram(b []byte, fn func(payload []byte, off int) error) error {
	base := d.off
	d.off += len(b)
	for off := 0; off < len(b); {
		if len(b)-off < nlmsgHdrLen {
			return fmt.Errorf("%w: %s: %d bytes at byte %d, shorter than a netlink header", ErrMalformed, d.op, len(b)-off, base+off)
		}
		h := (*[nlmsgHdrLen]byte)(b[off:]) // struct nlmsghdr
		n := int(ne.Uint32(h[0:]))
		if n < nlmsgHdrLen || n > len(b)-off {
			return fmt.Errorf("%w: %s: message at byte %d has length %d, %d bytes left", ErrMalformed, d.op, base+off, n, len(b)-off)
		}
		typ := ne.Uint16(h[4:])
		flags := ne.Uint16(h[6:])
		seq := ne.Uint32(h[8:])
		payload := b[off+nlmsgHdrLen : off+n]
		at := base + off
		off += min(align4(n), len(b)-off)
		if seq != d.seq {
			continue
		}
		if flags&nlmFDumpIntr != 0 {
			d.interrupted = true
		}
		switch typ {
		case nlmsgNoop:
			continue
		case nlmsgError, nlmsgDone:
			if len(payload) < 4 {
				if typ == nlmsgDone {
					d.done = true
					return nil
				}
				return fmt.Errorf("%w: %s: error message at byte %d has %d bytes", ErrMalformed, d.op, at, len(payload))
			}
			if code := int32(ne.Uint32(payload)); code < 0 {
				return fmt.Errorf("tcpdiag: %s: kernel replied: %w", d.op, syscall.Errno(-code))
			}
			if typ == nlmsgDone {
				d.done = true
				return nil
			}
			continue // an acknowledgement
		case nlmsgOverrun:
			return fmt.Errorf("tcpdiag: %s: kernel reported a data overrun at byte %d", d.op, at)
		}
		if err := fn(payload, at+nlmsgHdrLen); err != nil && d.err == nil {
			d.err = err
		}
	}
	return nil
}

// result returns the error a finished dump reports alongside its results.
func (d *dump) result() error {
	if d.err != nil {
		return d.err
	}
	if d.interrupted {
		return fmt.Errorf("%w (%s)", ErrDumpInterrupted, d.op)
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// attrs iterates over netlink attributes (struct nlattr / rtattr, which
// share a layout). The zero attrs is empty.
type attrs struct {
	b    []byte
	base int // offset of b[0] in the whole reply, for messages
	off  int
	at   int // offset of the current attribute in the whole reply
	typ  uint16
	val  []byte
	err  error
}

// next advances to the next attribute; it returns false at the end or on
// a malformed attribute, which sets err. The common path is small enough
// to be inlined: it runs for every attribute of every socket.
func (a *attrs) next() bool {
	left := len(a.b) - a.off
	if left <= 0 || a.err != nil {
		return false
	}
	if left >= 4 {
		if n := int(ne.Uint16(a.b[a.off:])); n >= 4 && n <= left {
			a.at = a.base + a.off
			a.typ = ne.Uint16(a.b[a.off+2:]) & nlaTypeMask
			a.val = a.b[a.off+4 : a.off+n]
			a.off += min((n+3)&^3, left)
			return true
		}
	}
	a.fail(left)
	return false
}

func (a *attrs) fail(left int) {
	if left < 4 {
		a.err = fmt.Errorf("%d trailing bytes at byte %d, shorter than an attribute header", left, a.base+a.off)
		return
	}
	a.err = fmt.Errorf("attribute at byte %d has length %d, %d bytes left", a.base+a.off, ne.Uint16(a.b[a.off:]), left)
}

// want checks that the current attribute has exactly size bytes.
func (a *attrs) want(name string, size int) bool {
	if len(a.val) != size {
		a.err = fmt.Errorf("attribute %s at byte %d has %d bytes, want %d", name, a.at, len(a.val), size)
		return false
	}
	return true
}

// appendListener decodes an inet_diag_msg and its attributes, the
// payload at byte off of a reply to a request for the attributes in ext,
// and appends the listener to dst. A socket that is not listening is
// skipped (the kernel filters by state, so none is expected); so is one
// that does not decode, with an error wrapping ErrMalformed.
//
// The attributes are walked, and checked, only when one that Listener
// reports can be there: INET_DIAG_SKMEMINFO comes only when ext asks for
// it, INET_DIAG_SKV6ONLY only for AF_INET6 sockets (inet_sk_diag_fill and
// inet_diag_msg_attrs_fill in net/ipv4/inet_diag.c). The ones a kernel
// adds unasked (INET_DIAG_SHUTDOWN; _MARK for CAP_NET_ADMIN; _CGROUP_ID
// and _SOCKOPT on newer kernels) would cost a walk per IPv4 socket for
// nothing.
//
// It runs once per socket of a dump, so it is written for the compiler:
// one bounds check for the fixed part; the new element is not zeroed but
// has every field stored straight into it (a composite literal is built
// on the stack and copied with 16-byte moves that stall on store
// forwarding); the attribute walk indexes b, as slicing a remainder
// would put a pointer adjustment on the loop's critical path.
func appendListener(dst []Listener, b []byte, off int, ext uint8) ([]Listener, error) {
	if len(b) < inetDiagMsgLen {
		return dst, fmt.Errorf("%w: inet_diag_msg at byte %d has %d bytes, want at least %d", ErrMalformed, off, len(b), inetDiagMsgLen)
	}
	m := (*[inetDiagMsgLen]byte)(b)
	if m[1] != tcpListen {
		return dst, nil
	}
	if m[0] != afInet && m[0] != afInet6 {
		return dst, fmt.Errorf("%w: inet_diag_msg at byte %d has address family %d", ErrMalformed, off, m[0])
	}
	if len(dst) == cap(dst) {
		dst = slices.Grow(dst, 1)
	}
	dst = dst[:len(dst)+1]
	l := &dst[len(dst)-1]
	port := uint16(m[4])<<8 | uint16(m[5])
	if m[0] == afInet {
		l.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m[8:12])), port)
	} else {
		l.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m[8:24])), port)
	}
	l.Interface = ne.Uint32(m[40:])
	l.Cookie = uint64(ne.Uint32(m[44:])) | uint64(ne.Uint32(m[48:]))<<32 // idiag_cookie[2], low word first
	l.AcceptQueue = ne.Uint32(m[56:])
	l.Backlog = ne.Uint32(m[60:])
	l.UID = ne.Uint32(m[64:])
	l.Inode = ne.Uint32(m[68:])
	l.Drops = 0
	l.V6Only = false
	if m[0] == afInet && ext&skMemInfoExt == 0 {
		return dst, nil
	}
	for i := inetDiagMsgLen; i < len(b); {
		if len(b)-i < 4 {
			return dst[:len(dst)-1], listenerAttrError(b, off, i)
		}
		h := b[i : i+4] // struct nlattr
		n := int(ne.Uint16(h))
		if n < 4 || n > len(b)-i {
			return dst[:len(dst)-1], listenerAttrError(b, off, i)
		}
		switch ne.Uint16(h[2:]) & nlaTypeMask {
		case inetDiagSKMemInfo:
			if n%4 != 0 {
				return dst[:len(dst)-1], fmt.Errorf("%w: inet_diag_msg at byte %d: attribute INET_DIAG_SKMEMINFO at byte %d has %d bytes, not a multiple of 4", ErrMalformed, off, off+i, n-4)
			}
			if n > 4+skMemInfoDrops*4 {
				l.Drops = ne.Uint32(b[i+4+skMemInfoDrops*4:])
			}
		case inetDiagSKV6Only:
			if n != 5 {
				return dst[:len(dst)-1], fmt.Errorf("%w: inet_diag_msg at byte %d: attribute INET_DIAG_SKV6ONLY at byte %d has %d bytes, want 1", ErrMalformed, off, off+i, n-4)
			}
			l.V6Only = b[i+4] != 0
		}
		i += align4(n) // past len(b) only by padding the kernel omits
	}
	return dst, nil
}

// listenerAttrError describes the malformed attribute header at b[i:] of
// the inet_diag_msg b at byte off.
func listenerAttrError(b []byte, off, i int) error {
	bad := attrs{b: b[i:], base: off + i}
	bad.fail(len(b) - i)
	return fmt.Errorf("%w: inet_diag_msg at byte %d: %v", ErrMalformed, off, bad.err)
}

// decodeMetrics decodes the attributes of a TCP_METRICS_CMD_GET reply (the
// generic netlink payload after its 4-byte header) into m.
func decodeMetrics(b []byte, off int, m *Metrics) error {
	*m = Metrics{}
	a := attrs{b: b, base: off}
	for a.next() {
		switch a.typ {
		case tcpMetricsAttrAddrIPv4:
			if a.want("TCP_METRICS_ATTR_ADDR_IPV4", 4) {
				m.Peer = netip.AddrFrom4([4]byte(a.val))
			}
		case tcpMetricsAttrAddrIPv6:
			if a.want("TCP_METRICS_ATTR_ADDR_IPV6", 16) {
				m.Peer = netip.AddrFrom16([16]byte(a.val))
			}
		case tcpMetricsAttrSAddrIPv4:
			if a.want("TCP_METRICS_ATTR_SADDR_IPV4", 4) {
				m.Local = netip.AddrFrom4([4]byte(a.val))
			}
		case tcpMetricsAttrSAddrIPv6:
			if a.want("TCP_METRICS_ATTR_SADDR_IPV6", 16) {
				m.Local = netip.AddrFrom16([16]byte(a.val))
			}
		case tcpMetricsAttrAge:
			if a.want("TCP_METRICS_ATTR_AGE", 8) {
				m.Age = msecs(ne.Uint64(a.val))
			}
		case tcpMetricsAttrTWTSVal:
			if a.want("TCP_METRICS_ATTR_TW_TSVAL", 4) {
				m.TWTSVal = ne.Uint32(a.val)
				m.Present |= FieldTWTimestamp
			}
		case tcpMetricsAttrTWTSStamp:
			if a.want("TCP_METRICS_ATTR_TW_TS_STAMP", 4) {
				m.TWTSValAge = time.Duration(int32(ne.Uint32(a.val))) * time.Second
				m.Present |= FieldTWTimestamp
			}
		case tcpMetricsAttrVals:
			if err := decodeMetricVals(a.val, a.at+4, m); err != nil {
				a.err = err
			}
		case tcpMetricsAttrFOpenMSS:
			if a.want("TCP_METRICS_ATTR_FOPEN_MSS", 2) {
				m.FastOpenMSS = ne.Uint16(a.val)
				m.Present |= FieldFastOpenMSS
			}
		case tcpMetricsAttrFOpenSynDrops:
			if a.want("TCP_METRICS_ATTR_FOPEN_SYN_DROPS", 2) {
				m.FastOpenSYNDrops = ne.Uint16(a.val)
				m.Present |= FieldFastOpenDrops
			}
		case tcpMetricsAttrFOpenSynDropTS:
			if a.want("TCP_METRICS_ATTR_FOPEN_SYN_DROP_TS", 8) {
				m.FastOpenSYNDropAge = msecs(ne.Uint64(a.val))
				m.Present |= FieldFastOpenDrops
			}
		case tcpMetricsAttrFOpenCookie:
			if len(a.val) > len(m.FastOpenCookie.b) {
				a.err = fmt.Errorf("attribute TCP_METRICS_ATTR_FOPEN_COOKIE at byte %d has %d bytes, at most %d allowed", a.at, len(a.val), len(m.FastOpenCookie.b))
				break
			}
			m.FastOpenCookie.n = uint8(copy(m.FastOpenCookie.b[:], a.val))
			m.Present |= FieldFastOpenCookie
		}
	}
	if a.err != nil {
		return fmt.Errorf("%w: tcp_metrics entry at byte %d: %v", ErrMalformed, off, a.err)
	}
	if !m.Peer.IsValid() {
		return fmt.Errorf("%w: tcp_metrics entry at byte %d has no peer address", ErrMalformed, off)
	}
	return nil
}

func decodeMetricVals(b []byte, off int, m *Metrics) error {
	var rttMS, rttVarMS uint32
	var haveRTTUS, haveRTTVarUS bool
	a := attrs{b: b, base: off}
	for a.next() {
		if a.typ < tcpMetricRTT || a.typ > tcpMetricRTTVarUS {
			continue // a newer metric
		}
		if !a.want("TCP_METRICS_ATTR_VALS member", 4) {
			break
		}
		v := ne.Uint32(a.val)
		switch a.typ {
		case tcpMetricRTT:
			rttMS = v
			m.Present |= FieldRTT
		case tcpMetricRTTVar:
			rttVarMS = v
			m.Present |= FieldRTTVar
		case tcpMetricSSThresh:
			m.SSThresh = v
			m.Present |= FieldSSThresh
		case tcpMetricCWnd:
			m.CWnd = v
			m.Present |= FieldCWnd
		case tcpMetricReordering:
			m.Reordering = v
			m.Present |= FieldReordering
		case tcpMetricRTTUS:
			m.RTT = time.Duration(v) * time.Microsecond
			haveRTTUS = true
			m.Present |= FieldRTT
		case tcpMetricRTTVarUS:
			m.RTTVar = time.Duration(v) * time.Microsecond
			haveRTTVarUS = true
			m.Present |= FieldRTTVar
		}
	}
	if a.err != nil {
		return fmt.Errorf("TCP_METRICS_ATTR_VALS: %v", a.err)
	}
	if !haveRTTUS {
		m.RTT = time.Duration(rttMS) * time.Millisecond
	}
	if !haveRTTVarUS {
		m.RTTVar = time.Duration(rttVarMS) * time.Millisecond
	}
	return nil
}

// msecs converts a kernel millisecond count, saturating instead of
// overflowing.
func msecs(ms uint64) time.Duration {
	const maxMS = uint64(1<<63-1) / uint64(time.Millisecond)
	if ms > maxMS {
		ms = maxMS
	}
	return time.Duration(ms) * time.Millisecond
}
