package netstat_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
)

func ExampleParse() {
	s, err := netstat.Parse(strings.NewReader(
		"TcpExt: PAWSPassive ListenOverflows ListenDrops TCPAOGood\n" +
			"TcpExt: 1843302 17 1843319 0\n" +
			"Tcp: RtoAlgorithm MaxConn PassiveOpens\n" +
			"Tcp: 1 -1 51230098\n"))
	if err != nil {
		log.Fatal(err)
	}
	drops, _ := s.Get(netstat.TCPExtListenDrops)
	fmt.Println("ListenDrops:", drops)
	if _, ok := s.Get(netstat.TCPExtPAWSTimewait); !ok {
		fmt.Println("PAWSTimewait: not on this kernel")
	}
	ao, _ := s.Lookup("TcpExt", "TCPAOGood")
	fmt.Println("TCPAOGood:", ao)
	maxConn, _ := s.Value(netstat.TCPMaxConn)
	fmt.Println("MaxConn:", maxConn)
	// Output:
	// ListenDrops: 1843319
	// PAWSTimewait: not on this kernel
	// TCPAOGood: 0
	// MaxConn: -1
}

func ExampleSnapshot_Sub() {
	t0 := time.Date(2026, 11, 22, 5, 52, 48, 0, time.UTC)
	parse := func(text string, at time.Time) *netstat.Snapshot {
		s, err := netstat.Parse(strings.NewReader(text))
		if err != nil {
			log.Fatal(err)
		}
		s.Time = at
		return s
	}
	prev := parse("TcpExt: PAWSPassive ListenDrops\nTcpExt: 18446744073709551610 100\n", t0)
	cur := parse("TcpExt: PAWSPassive ListenDrops\nTcpExt: 4 110\n", t0.Add(5*time.Second))

	d, err := cur.Sub(prev)
	if err != nil {
		log.Fatal(err)
	}
	n, _ := d.Get(netstat.TCPExtPAWSPassive)
	rate, _ := d.Rate(netstat.TCPExtListenDrops)
	fmt.Printf("PAWSPassive moved %d (through 2^64); ListenDrops %.0f/s\n", n, rate)

	// A reboot in between: counters went back.
	_, err = prev.Sub(parse("TcpExt: PAWSPassive ListenDrops\nTcpExt: 3 0\n", t0.Add(time.Hour)))
	fmt.Println(errors.Is(err, netstat.ErrReset))
	// Output:
	// PAWSPassive moved 10 (through 2^64); ListenDrops 2/s
	// true
}

func ExampleDelta_Format() {
	const names = "TcpExt: TW PAWSPassive ListenOverflows ListenDrops TCPTimeWaitOverflow\n"
	prev, err := netstat.Parse(strings.NewReader(names + "TcpExt: 30422871 1843302 17 1843319 0\n"))
	if err != nil {
		log.Fatal(err)
	}
	cur, err := netstat.Parse(strings.NewReader(names + "TcpExt: 30422871 1843307 17 1843324 2\n"))
	if err != nil {
		log.Fatal(err)
	}
	d, err := cur.Sub(prev)
	if err != nil {
		log.Fatal(err)
	}
	if err := d.Format(os.Stdout, paws.MustParseKernelVersion("3.10.0-1160.el7.x86_64")); err != nil {
		log.Fatal(err)
	}
	// Output:
	// TcpExt:
	//     5 passive connections rejected because of time stamp
	//     5 SYNs to LISTEN sockets dropped
	//     TCPTimeWaitOverflow: 2
}

func ExampleDescribe() {
	for _, v := range []string{"3.10.0-1160.el7.x86_64", "4.19.0-27-amd64"} {
		d := netstat.Describe(netstat.TCPExtPAWSPassive, paws.MustParseKernelVersion(v))
		fmt.Printf("%s: %q\n  %s\n", v, d.Sentence, d.Meaning)
	}
	// Output:
	// 3.10.0-1160.el7.x86_64: "%d passive connections rejected because of time stamp"
	//   SYNs dropped by the per-host PAWS check (tcp_tw_recycle=1): the SYN's TSval was older than the one remembered for its source address less than 60 s ago; each drop also counts in ListenDrops
	// 4.19.0-27-amd64: "%d passive connections rejected because of time stamp"
	//   not on this kernel: removed in 4.12 together with tcp_tw_recycle and the per-host PAWS check
}

func ExampleExpected() {
	// The PAWS counters added since the Debian 10 kernel.
	old := netstat.Expected(paws.MustParseKernelVersion("4.19.0-27-amd64"))
	for _, c := range netstat.Expected(paws.MustParseKernelVersion("6.18.44")) {
		if !slices.Contains(old, c) {
			fmt.Println(c)
		}
	}
	// Output:
	// TcpExt:BeyondWindow
	// TcpExt:TSEcrRejected
	// TcpExt:PAWSOldAck
	// TcpExt:PAWSTimewait
}

// ExampleOpenNetNS reads the counters of a named namespace twice and
// prints how many SYNs its listeners dropped in between.
func ExampleOpenNetNS() {
	r, err := netstat.OpenNetNS("/run/netns/web")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Fatal("no such namespace")
	case errors.Is(err, fs.ErrPermission):
		log.Fatal("entering a namespace needs CAP_SYS_ADMIN")
	case errors.Is(err, paws.ErrNotSupported):
		log.Fatal("not on Linux")
	case err != nil:
		log.Fatal(err)
	}
	defer r.Close()

	var prev, cur netstat.Snapshot
	if err := r.ReadInto(&prev); err != nil {
		log.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	if err := r.ReadInto(&cur); err != nil {
		log.Fatal(err)
	}
	var d netstat.Delta
	if err := d.Compute(&prev, &cur); err != nil {
		log.Fatal(err) // errors.Is(err, netstat.ErrReset): the namespace was re-created
	}
	drops, _ := d.Get(netstat.TCPExtListenDrops)
	fmt.Println(drops, "SYNs to LISTEN sockets dropped")
}
