package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	o := options{file: "../../pcapts/testdata/lab/nat-timewait-paws-fixedport.pcap.gz", kernel: "6.18.44", backlog: 4096, maxSYNs: 100}
	rep, err := run(o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Packets != 227 || rep.SYN != 29 || len(rep.Hosts) != 1 || rep.Listener != "10.200.0.2:8080" {
		t.Fatalf("report %+v", rep)
	}
	h := rep.Hosts[0]
	if h.ACKAnswered != 9 || h.Regime != "multiple-clocks" || h.Clocks != 2 || len(h.ClockDetail) != 2 {
		t.Errorf("host %+v", h)
	}
	if len(rep.SYNs) != 9 {
		t.Fatalf("%d SYNs listed, want the 9 answered by a bare ACK", len(rep.SYNs))
	}
	for _, s := range rep.SYNs {
		if s.Observed != "ack" || s.Predicted != "ack" || s.Cause != "timewait-paws" || s.Cached == nil {
			t.Errorf("SYN %+v", s)
		}
	}
	var out bytes.Buffer
	rep.print(&out)
	if !strings.Contains(out.String(), "timewait-paws (cached TSval") {
		t.Errorf("text report:\n%s", out.String())
	}

	o.sysctls = sysctlFlags{"net.ipv4.tcp_tw_recycle=1"}
	if _, err := run(o); err == nil {
		t.Error("tcp_tw_recycle on 6.18: no error")
	}
	o.kernel, o.sysctls = "", nil
	o.file = "testdata-missing.pcap"
	if _, err := run(o); err == nil {
		t.Error("missing file: no error")
	}
}
