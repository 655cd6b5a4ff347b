package paws

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

const goodScenario = `{"kernel": "3.10.0-1160.el7.x86_64",
 "sysctl": {"net.ipv4.tcp_tw_recycle": 1},
 "listener": {"addr": "100.64.0.1:80", "backlog": 128},
 "wall_start": 1700000000,
 "events": [
  {"t": 0, "type": "syn", "src": "172.16.0.13:51000", "tsval": 2088983548},
  {"t": 0.4, "type": "server_close", "src": "172.16.0.13:51000", "last_tsval": 2088983950, "last_tsval_at": 0.3},
  {"t": 1.0, "type": "syn", "src": "172.16.0.13:40001", "tsval": 271344470},
  {"t": 2.0, "type": "syn", "src": "172.16.0.13:40001", "tsval": 271345544}]}`

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string
		is             error
	}{
		{"src not ip:port", `"src": "172.16.0.13:40001", "tsval": 271345544`, `"src": "1.2.3.4", "tsval": 271345544`, `paws: scenario: events[3].src: "1.2.3.4" is not ip:port`, ErrScenario},
		{"unknown event field", `"tsval": 271344470}`, `"tsval": 271344470, "ttl": 3}`, `paws: scenario: events[2]: unknown field "ttl"`, ErrScenario},
		{"unknown top field", `"wall_start"`, `"wallstart": 1, "wall_start"`, `paws: scenario: unknown field "wallstart"`, ErrScenario},
		{"tsval negative", `"tsval": 271344470`, `"tsval": -1`, `paws: scenario: events[2].tsval: number -1 is not a valid uint32`, ErrScenario},
		{"tsval too big", `"tsval": 271344470`, `"tsval": 4294967296`, `paws: scenario: events[2].tsval: number 4294967296 is not a valid uint32`, ErrScenario},
		{"tsval string", `"tsval": 271344470`, `"tsval": "x"`, `paws: scenario: events[2].tsval: string is not a valid uint32`, ErrScenario},
		{"time order", `"t": 2.0`, `"t": 0.5`, `paws: scenario: events[3].t: 0.5 is before the previous event's 1`, ErrScenario},
		{"missing t", `{"t": 1.0, `, `{`, `paws: scenario: events[2].t: missing`, ErrScenario},
		{"bad type", `"type": "server_close"`, `"type": "close"`, `paws: scenario: events[1].type: "close" is not one of`, ErrScenario},
		{"field of other type", `"last_tsval_at": 0.3`, `"last_tsval_at": 0.3, "tsecr": 5`, `paws: scenario: events[1].tsecr: not a field of a server_close event`, ErrScenario},
		{"last_tsval_at after t", `"last_tsval_at": 0.3`, `"last_tsval_at": 0.5`, `paws: scenario: events[1].last_tsval_at: 0.5 is after t 0.4`, ErrScenario},
		{"sysctl absent on kernel", `"3.10.0-1160.el7.x86_64"`, `"6.18.44"`, `paws: scenario: sysctl.net.ipv4.tcp_tw_recycle: does not exist on 6.18.44`, fs.ErrNotExist},
		{"sysctl unknown", `"net.ipv4.tcp_tw_recycle"`, `"net.ipv4.tcp_fancy"`, `paws: scenario: sysctl.net.ipv4.tcp_fancy: paws: invalid setting: sysctl "net.ipv4.tcp_fancy" is not modelled`, ErrSetting},
		{"sysctl range", `"net.ipv4.tcp_tw_recycle": 1`, `"net.ipv4.tcp_tw_recycle": 7`, `paws: scenario: sysctl.net.ipv4.tcp_tw_recycle: paws: invalid setting: net.ipv4.tcp_tw_recycle = 7 out of range [0, 1]`, ErrSetting},
		{"kernel", `"3.10.0-1160.el7.x86_64"`, `"linux"`, `paws: scenario: kernel: paws: invalid kernel version`, ErrVersion},
		{"listener addr", `"100.64.0.1:80"`, `"100.64.0.1"`, `paws: scenario: listener.addr: "100.64.0.1" is not ip:port`, ErrScenario},
		{"listener backlog", `"backlog": 128`, `"backlog": -1`, `paws: scenario: listener.backlog: -1 out of range`, ErrScenario},
		{"syntax", `"events": [`, `"events": [,`, `paws: scenario: offset`, ErrScenario},
		{"truncated", `"tsval": 271345544}]}`, `"tsval": 271345544}]`, `paws: scenario: truncated JSON`, ErrScenario},
		{"trailing data", `271345544}]}`, `271345544}]} {}`, `paws: scenario: data after the JSON value`, ErrScenario},
		{"family mix", `"src": "172.16.0.13:51000", "tsval"`, `"src": "172.16.0.13:51000", "dst": "[::1]:80", "tsval"`, `paws: scenario: events[0].dst: [::1]:80 and src 172.16.0.13:51000 are of different families`, ErrScenario},
		{"expect outcome", `"tsval": 271344470}`, `"tsval": 271344470, "expect": {"outcome": "dropped"}}`, `paws: scenario: events[2].expect.outcome: "dropped" is not one of`, ErrScenario},
		{"expect counter", `"tsval": 271344470}`, `"tsval": 271344470, "expect": {"outcome": "drop", "counters": {"PAWS": 1}}}`, `paws: scenario: events[2].expect.counters.PAWS: not a modelled counter`, ErrScenario},
		{"state cache", `"wall_start"`, `"state": {"cache": [{"remote": "172.16.0.300", "tsval": 1, "at": 0}]}, "wall_start"`, `paws: scenario: state.cache[0].remote: "172.16.0.300" is not an IP address`, ErrScenario},
		{"state timewait", `"wall_start"`, `"state": {"timewait": [{"src": "x"}]}, "wall_start"`, `paws: scenario: state.timewait[0].src: "x" is not ip:port`, ErrScenario},
		{"t NaN-like huge", `"t": 2.0`, `"t": 1e300`, `paws: scenario: events[3].t: 1e+300 out of range`, ErrScenario},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(goodScenario, tt.old) {
				t.Fatalf("test broken: %q not in the scenario", tt.old)
			}
			_, err := ParseScenario([]byte(strings.Replace(goodScenario, tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n %q\nwant prefix\n %q", err, tt.want)
			}
			if !errors.Is(err, tt.is) || !errors.Is(err, ErrScenario) {
				t.Errorf("error %v does not match %v and ErrScenario", err, tt.is)
			}
		})
	}
}

func TestParseScenarioGood(t *testing.T) {
	s, err := ReadScenario(strings.NewReader(goodScenario))
	if err != nil {
		t.Fatal(err)
	}
	res, e, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	want := []Outcome{OutcomeAnswer, OutcomeNone, OutcomeDrop, OutcomeDrop}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("events[%d]: %v, want %v", i, r.Outcome, want[i])
		}
	}
	if c, ok := e.Cache(netip4("100.64.0.1"), netip4("172.16.0.13")); !ok || c.TSval != 2088983950 || c.Stamp != 1700000000 {
		t.Errorf("cache entry %+v, %v", c, ok)
	}
}
