package paws

import "strconv"

// Counter is a kernel SNMP counter that the Evaluator predicts. Its Name is
// the name the kernel prints in /proc/net/netstat ("TcpExt:" group) or
// /proc/net/snmp ("Tcp:" group), without the group prefix, so predicted and
// observed deltas compare directly.
type Counter uint8

// The counters the Evaluator moves. The comments give the kernel's MIB
// identifier; see Profile.Counters for which kernels have which.
const (
	PassiveOpens          Counter = iota // Tcp: TCP_MIB_PASSIVEOPENS, a child socket created at the third ACK
	AttemptFails                         // Tcp: TCP_MIB_ATTEMPTFAILS, a SYN_RECV request reset
	PAWSPassive                          // LINUX_MIB_PAWSPASSIVEREJECTED, per-host PAWS drop (≤ 4.11)
	PAWSEstab                            // LINUX_MIB_PAWSESTABREJECTED
	PAWSOldAck                           // LINUX_MIB_PAWS_OLD_ACK (6.14+)
	PAWSTimewait                         // LINUX_MIB_PAWS_TW_REJECTED (6.16+)
	TSEcrRejected                        // LINUX_MIB_TSECRREJECTED (6.15+)
	ListenOverflows                      // LINUX_MIB_LISTENOVERFLOWS
	ListenDrops                          // LINUX_MIB_LISTENDROPS
	TCPReqQFullDrop                      // LINUX_MIB_TCPREQQFULLDROP
	TCPReqQFullDoCookies                 // LINUX_MIB_TCPREQQFULLDOCOOKIES
	SyncookiesSent                       // LINUX_MIB_SYNCOOKIESSENT
	SyncookiesRecv                       // LINUX_MIB_SYNCOOKIESRECV
	SyncookiesFailed                     // LINUX_MIB_SYNCOOKIESFAILED
	EmbryonicRsts                        // LINUX_MIB_EMBRYONICRSTS
	TW                                   // LINUX_MIB_TIMEWAITED
	TWRecycled                           // LINUX_MIB_TIMEWAITRECYCLED
	TWKilled                             // LINUX_MIB_TIMEWAITKILLED
	TCPTimeWaitOverflow                  // LINUX_MIB_TCPTIMEWAITOVERFLOW
	TCPACKSkippedSynRecv                 // LINUX_MIB_TCPACKSKIPPEDSYNRECV (4.0+)
	TCPACKSkippedPAWS                    // LINUX_MIB_TCPACKSKIPPEDPAWS (4.0+)
	TCPACKSkippedFinWait2                // LINUX_MIB_TCPACKSKIPPEDFINWAIT2 (4.0+)
	TCPACKSkippedTimeWait                // LINUX_MIB_TCPACKSKIPPEDTIMEWAIT (4.0+)
	TCPAbortOnSyn                        // LINUX_MIB_TCPABORTONSYN (≤ 3.5: SYN on an established socket)
	TCPChallengeACK                      // LINUX_MIB_TCPCHALLENGEACK (3.6+)
	TCPSYNChallenge                      // LINUX_MIB_TCPSYNCHALLENGE (3.6+)

	// NumCounters is the number of counters; it is not a counter.
	NumCounters = iota
)

var counterNames = [NumCounters]string{
	PassiveOpens:          "PassiveOpens",
	AttemptFails:          "AttemptFails",
	PAWSPassive:           "PAWSPassive",
	PAWSEstab:             "PAWSEstab",
	PAWSOldAck:            "PAWSOldAck",
	PAWSTimewait:          "PAWSTimewait",
	TSEcrRejected:         "TSEcrRejected",
	ListenOverflows:       "ListenOverflows",
	ListenDrops:           "ListenDrops",
	TCPReqQFullDrop:       "TCPReqQFullDrop",
	TCPReqQFullDoCookies:  "TCPReqQFullDoCookies",
	SyncookiesSent:        "SyncookiesSent",
	SyncookiesRecv:        "SyncookiesRecv",
	SyncookiesFailed:      "SyncookiesFailed",
	EmbryonicRsts:         "EmbryonicRsts",
	TW:                    "TW",
	TWRecycled:            "TWRecycled",
	TWKilled:              "TWKilled",
	TCPTimeWaitOverflow:   "TCPTimeWaitOverflow",
	TCPACKSkippedSynRecv:  "TCPACKSkippedSynRecv",
	TCPACKSkippedPAWS:     "TCPACKSkippedPAWS",
	TCPACKSkippedFinWait2: "TCPACKSkippedFinWait2",
	TCPACKSkippedTimeWait: "TCPACKSkippedTimeWait",
	TCPAbortOnSyn:         "TCPAbortOnSyn",
	TCPChallengeACK:       "TCPChallengeACK",
	TCPSYNChallenge:       "TCPSYNChallenge",
}

// Name returns the counter's name as the kernel prints it, e.g.
// "PAWSPassive", or "Counter(N)" for a value out of range.
func (c Counter) Name() string {
	if int(c) < NumCounters {
		return counterNames[c]
	}
	return "Counter(" + strconv.Itoa(int(c)) + ")"
}

// String returns Name.
func (c Counter) String() string { return c.Name() }

// Group returns the /proc file group of the counter: "Tcp" for those of
// /proc/net/snmp, "TcpExt" for those of /proc/net/netstat.
func (c Counter) Group() string {
	if c == PassiveOpens || c == AttemptFails {
		return "Tcp"
	}
	return "TcpExt"
}

// CounterByName returns the Counter whose Name is name.
func CounterByName(name string) (Counter, bool) {
	for i, n := range counterNames {
		if n == name {
			return Counter(i), true
		}
	}
	return 0, false
}

// Counters holds one value per Counter: totals, or the deltas of a span
// of time. It is a comparable value; the zero value is all zeros.
// Indexing it never allocates.
type Counters [NumCounters]uint64

// Add adds o to c element by element.
func (c *Counters) Add(o Counters) {
	for i := range c {
		c[i] += o[i]
	}
}

// IsZero reports whether every counter is zero.
func (c Counters) IsZero() bool { return c == Counters{} }

// ForEach calls fn for every non-zero counter, in Counter order.
func (c *Counters) ForEach(fn func(Counter, uint64)) {
	for i, v := range c {
		if v != 0 {
			fn(Counter(i), v)
		}
	}
}

// Map returns the non-zero counters by Name, for output.
func (c Counters) Map() map[string]uint64 { return counterMap(c.ForEach) }

// String formats the non-zero counters as "PAWSPassive+1 ListenDrops+1",
// or "—" when all are zero.
func (c Counters) String() string { return counterString(c.ForEach) }

// AddDeltas adds the deltas of one event to c.
func (c *Counters) AddDeltas(d Deltas) {
	for i, v := range d {
		c[i] += uint64(v)
	}
}

// Deltas are the counter deltas of one event (Result.Counters), one per
// Counter. An event moves a counter by one or two at most, so a byte
// holds each: Deltas take 26 bytes where Counters take 208, which keeps
// a Result small enough to return by value at tens of millions of events
// a second. It is a comparable value; the zero value is all zeros.
type Deltas [NumCounters]uint8

// IsZero reports whether every delta is zero.
func (d Deltas) IsZero() bool { return d == Deltas{} }

// ForEach calls fn for every non-zero delta, in Counter order.
func (d *Deltas) ForEach(fn func(Counter, uint64)) {
	for i, v := range d {
		if v != 0 {
			fn(Counter(i), uint64(v))
		}
	}
}

// Counters returns the deltas as Counters.
func (d Deltas) Counters() Counters {
	var c Counters
	c.AddDeltas(d)
	return c
}

// Map returns the non-zero deltas by Name, for output.
func (d Deltas) Map() map[string]uint64 { return counterMap(d.ForEach) }

// String formats the non-zero deltas as "PAWSPassive+1 ListenDrops+1",
// or "—" when all are zero.
func (d Deltas) String() string { return counterString(d.ForEach) }

func counterMap(each func(func(Counter, uint64))) map[string]uint64 {
	m := make(map[string]uint64)
	each(func(k Counter, v uint64) { m[k.Name()] = v })
	return m
}

func counterString(each func(func(Counter, uint64))) string {
	var b []byte
	each(func(k Counter, v uint64) {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, k.Name()...)
		b = append(b, '+')
		b = strconv.AppendUint(b, v, 10)
	})
	if len(b) == 0 {
		return "—"
	}
	return string(b)
}

// CounterSet is a set of Counters, as a bit mask.
type CounterSet uint64

// Has reports whether c is in the set.
func (s CounterSet) Has(c Counter) bool { return int(c) < NumCounters && s&(1<<c) != 0 }

// With returns the set with cs added.
func (s CounterSet) With(cs ...Counter) CounterSet {
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Without returns the set with cs removed.
func (s CounterSet) Without(cs ...Counter) CounterSet {
	for _, c := range cs {
		s &^= 1 << c
	}
	return s
}
