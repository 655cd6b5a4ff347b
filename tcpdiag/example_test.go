package tcpdiag_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net/netip"
	"time"

	"github.com/paws-go/paws/tcpdiag"
)

// A listener with backlog 4 holds 5 connections: "ss -ltn" printing
// Recv-Q 5 and Send-Q 4 means the queue is full and SYNs are dropped.
func ExampleListener_AcceptQueueFull() {
	for _, q := range []uint32{4, 5} {
		l := tcpdiag.Listener{
			Local:       netip.MustParseAddrPort("10.0.0.1:443"),
			AcceptQueue: q,
			Backlog:     4,
		}
		fmt.Printf("%v: full=%v fill=%.0f%%\n", l, l.AcceptQueueFull(), 100*l.FillRatio())
	}
	// Output:
	// LISTEN 4 4 10.0.0.1:443: full=false fill=80%
	// LISTEN 5 4 10.0.0.1:443: full=true fill=100%
}

// On a kernel with tcp_tw_recycle (before 4.12), a fresh cached timestamp
// makes the server drop SYNs from that peer whose TSval is older.
func ExampleMetrics_TWTimestampFresh() {
	m := tcpdiag.Metrics{
		Peer:       netip.MustParseAddr("172.16.0.13"),
		TWTSVal:    3_000_000_000,
		TWTSValAge: 12 * time.Second,
		Present:    tcpdiag.FieldTWTimestamp,
	}
	fmt.Println(m.Peer, m.TWTSVal, m.TWTimestampFresh())
	// Output:
	// 172.16.0.13 3000000000 true
}

// Listeners full right now in the namespace of process 1234 (a container),
// with the processes that should be accepting.
func ExampleConn_Owners() {
	c, err := tcpdiag.Dial(&tcpdiag.Config{NetNS: tcpdiag.NetNSOfPID(1234)})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ls, err := c.Listeners()
	if err != nil {
		log.Fatal(err)
	}
	owned, err := c.Owners(ls)
	var pe *tcpdiag.ProcessError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrPermission) {
		log.Printf("not allowed to inspect pids %v; run as root for all owners", pe.PIDs)
	} else if err != nil {
		log.Fatal(err)
	}
	for _, o := range owned {
		if !o.Listener.AcceptQueueFull() {
			continue
		}
		fmt.Printf("%v is full (backlog clamped to somaxconn: %v)\n", o.Listener, o.BacklogClamped())
		for _, p := range o.Processes {
			fmt.Printf("  pid %d %s: %d of %d descriptors, at limit: %v\n",
				p.PID, p.Command, p.OpenFiles, p.MaxOpenFiles, p.AtFDLimit)
		}
	}
}

// The per-peer timestamps that per-host PAWS compares SYNs against.
func ExampleConn_TCPMetrics() {
	c, err := tcpdiag.Dial(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ms, err := c.TCPMetrics()
	if errors.Is(err, fs.ErrNotExist) {
		log.Fatal("kernel without tcp_metrics (before 3.7)")
	} else if err != nil && !errors.Is(err, tcpdiag.ErrDumpInterrupted) {
		log.Fatal(err)
	}
	for _, m := range ms {
		if m.TWTimestampFresh() {
			fmt.Printf("%v: SYNs with TSval older than %d are dropped for another %v\n",
				m.Peer, m.TWTSVal, tcpdiag.PAWSMSL-m.TWTSValAge)
		}
	}
}
