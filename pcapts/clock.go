package pcapts

import (
	"math"
	"strconv"
	"time"
)

// Regime says how the TSvals of the SYNs from one address behave.
type Regime uint8

// Regimes of an address's TSvals.
const (
	// RegimeUnknown: too little to tell (no SYN, or two connections with
	// two unrelated clocks: two hosts, or one host with per-connection
	// offsets).
	RegimeUnknown Regime = iota
	// RegimeNoTimestamps: no SYN carried a timestamp option.
	RegimeNoTimestamps
	// RegimeSingleClock: every connection follows one clock; one host.
	RegimeSingleClock
	// RegimeMultipleClocks: several clocks, each followed by several
	// connections: one host per clock behind the address (NAT, SNAT, a
	// load balancer's own probes beside forwarded traffic).
	RegimeMultipleClocks
	// RegimePerConnection: every connection starts at an unrelated TSval
	// and advances steadily within itself: a sender with per-connection
	// TSval offsets (Linux 4.10.0, 7.0 and later, 6.12.94 and later 6.12
	// stable); the number of hosts cannot be told from TSvals.
	RegimePerConnection
	// RegimeMixed: more than one of the above behind the address, e.g.
	// per-host clocks beside per-connection offsets, or SYNs with and
	// without timestamps.
	RegimeMixed
)

var regimeNames = [...]string{"unknown", "no-timestamps", "single-clock", "multiple-clocks", "per-connection-offsets", "mixed"}

// String returns the regime's name, e.g. "multiple-clocks".
func (r Regime) String() string {
	if int(r) < len(regimeNames) {
		return regimeNames[r]
	}
	return "Regime(" + strconv.Itoa(int(r)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (r Regime) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// candidateRates are the TSval clock rates senders use: CONFIG_HZ of
// jiffies-based kernels (up to 4.12), 1 kHz (4.13 and later) and 1 MHz
// (per-route tcp_usec_ts, 6.7 and later).
var candidateRates = [...]float64{100, 250, 300, 1000, 1e6}

const (
	// minRateSpan is the sample span needed before a clock's rate is
	// fitted: at 0.5 s the candidate rates differ by at least 25 ticks.
	minRateSpan = 0.5
	// rateSnap is the relative distance within which a fitted rate is
	// taken to be a candidate rate.
	rateSnap = 0.08
)

// tolerance is the distance in ticks within which a sample dt seconds
// after a clock's last sample is taken to follow it: 15 ms of network and
// stamping jitter plus 2000 ppm of drift.
func tolerance(rate, dt float64) float64 {
	return max(2, rate*(0.015+0.002*math.Abs(dt)))
}

// clockState is a TSval clock being fitted: TSval ≈ v0 + rate·(t − t0).
// It keeps a running least-squares summary, not the samples.
type clockState struct {
	id      uint32
	t0      int64 // ns, first sample
	v0      uint32
	lastT   int64
	lastU   int64 // unwrapped ticks since v0 at lastT
	n       uint32
	meanX   float64 // seconds since t0
	meanY   float64 // unwrapped ticks
	m2x     float64
	cxy     float64
	rate    float64 // fitted and snapped rate; 0 while unknown
	flows   uint32
	syns    uint32
	lastUse int64
}

func newClock(id uint32, t int64, v uint32) clockState {
	c := clockState{id: id, t0: t, v0: v, lastT: t, lastUse: t}
	c.add(t, v)
	return c
}

// fits reports whether the sample (t, v) follows the clock.
func (c *clockState) fits(t int64, v uint32) bool {
	dt := float64(t-c.lastT) / 1e9
	du := float64(int32(v - (c.v0 + uint32(c.lastU))))
	if c.rate != 0 {
		return math.Abs(du-c.rate*dt) <= tolerance(c.rate, dt)
	}
	for _, r := range candidateRates {
		if math.Abs(du-r*dt) <= tolerance(r, dt) {
			return true
		}
	}
	return false
}

// add records the sample (t, v), which fits the clock.
func (c *clockState) add(t int64, v uint32) {
	u := c.lastU + int64(int32(v-(c.v0+uint32(c.lastU))))
	if t >= c.lastT {
		c.lastT, c.lastU = t, u
	}
	if t > c.lastUse {
		c.lastUse = t
	}
	x, y := float64(t-c.t0)/1e9, float64(u)
	c.n++
	dx := x - c.meanX
	c.meanX += dx / float64(c.n)
	c.meanY += (y - c.meanY) / float64(c.n)
	c.cxy += dx * (y - c.meanY)
	c.m2x += dx * (x - c.meanX)
	if float64(c.lastT-c.t0)/1e9 >= minRateSpan && c.m2x > 0 {
		c.rate = snapRate(c.cxy / c.m2x)
	}
}

// snapRate returns the candidate rate nearest to a fitted slope, or 0 if
// none is within rateSnap.
func snapRate(slope float64) float64 {
	for _, r := range candidateRates {
		if math.Abs(slope-r) <= rateSnap*r {
			return r
		}
	}
	return 0
}

// Clock is one TSval clock found behind an address.
type Clock struct {
	// Hz is the clock rate: 100, 250, 300, 1000 or 1e6; 0 when the samples
	// span too short a time (under 0.5 s) or fit no known rate.
	Hz float64
	// Offset is the clock's TSval extrapolated to the report's Start time
	// when Hz is known, else the first TSval seen (at First).
	Offset uint32
	// First is the time of the first sample.
	First time.Time
	// SYNs, Flows and Samples count what was assigned to the clock.
	SYNs, Flows, Samples int
}

func (c *clockState) export(ref int64) Clock {
	out := Clock{Hz: c.rate, Offset: c.v0, First: time.Unix(0, c.t0), SYNs: int(c.syns), Flows: int(c.flows), Samples: int(c.n)}
	if c.rate != 0 {
		x := float64(ref-c.t0) / 1e9
		y := c.meanY + c.rate*(x-c.meanX)
		out.Offset = c.v0 + uint32(int64(math.Round(y)))
	}
	return out
}
