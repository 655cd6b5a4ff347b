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
		// The steady state: the first read sizes the buffer and builds
		// the layout.
		s := new(netstat.Snapshot)
		if err := r.ReadInto(s); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ReadInto(s); err != nil {
				b.Fatal(err)
			}
		}
		sinkSnapshot = s
	})
	b.Run("impl=pread", func(b *testing.B) {
		// The Reader's system calls: per file a pread at offset 0 into the
		// free part of one buffer and a pread at the end that returns EOF.
		// The buffer is as large as the Reader's, which grows by 8 KiB
		// until both files fit with room for the EOF read.
		var files [2]*os.File
		total := 0
		for i, name := range []string{"/proc/self/net/netstat", "/proc/self/net/snmp"} {
			f, err := os.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			files[i] = f
			data, err := os.ReadFile(name)
			if err != nil {
				b.Fatal(err)
			}
			total += len(data)
		}
		buf := make([]byte, (total/8192+1)*8192)
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, f := range files {
				m, err := f.ReadAt(buf[n:], 0)
				if !errors.Is(err, io.EOF) {
					b.Fatalf("ReadAt: %d bytes, %v; want the whole file and EOF", m, err)
				}
				n += m
			}
			sinkN += n
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
