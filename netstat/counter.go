package netstat

import (
	"strconv"
	"strings"
)

// Counter names one counter: a protocol (the line prefix of
// /proc/net/netstat or /proc/net/snmp, such as "TcpExt" or "Tcp") and a
// name within it. It is a string "Proto:Name", so it is comparable, usable
// as a map key and declared as a constant. The zero Counter names nothing.
type Counter string

// NewCounter returns the Counter of name in protocol proto.
func NewCounter(proto, name string) Counter { return Counter(proto + ":" + name) }

// Proto returns the protocol part: "TcpExt" for TCPExtPAWSPassive.
func (c Counter) Proto() string {
	p, _, _ := strings.Cut(string(c), ":")
	return p
}

// Name returns the name within the protocol: "PAWSPassive" for
// TCPExtPAWSPassive.
func (c Counter) Name() string {
	_, n, _ := strings.Cut(string(c), ":")
	return n
}

// NstatName returns the name nstat prints: protocol and name joined,
// "TcpExtPAWSPassive".
func (c Counter) NstatName() string { return c.Proto() + c.Name() }

// String returns "Proto:Name".
func (c Counter) String() string { return string(c) }

// The counters this package describes (spec §9.1). Every other counter a
// kernel prints is kept too and reached with NewCounter, Snapshot.Lookup or
// Snapshot.All.
const (
	TCPExtSyncookiesSent         Counter = "TcpExt:SyncookiesSent"
	TCPExtSyncookiesRecv         Counter = "TcpExt:SyncookiesRecv"
	TCPExtSyncookiesFailed       Counter = "TcpExt:SyncookiesFailed"
	TCPExtEmbryonicRsts          Counter = "TcpExt:EmbryonicRsts"
	TCPExtTW                     Counter = "TcpExt:TW"
	TCPExtTWRecycled             Counter = "TcpExt:TWRecycled"
	TCPExtTWKilled               Counter = "TcpExt:TWKilled"
	TCPExtPAWSPassive            Counter = "TcpExt:PAWSPassive"
	TCPExtPAWSActive             Counter = "TcpExt:PAWSActive"
	TCPExtPAWSEstab              Counter = "TcpExt:PAWSEstab"
	TCPExtBeyondWindow           Counter = "TcpExt:BeyondWindow"
	TCPExtTSEcrRejected          Counter = "TcpExt:TSEcrRejected"
	TCPExtPAWSOldAck             Counter = "TcpExt:PAWSOldAck"
	TCPExtPAWSTimewait           Counter = "TcpExt:PAWSTimewait"
	TCPExtListenOverflows        Counter = "TcpExt:ListenOverflows"
	TCPExtListenDrops            Counter = "TcpExt:ListenDrops"
	TCPExtTCPTimeWaitOverflow    Counter = "TcpExt:TCPTimeWaitOverflow"
	TCPExtTCPReqQFullDoCookies   Counter = "TcpExt:TCPReqQFullDoCookies"
	TCPExtTCPReqQFullDrop        Counter = "TcpExt:TCPReqQFullDrop"
	TCPExtTCPChallengeACK        Counter = "TcpExt:TCPChallengeACK"
	TCPExtTCPSYNChallenge        Counter = "TcpExt:TCPSYNChallenge"
	TCPExtTCPACKSkippedSynRecv   Counter = "TcpExt:TCPACKSkippedSynRecv"
	TCPExtTCPACKSkippedPAWS      Counter = "TcpExt:TCPACKSkippedPAWS"
	TCPExtTCPACKSkippedSeq       Counter = "TcpExt:TCPACKSkippedSeq"
	TCPExtTCPACKSkippedFinWait2  Counter = "TcpExt:TCPACKSkippedFinWait2"
	TCPExtTCPACKSkippedTimeWait  Counter = "TcpExt:TCPACKSkippedTimeWait"
	TCPExtTCPACKSkippedChallenge Counter = "TcpExt:TCPACKSkippedChallenge"

	TCPActiveOpens  Counter = "Tcp:ActiveOpens"
	TCPPassiveOpens Counter = "Tcp:PassiveOpens"
	TCPAttemptFails Counter = "Tcp:AttemptFails"
	TCPEstabResets  Counter = "Tcp:EstabResets"
	TCPCurrEstab    Counter = "Tcp:CurrEstab"
	TCPInSegs       Counter = "Tcp:InSegs"
	TCPOutSegs      Counter = "Tcp:OutSegs"
	TCPRetransSegs  Counter = "Tcp:RetransSegs"
	TCPInErrs       Counter = "Tcp:InErrs"
	TCPOutRsts      Counter = "Tcp:OutRsts"
	TCPMaxConn      Counter = "Tcp:MaxConn"
)

// isGauge reports whether the kernel prints a level or a setting for c
// rather than a count of events: these may go down between two reads, so
// a Delta gives their signed change and never reads a decrease as a reset.
func isGauge(c Counter) bool {
	switch c {
	case "Ip:Forwarding", "Ip:DefaultTTL",
		"Tcp:RtoAlgorithm", "Tcp:RtoMin", "Tcp:RtoMax", TCPMaxConn, TCPCurrEstab,
		"MPTcpExt:MPCurrEstab":
		return true
	}
	return false
}

// Value is a counter value exactly as the kernel printed it: an unsigned
// 64-bit number or, for the few fields printed signed (Tcp MaxConn is -1
// under RFC 2012), a negative one. The zero Value is 0.
type Value struct {
	mag uint64 // magnitude
	neg bool   // the value is -mag; never set with mag == 0
}

// Uint64Value returns the Value of an unsigned number.
func Uint64Value(u uint64) Value { return Value{mag: u} }

// Int64Value returns the Value of a signed number.
func Int64Value(i int64) Value {
	if i < 0 {
		return Value{mag: uint64(-(i + 1)) + 1, neg: true}
	}
	return Value{mag: uint64(i)}
}

// Uint64 returns v and true, or 0 and false if v is negative.
func (v Value) Uint64() (uint64, bool) {
	if v.neg {
		return 0, false
	}
	return v.mag, true
}

// Int64 returns v and true, or false if v does not fit an int64.
func (v Value) Int64() (int64, bool) {
	if v.neg {
		if v.mag > 1<<63 {
			return 0, false
		}
		return -int64(v.mag-1) - 1, true
	}
	if v.mag > 1<<63-1 {
		return 0, false
	}
	return int64(v.mag), true
}

// IsNegative reports whether v is below zero.
func (v Value) IsNegative() bool { return v.neg }

// String returns v in decimal, as the kernel prints it.
func (v Value) String() string {
	var b [21]byte
	return string(v.appendTo(b[:0]))
}

func (v Value) appendTo(b []byte) []byte {
	if v.neg {
		b = append(b, '-')
	}
	return strconv.AppendUint(b, v.mag, 10)
}

// sub returns v - w as a Value, and false if it does not fit.
func (v Value) sub(w Value) (Value, bool) {
	switch {
	case !v.neg && !w.neg:
		if v.mag >= w.mag {
			return Value{mag: v.mag - w.mag}, true
		}
		return Value{mag: w.mag - v.mag, neg: true}, true
	case v.neg && w.neg: // -a - -b = b - a
		return Value{mag: w.mag}.sub(Value{mag: v.mag})
	case !v.neg && w.neg: // a + b
		s := v.mag + w.mag
		return Value{mag: s}, s >= v.mag
	default: // -a - b = -(a + b)
		s := v.mag + w.mag
		return Value{mag: s, neg: true}, s >= v.mag
	}
}
