package paws

import (
	"fmt"
	"math"
	"net/netip"
)

// Sim is an Evaluator driven with seconds since the start and "ip:port"
// strings, for assumption tests and examples:
//
//	sim, _ := paws.NewSim("3.10.0-1160.el7.x86_64", "100.64.0.1:80", 128,
//		paws.Sysctl{paws.SysctlTCPTwRecycle, 1})
//	sim.ServerClose(0.4, "172.16.0.13:51000", 2088983950, 0.3)
//	r := sim.SYN(1, "172.16.0.13:40001", 271344470)
//	// r.Outcome == paws.OutcomeDrop, r.Counters[paws.PAWSPassive] == 1
//
// Its methods parse addresses with netip.MustParseAddrPort and so panic
// on a malformed literal, like netip's Must functions.
type Sim struct {
	// E is the Evaluator; use it for anything the Sim methods do not cover.
	E     *Evaluator
	start Time
}

// Sysctl is a sysctl name and value for NewSim.
type Sysctl struct {
	Name  string
	Value int
}

// SimWallStart is the wall clock at a Sim's t = 0, as in the test vectors.
const SimWallStart = 1700000000

// NewSim returns a Sim for kernel (a release string) with its default
// settings changed by sysctls, listening on addr with the listen()
// backlog.
func NewSim(kernel, addr string, backlog int, sysctls ...Sysctl) (*Sim, error) {
	v, err := ParseKernelVersion(kernel)
	if err != nil {
		return nil, err
	}
	p := ProfileFor(v)
	s := DefaultSettings(p)
	for _, sc := range sysctls {
		if err := s.SetSysctl(sc.Name, sc.Value); err != nil {
			return nil, err
		}
	}
	a, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listener %q is not ip:port", ErrConfig, addr)
	}
	start := Time(SimWallStart * 1e9)
	e, err := NewEvaluator(Config{Profile: p, Settings: s, Start: start, Listener: Listener{Addr: a, Backlog: backlog}})
	if err != nil {
		return nil, err
	}
	return &Sim{E: e, start: start}, nil
}

// At returns the Time t seconds after the start.
func (s *Sim) At(t float64) Time { return s.start + Time(math.Round(t*1e9)) }

// SYN evaluates a SYN from src with timestamp tsval at t.
func (s *Sim) SYN(t float64, src string, tsval uint32) Result {
	return s.E.Step(Event{Time: s.At(t), Type: EventSYN, Src: netip.MustParseAddrPort(src), HasTS: true, TSval: Timestamp(tsval)})
}

// SYNNoTS evaluates a SYN from src without a timestamp option at t.
func (s *Sim) SYNNoTS(t float64, src string) Result {
	return s.E.Step(Event{Time: s.At(t), Type: EventSYN, Src: netip.MustParseAddrPort(src)})
}

// ServerClose evaluates this host closing the connection from src first
// at t; lastTSval is the peer's last TSval, received at lastAt.
func (s *Sim) ServerClose(t float64, src string, lastTSval uint32, lastAt float64) Result {
	return s.E.Step(Event{Time: s.At(t), Type: EventServerClose, Src: netip.MustParseAddrPort(src),
		HasTS: true, TSval: Timestamp(lastTSval), TSvalAt: s.At(lastAt)})
}

// ClientClose evaluates the peer src closing first at t.
func (s *Sim) ClientClose(t float64, src string) Result {
	return s.E.Step(Event{Time: s.At(t), Type: EventClientClose, Src: netip.MustParseAddrPort(src)})
}

// ACK evaluates the third ACK from src with timestamp tsval at t.
func (s *Sim) ACK(t float64, src string, tsval uint32) Result {
	return s.E.Step(Event{Time: s.At(t), Type: EventACK, Src: netip.MustParseAddrPort(src), HasTS: true, TSval: Timestamp(tsval)})
}

// Accept evaluates accept() at t.
func (s *Sim) Accept(t float64) Result { return s.E.Step(Event{Time: s.At(t), Type: EventAccept}) }
