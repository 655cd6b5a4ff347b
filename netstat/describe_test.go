package netstat_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
)

func TestDescribe(t *testing.T) {
	v := paws.MustParseKernelVersion
	tests := []struct {
		c        netstat.Counter
		v        string
		sentence string
		meaning  string // a substring
	}{
		{netstat.TCPExtPAWSPassive, "3.10.0-1160.el7.x86_64", "%d passive connections rejected because of time stamp", "also counts in ListenDrops"},
		{netstat.TCPExtPAWSPassive, "3.5.0", "%d passive connections rejected because of time stamp", "do not count in ListenDrops"},
		{netstat.TCPExtPAWSPassive, "4.12.0", "%d passive connections rejected because of time stamp", "not on this kernel"},
		{netstat.TCPExtListenDrops, "3.7.10", "%d SYNs to LISTEN sockets dropped", "not counted before 3.8"},
		{netstat.TCPExtListenDrops, "3.8.0", "%d SYNs to LISTEN sockets dropped", "per-host PAWS"},
		{netstat.TCPExtListenOverflows, "6.18.44", "%d times the listen queue of a socket overflowed", "accept queue full"},
		{netstat.TCPExtPAWSEstab, "6.15.3", "%d packets rejected in established connections because of timestamp", "TIME_WAIT"},
		{netstat.TCPExtPAWSEstab, "6.16.0", "%d packets rejected in established connections because of timestamp", "count in PAWSTimewait from 6.16"},
		{netstat.TCPExtPAWSTimewait, "6.15.0", "PAWSTimewait: %d", "count in PAWSEstab"},
		{netstat.TCPExtPAWSTimewait, "6.16.0", "PAWSTimewait: %d", "TIME_WAIT sockets"},
		{netstat.TCPExtTCPACKSkippedPAWS, "3.10.0-1160.el7.x86_64", "TCPACKSkippedPAWS: %d", "tcp_invalid_ratelimit"},
		{netstat.TCPExtTCPACKSkippedPAWS, "3.10.105", "TCPACKSkippedPAWS: %d", "not on this kernel"},
		{netstat.TCPPassiveOpens, "4.9.0", "%d passive connection openings", "final ACK"},
		{netstat.NewCounter("TcpExt", "TCPAOGood"), "6.18.0", "TCPAOGood: %d", ""},
	}
	for _, tt := range tests {
		d := netstat.Describe(tt.c, v(tt.v))
		if d.Sentence != tt.sentence {
			t.Errorf("Describe(%s, %s).Sentence = %q, want %q", tt.c, tt.v, d.Sentence, tt.sentence)
		}
		if !strings.Contains(d.Meaning, tt.meaning) || (tt.meaning == "") != (d.Meaning == "") {
			t.Errorf("Describe(%s, %s).Meaning = %q, want it to contain %q", tt.c, tt.v, d.Meaning, tt.meaning)
		}
	}
	if got := netstat.Describe(netstat.TCPExtListenDrops, paws.KernelVersion{}).Line(netstat.Uint64Value(12)); got != "12 SYNs to LISTEN sockets dropped" {
		t.Errorf("Line = %q", got)
	}
}

func TestExpected(t *testing.T) {
	has := func(v string, cs ...netstat.Counter) map[netstat.Counter]bool {
		exp := netstat.Expected(paws.MustParseKernelVersion(v))
		m := map[netstat.Counter]bool{}
		for _, c := range cs {
			m[c] = contains(exp, c)
		}
		return m
	}
	tests := []struct {
		v    string
		want map[netstat.Counter]bool
	}{
		{"2.6.32", map[netstat.Counter]bool{netstat.TCPExtPAWSPassive: true, netstat.TCPExtTCPTimeWaitOverflow: false, netstat.TCPExtTCPChallengeACK: false}},
		{"2.6.32-642.6.2.el6.x86_64", map[netstat.Counter]bool{netstat.TCPExtTCPChallengeACK: true, netstat.TCPExtTCPReqQFullDrop: false}},
		{"3.6.0", map[netstat.Counter]bool{netstat.TCPExtTCPReqQFullDrop: true, netstat.TCPExtTCPACKSkippedPAWS: false}},
		{"3.10.0-1160.el7.x86_64", map[netstat.Counter]bool{netstat.TCPExtTCPACKSkippedPAWS: true, netstat.TCPExtPAWSPassive: true}},
		{"4.11.9", map[netstat.Counter]bool{netstat.TCPExtPAWSPassive: true}},
		{"4.12.0", map[netstat.Counter]bool{netstat.TCPExtPAWSPassive: false, netstat.TCPExtPAWSOldAck: false}},
		{"6.14.0", map[netstat.Counter]bool{netstat.TCPExtPAWSOldAck: true, netstat.TCPExtTSEcrRejected: false}},
		{"6.16.0", map[netstat.Counter]bool{netstat.TCPExtPAWSTimewait: true, netstat.TCPExtBeyondWindow: false}},
		{"6.17.0", map[netstat.Counter]bool{netstat.TCPExtBeyondWindow: true}},
	}
	for _, tt := range tests {
		keys := make([]netstat.Counter, 0, len(tt.want))
		for c := range tt.want {
			keys = append(keys, c)
		}
		if diff := cmp.Diff(tt.want, has(tt.v, keys...)); diff != "" {
			t.Errorf("Expected(%s) (-want +got):\n%s", tt.v, diff)
		}
	}
}
