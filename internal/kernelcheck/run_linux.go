package kernelcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/sysctl"
	"github.com/paws-go/paws/tcpdiag"
)

// Available reports whether this process can run the scenarios: it must
// be root and find ip, iptables and tcpdump on PATH. The error wraps
// ErrUnavailable and says what is missing, in one line.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root to create network namespaces and capture (run with sudo)", ErrUnavailable)
	}
	for _, tool := range []string{"ip", "iptables", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found on PATH", ErrUnavailable, tool)
		}
	}
	return nil
}

// session is one run of a scenario: its lab, its working directory, the
// result being filled and what to release at the end.
type session struct {
	ctx     context.Context
	opts    Options
	lab     *lab
	topo    *topology
	dir     string
	res     *Result
	closers []func() error
	// check returns why the traffic did not test what the scenario is
	// about, "" when it did.
	check func(*Result) string
}

func run(ctx context.Context, sc Scenario, opts Options) (_ *Result, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	l, err := newLab()
	if err != nil {
		return nil, err
	}
	s := &session{ctx: ctx, opts: opts, lab: l, res: &Result{Scenario: sc.Name}}
	if opts.Dir == "" {
		if s.dir, err = os.MkdirTemp("", "kernelcheck-"); err != nil {
			return nil, fmt.Errorf("kernelcheck: %w", err)
		}
		defer os.RemoveAll(s.dir)
	} else {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("kernelcheck: %w", err)
		}
		s.dir = opts.Dir
	}
	defer func() {
		// Sockets first, then the namespaces they live in.
		var errs []error
		for i := len(s.closers) - 1; i >= 0; i-- {
			errs = append(errs, s.closers[i]())
		}
		s.res.Namespaces = l.names()
		errs = append(errs, l.close())
		if cerr := errors.Join(errs...); cerr != nil && err == nil {
			err = fmt.Errorf("kernelcheck: %s: cleanup: %w", sc.Name, cerr)
		}
		s.res.Duration = time.Since(start)
	}()
	var body func(*session) error
	switch sc.kind {
	case kindAcceptQueue:
		body = acceptQueueOverflow
	case kindSynQueue:
		body = synQueue(false)
	case kindSynQueueCookies:
		body = synQueue(true)
	case kindUnprovenPeer:
		body = unprovenPeer
	case kindTimeWaitPAWS:
		body = timeWait(false, true)
	case kindTimeWaitPAWSRFC1337:
		body = timeWait(true, true)
	case kindTimeWaitNoTS:
		body = timeWait(false, false)
	case kindPerHostPAWS:
		body = perHostPAWS
	default:
		return nil, fmt.Errorf("kernelcheck: unknown scenario %q", sc.Name)
	}
	if err := body(s); err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return nil, fmt.Errorf("kernelcheck: %s: %w (%w)", sc.Name, err, cerr)
		}
		return nil, fmt.Errorf("kernelcheck: %s: %w", sc.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kernelcheck: %s: %w", sc.Name, err)
	}
	return s.res, nil
}

// onClose registers fn to run when the scenario ends, before its
// namespaces are deleted.
func (s *session) onClose(fn func() error) { s.closers = append(s.closers, fn) }

// logf adds a line to the result's log.
func (s *session) logf(format string, args ...any) {
	s.res.Log = append(s.res.Log, fmt.Sprintf(format, args...))
}

// build creates the scenario's topology with n clients.
func (s *session) build(n int) (*topology, error) {
	t, err := s.lab.build(s.ctx, n)
	s.topo = t
	return t, err
}

// sleepUntil waits until t or the end of the scenario's context.
func (s *session) sleepUntil(t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// measure runs traffic while capturing the server's interface, reads the
// server namespace's sysctls, listener and counters around it, evaluates
// the capture and fills the result.
func (s *session) measure(traffic func() error) error {
	srv := s.topo.server
	file := filepath.Join(s.dir, s.res.Scenario+".pcap")
	capt, err := startCapture(s.ctx, srv, "eth0", file)
	if err != nil {
		return err
	}
	defer capt.stop()

	fsys, err := sysctl.ForNetNS(srv.path)
	if err != nil {
		return err
	}
	tcp, err := fsys.TCP()
	if err != nil {
		return err
	}
	s.res.TCP, s.res.Profile = tcp, tcp.Profile()
	if !s.opts.Kernel.IsZero() {
		s.res.Profile = paws.ProfileFor(s.opts.Kernel)
	}
	diag, err := tcpdiag.Dial(&tcpdiag.Config{NetNS: tcpdiag.NetNSPath(srv.path)})
	if err != nil {
		return err
	}
	defer diag.Close()
	ln, err := listener(diag)
	if err != nil {
		return err
	}
	s.res.Backlog = int(ln.Backlog)
	counters, err := netstat.OpenNetNS(srv.path)
	if err != nil {
		return err
	}
	defer counters.Close()
	var before, after netstat.Snapshot
	if err := counters.ReadInto(&before); err != nil {
		return err
	}

	if err := traffic(); err != nil {
		return err
	}

	if err := counters.ReadInto(&after); err != nil {
		return err
	}
	if ln, err = listener(diag); err != nil {
		return err
	}
	s.res.Packets, s.res.Dropped, err = capt.stop()
	if err != nil {
		return err
	}
	if s.opts.Dir != "" {
		s.res.Capture = file
	}
	var delta netstat.Delta
	if err := delta.Compute(&before, &after); err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	ev, err := evaluate(f, paws.Config{
		Profile: s.res.Profile, Settings: tcp.Settings(s.res.Profile), Start: paws.TimeOf(before.Time),
		Listener: paws.Listener{Addr: s.topo.serverAddr(), Backlog: s.res.RequestedBacklog},
	}, before.Time, after.Time)
	if err != nil {
		return err
	}
	s.res.SYNs = ev.syns
	s.res.Counters = compareCounters(ev.totals, &delta)
	s.res.Queue = &QueueCheck{Predicted: ev.queues.AcceptQ, Observed: int(ln.AcceptQueue)}
	s.res.PredictedBacklog = ev.queues.Backlog
	unexercised := ""
	if s.check != nil {
		unexercised = s.check(s.res)
	}
	s.res.verdict(unexercised)
	return nil
}

// listener returns the scenario's listening socket as inet_diag reports it.
func listener(c *tcpdiag.Conn) (tcpdiag.Listener, error) {
	ls, err := c.ListenersOnPort(serverPort)
	if err != nil {
		return tcpdiag.Listener{}, err
	}
	if len(ls) != 1 {
		return tcpdiag.Listener{}, fmt.Errorf("%d listeners on port %d in the server namespace, want 1", len(ls), serverPort)
	}
	return ls[0], nil
}
