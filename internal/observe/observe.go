// Package observe reads one network namespace through the sysctl, netstat
// and tcpdiag packages and assembles what paws.Diagnose reads. The
// examples share it; it holds the glue, not the rules.
package observe

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/sysctl"
	"github.com/paws-go/paws/tcpdiag"
)

// Target names the network namespace to observe. The zero Target is the
// namespace of the calling process.
type Target struct {
	// PID selects the network namespace of a process (a container).
	PID int
	// NetNS selects a namespace by path, e.g. /run/netns/NAME.
	NetNS string
}

// String returns "host", "pid N" or the namespace path.
func (t Target) String() string {
	switch {
	case t.PID != 0:
		return "pid " + strconv.Itoa(t.PID)
	case t.NetNS != "":
		return t.NetNS
	}
	return "host"
}

// AddFlags defines -pid and -netns on fs, which select t.
func (t *Target) AddFlags(fs *flag.FlagSet) {
	fs.IntVar(&t.PID, "pid", 0, "the network namespace of process `N` (a container)")
	fs.StringVar(&t.NetNS, "netns", "", "the network namespace file `PATH` (/run/netns/NAME)")
}

// Option changes what Open's Observer reads.
type Option uint8

// Options of Open.
const (
	// NoDrops leaves the listeners' drop counters unread
	// (tcpdiag.Config.ReadDrops off), so Observation.Drops stays nil and
	// Diagnose falls back to namespace-wide counters. They are read by
	// default: they cost about 40 ns per listener (0.7 ms for a dump of
	// 20,000, tcpdiag's BenchmarkListeners), little beside the rest of
	// an Observe.
	NoDrops Option = 1 << iota
)

// Observer reads one namespace again and again. It is not safe for
// concurrent use.
type Observer struct {
	// ScanOwners, when not nil, is asked after each dump of the listeners
	// whether to look for the processes that hold them. The scan reads
	// every /proc/PID/fd and is most of the cost of Observe (about 60% with
	// 80 processes). When it answers false, Listeners have no Processes
	// and OwnersErr is nil. Nil scans every time.
	ScanOwners func([]tcpdiag.Listener) bool

	target   Target
	sys      sysctl.FS
	counters *netstat.Reader
	diag     *tcpdiag.Conn
	prev     *netstat.Snapshot
	cur      *netstat.Snapshot
	delta    netstat.Delta
	listened []tcpdiag.Listener
	// readDrops is true unless NoDrops. drops holds Listener.Drops by
	// Cookie as of the last listener dump, prevDrops those of the dump
	// before (its storage is reused); dumped reports that drops is set.
	readDrops        bool
	dumped           bool
	drops, prevDrops map[uint64]uint32
}

// Open prepares an Observer of t. It fails when the namespace cannot be
// entered: the process is gone or the path does not exist (fs.ErrNotExist),
// the caller lacks the privilege (fs.ErrPermission). A Target with both a
// PID and a NetNS, or a negative PID, fails with fs.ErrInvalid.
//
// Without options the Observer reads each listener's drop counter
// (sk_drops, see Observation.Drops); NoDrops turns that off.
func Open(t Target, opts ...Option) (*Observer, error) {
	if t.PID != 0 && t.NetNS != "" {
		return nil, fmt.Errorf("observe: give a pid or a netns path, not both: %w", fs.ErrInvalid)
	}
	if t.PID < 0 {
		return nil, fmt.Errorf("observe: pid %d: %w", t.PID, fs.ErrInvalid)
	}
	o := &Observer{target: t, prev: new(netstat.Snapshot), cur: new(netstat.Snapshot), readDrops: true}
	for _, opt := range opts {
		if opt&NoDrops != 0 {
			o.readDrops = false
		}
	}
	if o.readDrops {
		o.drops, o.prevDrops = map[uint64]uint32{}, map[uint64]uint32{}
	}
	var err error
	var ns tcpdiag.NetNS
	switch {
	case t.PID != 0:
		o.sys, err = sysctl.ForPID(t.PID)
		if err == nil {
			o.counters, err = netstat.OpenPID(t.PID)
		}
		ns = tcpdiag.NetNSOfPID(t.PID)
	case t.NetNS != "":
		o.sys, err = sysctl.ForNetNS(t.NetNS)
		if err == nil {
			o.counters, err = netstat.OpenNetNS(t.NetNS)
		}
		ns = tcpdiag.NetNSPath(t.NetNS)
	default:
		o.sys, err = sysctl.NewFS()
		if err == nil {
			o.counters, err = netstat.OpenHost()
		}
	}
	if err != nil {
		o.Close()
		return nil, fmt.Errorf("observe %s: %w", t, err)
	}
	o.diag, err = tcpdiag.Dial(&tcpdiag.Config{NetNS: ns, ReadDrops: o.readDrops})
	if err != nil {
		o.Close()
		return nil, fmt.Errorf("observe %s: %w", t, err)
	}
	return o, nil
}

// Close releases the Observer's files and sockets.
func (o *Observer) Close() error {
	var errs []error
	if o.counters != nil {
		errs = append(errs, o.counters.Close())
	}
	if o.diag != nil {
		errs = append(errs, o.diag.Close())
	}
	return errors.Join(errs...)
}

// Observation is one reading of a namespace.
type Observation struct {
	Target Target
	Time   time.Time
	// TCP are the sysctls; SysctlErr says which could not be read (the
	// others are still in TCP).
	TCP       sysctl.TCP
	SysctlErr error
	// Counters are the cumulative counters at Time. Delta is how far they
	// moved since the previous Observe of the same Observer; nil on the
	// first reading or after a reset (DeltaErr wraps netstat.ErrReset).
	Counters *netstat.Snapshot
	Delta    *netstat.Delta
	DeltaErr error
	// Listeners are the namespace's listening sockets with their owners.
	// OwnersErr reports processes that could not be read (their
	// listeners are still listed).
	Listeners []tcpdiag.Owned
	OwnersErr error
	// Drops[i] is how many SYNs and handshake ACKs the kernel dropped on
	// behalf of Listeners[i] since the previous Observe: the rise of the
	// socket's sk_drops (tcpdiag.Listener.Drops), matched by socket
	// Cookie. A listener opened since then counts all its drops, which
	// all happened since. Drops is nil on the first Observe and with
	// NoDrops. Kernels before 4.9 may not count these drops at all
	// (tcp_listendrop): their zeros mean nothing, and Host says so
	// (paws.HostListener.DropsKnown).
	Drops []uint64
	// Metrics is the tcp_metrics cache; MetricsErr matches fs.ErrNotExist
	// on kernels without the family.
	Metrics    []tcpdiag.Metrics
	MetricsErr error
	// Host is the input of paws.Diagnose.
	Host paws.Host
}

// Observe reads the namespace now. It fails only when the counters or the
// listeners cannot be read at all; partial failures are in the
// Observation's error fields. The returned Counters stay valid until the
// next-but-one call, Delta until the next call. When reading the counters
// fails, the previous reading stays the baseline of the next Delta.
func (o *Observer) Observe() (*Observation, error) {
	ob := &Observation{Target: o.target}
	ob.TCP, ob.SysctlErr = o.sys.TCP()

	o.prev, o.cur = o.cur, o.prev
	if err := o.counters.ReadInto(o.cur); err != nil {
		o.prev, o.cur = o.cur, o.prev
		return nil, fmt.Errorf("observe %s: %w", o.target, err)
	}
	ob.Time = o.cur.Time
	ob.Counters = o.cur
	if o.prev.Len() > 0 {
		if err := o.delta.Compute(o.prev, o.cur); err != nil {
			ob.DeltaErr = err
		} else {
			ob.Delta = &o.delta
		}
	}

	var err error
	o.listened, err = o.diag.AppendListeners(o.listened[:0])
	if err != nil {
		return nil, fmt.Errorf("observe %s: listeners: %w", o.target, err)
	}
	if o.ScanOwners == nil || o.ScanOwners(o.listened) {
		ob.Listeners, ob.OwnersErr = o.diag.Owners(o.listened)
	}
	if ob.Listeners == nil && len(o.listened) > 0 {
		// Owners was not asked for, or failed as a whole (somaxconn
		// or /proc unreadable): keep the listeners, without owners.
		ob.Listeners = make([]tcpdiag.Owned, len(o.listened))
		for i, l := range o.listened {
			ob.Listeners[i] = tcpdiag.Owned{Listener: l}
		}
	}
	if o.readDrops {
		ob.Drops = o.dropDeltas(ob.Listeners)
	}
	ob.Metrics, ob.MetricsErr = o.diag.TCPMetrics()
	ob.Host = hostOf(ob)
	return ob, nil
}

// dropDeltas records the drop counters of ls and returns how far each
// rose since the previous dump, or nil when there was none. The
// subtraction is modulo 2^32, as the kernel's counter wraps.
func (o *Observer) dropDeltas(ls []tcpdiag.Owned) []uint64 {
	o.prevDrops, o.drops = o.drops, o.prevDrops
	clear(o.drops)
	for _, l := range ls {
		o.drops[l.Listener.Cookie] = l.Listener.Drops
	}
	if !o.dumped {
		o.dumped = true
		return nil
	}
	out := make([]uint64, len(ls))
	for i, l := range ls {
		out[i] = uint64(l.Listener.Drops - o.prevDrops[l.Listener.Cookie])
	}
	return out
}

// hostOf assembles the input of paws.Diagnose from the readings of ob.
func hostOf(ob *Observation) paws.Host {
	p := ob.TCP.Profile()
	h := paws.Host{Profile: p, Settings: ob.TCP.Settings(p)}
	for _, n := range ob.TCP.Absent() {
		h.Absent = append(h.Absent, string(n))
	}
	for c := range paws.Counter(paws.NumCounters) {
		if _, ok := ob.Counters.Get(netstat.NewCounter(c.Group(), c.Name())); ok {
			h.Observed = h.Observed.With(c)
		}
		if ob.Delta != nil {
			h.Deltas[c], _ = ob.Delta.Get(netstat.NewCounter(c.Group(), c.Name()))
		}
	}
	if ob.Delta != nil {
		h.Interval = ob.Delta.Interval()
	}
	for i, l := range ob.Listeners {
		hl := paws.HostListener{Addr: l.Listener.Local, AcceptQueue: l.Listener.AcceptQueue, Backlog: l.Listener.Backlog}
		// 4.9 counts a listener's drops in its sk_drops (tcp_listendrop),
		// 4.4 does not; between them it is unverified.
		if ob.Drops != nil && len(ob.Drops) == len(ob.Listeners) && p.Kernel.AtLeast(4, 9, 0) {
			hl.Drops, hl.DropsKnown = ob.Drops[i], true
		}
		for _, pr := range l.Processes {
			hl.Owners = append(hl.Owners, paws.HostProcess{PID: pr.PID, Command: pr.Command,
				OpenFiles: pr.OpenFiles, MaxOpenFiles: pr.MaxOpenFiles, AtFDLimit: pr.AtFDLimit})
		}
		h.Listeners = append(h.Listeners, hl)
	}
	return h
}
