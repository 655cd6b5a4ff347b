//go:build linux

package netstat_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/prometheus/procfs"

	"github.com/paws-go/paws/netstat"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkSnapshot   *netstat.Snapshot
	sinkN          int
	sinkProcfsNet  procfs.ProcNetstat
	sinkProcfsSNMP procfs.ProcSnmp
)

// BenchmarkRead reads and parses /proc/self/net/netstat and
// /proc/self/net/snmp three ways in one run: this package's Reader, the
// bare cost of the two preads it makes, and prometheus/procfs.
func BenchmarkRead(b *testing.B) {
	b.Run("impl=paws", func(b *testing.B) {
		r, err := netstat.OpenHost()
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		s := new(netstat.Snapshot)
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ReadInto(s); err != nil {
				b.Fatal(err)
			}
		}
		sinkSnapshot = s
	})
	b.Run("impl=pread", func(b *testing.B) {
		var files [2]*os.File
		for i, name := range []string{"/proc/self/net/netstat", "/proc/self/net/snmp"} {
			f, err := os.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			files[i] = f
		}
		buf := make([]byte, 64<<10)
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range files {
				n, err := f.ReadAt(buf, 0)
				if err != nil && !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				sinkN += n
			}
		}
	})
	b.Run("impl=procfs", func(b *testing.B) {
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			b.Fatal(err)
		}
		p, err := fs.Self()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			n, err := p.Netstat()
			if err != nil {
				b.Fatal(err)
			}
			s, err := p.Snmp()
			if err != nil {
				b.Fatal(err)
			}
			sinkProcfsNet, sinkProcfsSNMP = n, s
		}
	})
}
