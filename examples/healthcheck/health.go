package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"sync"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/tcpdiag"
)

// policy decides which findings make /healthz fail.
type policy struct {
	// ports, when not empty, keeps only the listeners bound to these ports
	// (and the host-wide findings).
	ports []uint16
	// minDrops is the noise floor: unless the kernel dropped at least
	// this many SYNs since the previous request (see dropped), no counter
	// counts as moved.
	minDrops uint64
	// fill is the fraction of a listener's accept-queue capacity
	// (Backlog+1) at which the listener counts as critical. 1 is the
	// kernel's own "full", when it drops SYNs.
	fill float64
	// owners says when to look for the processes holding the listeners:
	// ownersAlways, ownersQueued or ownersNever.
	owners string
}

// Values of -owners.
const (
	ownersAlways = "always"
	ownersQueued = "queued" // when a watched listener has a connection waiting
	ownersNever  = "never"
)

// scanOwners reports whether to scan /proc for the owners of ls. A process
// at its descriptor limit cannot accept(), so its listeners' queues are
// not empty: with ownersQueued the scan runs exactly when it can find an
// owner that matters (fd-limit findings, owners named in accept-queue-full).
func (p *policy) scanOwners(ls []tcpdiag.Listener) bool {
	switch p.owners {
	case ownersNever:
		return false
	case ownersQueued:
		return slices.ContainsFunc(ls, func(l tcpdiag.Listener) bool {
			return l.AcceptQueue > 0 && listenerOn(l.Local, p.ports)
		})
	}
	return true
}

// checkAcceptQueueFilling is the finding this program adds when -fill is
// below 1: the queue is not full yet, so Diagnose says nothing, but it
// holds at least the fraction of its capacity given by -fill.
const checkAcceptQueueFilling paws.Check = "accept-queue-filling"

// report is the JSON body of /healthz.
type report struct {
	// Status is "ok", "critical", or "error" when the namespace could not
	// be read.
	Status string `json:"status"`
	// Interval is how long the counters were compared over: the time
	// since the previous request.
	Interval float64   `json:"interval_seconds"`
	Findings []finding `json:"findings"`
	Error    string    `json:"error,omitempty"`
}

// finding is a paws.Finding in the JSON body.
type finding struct {
	Check       paws.Check `json:"check"`
	Severity    string     `json:"severity"`
	Listener    string     `json:"listener,omitempty"`
	Evidence    string     `json:"evidence"`
	Explanation string     `json:"explanation"`
	Remedy      string     `json:"remedy"`
}

// perListener reports whether c is a finding on namespace-wide counters
// whose drops the kernel also counts in the sk_drops of the listener it
// dropped for. Per-host PAWS findings stay host-wide: they hit a client
// address on every port.
func perListener(c paws.Check) bool {
	switch c {
	case paws.CheckListenOverflows, paws.CheckSynQueueDrops, paws.CheckUnprovenPeer:
		return true
	}
	return false
}

// assess diagnoses h under p. h is a copy: assess may change its fields
// but not the elements of its slices.
func assess(h paws.Host, p policy) report {
	// With -port and every listener's drops known, a perListener finding
	// counts only if the watched listeners dropped at least minDrops.
	attributed := len(p.ports) > 0 && len(h.Listeners) > 0 &&
		!slices.ContainsFunc(h.Listeners, func(l paws.HostListener) bool { return !l.DropsKnown })
	if len(p.ports) > 0 {
		h.Listeners = slices.DeleteFunc(slices.Clone(h.Listeners), func(l paws.HostListener) bool {
			return !listenerOn(l.Addr, p.ports)
		})
	}
	if dropped(h) < p.minDrops {
		// A quiet interval: Diagnose reports only the current state.
		h.Deltas = paws.Counters{}
	}
	fs := paws.Diagnose(h)
	if p.fill < 1 {
		fs = append(fs, filling(h.Listeners, p.fill)...)
		slices.SortStableFunc(fs, func(a, b paws.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	}
	var watchedDrops uint64
	for _, l := range h.Listeners {
		watchedDrops += l.Drops
	}
	rep := report{Status: "ok", Interval: h.Interval.Seconds(), Findings: make([]finding, 0, len(fs))}
	for _, f := range fs {
		if f.Listener.IsValid() && !listenerOn(f.Listener, p.ports) {
			continue
		}
		if attributed && watchedDrops < max(p.minDrops, 1) && perListener(f.Check) {
			continue
		}
		if f.Severity >= paws.SeverityCritical {
			rep.Status = "critical"
		}
		rep.Findings = append(rep.Findings, toJSON(f))
	}
	return rep
}

// dropped returns how many SYNs the kernel dropped or refused over h's
// interval, as far as the counters tell: the largest delta among the
// counters of drops (ListenDrops counts most of the others too, but not
// before 3.8 and not TIME_WAIT rejections).
func dropped(h paws.Host) uint64 {
	var n uint64
	for _, c := range [...]paws.Counter{paws.ListenDrops, paws.ListenOverflows, paws.TCPReqQFullDrop, paws.PAWSPassive, paws.PAWSTimewait, paws.PAWSEstab} {
		n = max(n, h.Deltas[c])
	}
	return n
}

// filling returns a critical finding for each listener whose accept queue
// is not full but holds at least fill of its capacity.
func filling(ls []paws.HostListener, fill float64) []paws.Finding {
	var fs []paws.Finding
	for _, l := range ls {
		capacity := uint64(l.Backlog) + 1
		if l.AcceptQueue > l.Backlog || float64(l.AcceptQueue) < math.Ceil(fill*float64(capacity)) || l.AcceptQueue == 0 {
			continue
		}
		fs = append(fs, paws.Finding{
			Check:    checkAcceptQueueFilling,
			Severity: paws.SeverityCritical,
			Listener: l.Addr,
			Evidence: fmt.Sprintf("accept queue holds %d of %d (ss -ltn: Recv-Q %d, Send-Q %d), at least -fill %g",
				l.AcceptQueue, capacity, l.AcceptQueue, l.Backlog, fill),
			Explanation: "The application accepts connections more slowly than they arrive; once the queue holds Send-Q+1 connections the kernel drops every new SYN for this listener.",
			Remedy:      "Find why the application does not accept (busy workers, a descriptor limit, a blocked event loop); a larger listen() backlog only buys time.",
		})
	}
	return fs
}

func toJSON(f paws.Finding) finding {
	j := finding{Check: f.Check, Severity: f.Severity.String(), Evidence: f.Evidence, Explanation: f.Explanation, Remedy: f.Remedy}
	if f.Listener.IsValid() {
		j.Listener = f.Listener.String()
	}
	return j
}

// server answers /healthz from one Observer. Each request observes the
// namespace again, so counter deltas are since the previous request (or,
// for the first one, since the reading newServer took).
type server struct {
	mu  sync.Mutex
	obs *observe.Observer
	pol policy
}

// newServer takes the first reading of obs, the baseline of the first
// request's deltas, and sets obs.ScanOwners to follow the policy (obs is
// the server's from now on).
func newServer(obs *observe.Observer, p policy) (*server, error) {
	s := &server{obs: obs, pol: p}
	obs.ScanOwners = func(ls []tcpdiag.Listener) bool { return s.pol.scanOwners(ls) }
	if _, err := obs.Observe(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *server) check() (report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ob, err := s.obs.Observe()
	if err != nil {
		return report{Status: "error", Findings: []finding{}, Error: err.Error()}, err
	}
	return assess(ob.Host, s.pol), nil
}

// ServeHTTP answers 200 when no critical finding remains after the
// policy, 503 otherwise, and 500 when the namespace cannot be read.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep, err := s.check()
	code := http.StatusOK
	switch {
	case err != nil:
		code = http.StatusInternalServerError
	case rep.Status != "ok":
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // keep "Recv-Q > Send-Q" readable
		enc.Encode(rep)
	}
}

// mux serves /healthz.
func (s *server) mux() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /healthz", s)
	return m
}

// listenerOn reports whether a is bound to one of ports (any port when
// ports is empty).
func listenerOn(a netip.AddrPort, ports []uint16) bool {
	return len(ports) == 0 || slices.Contains(ports, a.Port())
}
