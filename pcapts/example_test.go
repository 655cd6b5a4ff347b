package pcapts_test

import (
	"fmt"
	"log"
	"os"

	"github.com/paws-go/paws/pcapts"
)

// ExampleAnalyzer reads a lab capture: two clients behind one SNAT
// address and port, each connection meeting the server's TIME_WAIT of the
// previous one.
func ExampleAnalyzer() {
	f, err := os.Open("testdata/lab/nat-timewait-paws-fixedport.pcap.gz")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := pcapts.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	a := pcapts.NewAnalyzer(pcapts.Config{})
	for r.Next() {
		a.Add(r.Segment())
	}
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	a.Flush()
	for _, h := range a.Report().Hosts {
		fmt.Printf("%v: %d SYNs, %d answered, %d answered by a bare ACK; %v, at least %d hosts\n",
			h.Addr, h.SYNs, h.Answered, h.ACKAnswered, h.Regime, h.MinHosts)
		for _, c := range h.Clocks {
			fmt.Printf("  clock at %g Hz: %d SYNs in %d connections\n", c.Hz, c.SYNs, c.Flows)
		}
	}
	// Output:
	// 10.200.0.1: 29 SYNs, 20 answered, 9 answered by a bare ACK; multiple-clocks, at least 2 hosts
	//   clock at 1000 Hz: 19 SYNs in 10 connections
	//   clock at 1000 Hz: 10 SYNs in 10 connections
}

// ExampleDecodePacket decodes one raw IPv4 SYN.
func ExampleDecodePacket() {
	pkt := []byte{
		0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, // IPv4, 60 bytes, TCP
		172, 16, 0, 13, 10, 0, 0, 1, // 172.16.0.13 > 10.0.0.1
		0x9c, 0x41, 0, 80, 0, 0, 0x1b, 0x58, 0, 0, 0, 0, // ports 40001 > 80, seq 7000
		0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0, // data offset 40, SYN
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x10, 0x2c, 0x63, 0x56, 0, 0, 0, 0, 1, 3, 3, 7, // MSS, SACK-permitted, TS, WS
	}
	s, _, ok := pcapts.DecodePacket(pcapts.LinkRaw, pkt, len(pkt))
	fmt.Println(ok, s.Flow, s.Flags, s.Seq, s.TSval, s.MSS, s.WindowScale, s.SACKPermitted)
	// Output: true 172.16.0.13:40001 > 10.0.0.1:80 S 7000 271344470 1460 7 true
}
