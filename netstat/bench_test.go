package netstat

import (
	"io/fs"
	"testing"

	"github.com/paws-go/paws/internal/procfixture"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkParsed *Snapshot
	sinkDelta  *Delta
)

// fixtureSources returns the two files of a fixture kernel as parser input.
func fixtureSources(tb testing.TB, kernel string) []source {
	tb.Helper()
	fsys, err := procfixture.FS(kernel)
	if err != nil {
		tb.Fatal(err)
	}
	var srcs []source
	for _, name := range []string{netstatPath, snmpPath} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, source{name: name, data: data})
	}
	return srcs
}

// BenchmarkParse parses each fixture kernel's two files into a reused
// Snapshot: the steady state of a Reader without the system calls.
func BenchmarkParse(b *testing.B) {
	for _, k := range procfixture.Kernels() {
		b.Run("kernel="+k, func(b *testing.B) {
			srcs := fixtureSources(b, k)
			s := new(Snapshot)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.parse(srcs, nil); err != nil {
					b.Fatal(err)
				}
			}
			sinkParsed = s
		})
	}
}

// BenchmarkDelta computes the delta of two 6.18 snapshots into a reused
// Delta.
func BenchmarkDelta(b *testing.B) {
	srcs := fixtureSources(b, "6.18.44-fc-v595")
	prev, cur := new(Snapshot), new(Snapshot)
	if err := prev.parse(srcs, nil); err != nil {
		b.Fatal(err)
	}
	if err := cur.parse(srcs, prev.lay); err != nil {
		b.Fatal(err)
	}
	d := new(Delta)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Compute(prev, cur); err != nil {
			b.Fatal(err)
		}
	}
	sinkDelta = d
}

// TestNoAllocs holds the allocation contract: re-parsing unchanged headers
// into a Snapshot, a snapshot adopting the layout its Reader already
// built, and Compute into a reused Delta allocate nothing.
func TestNoAllocs(t *testing.T) {
	for _, k := range procfixture.Kernels() {
		srcs := fixtureSources(t, k)
		s := new(Snapshot)
		if err := s.parse(srcs, nil); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			if err := s.parse(srcs, nil); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: re-parse allocates %v times", k, n)
		}
		// Two snapshots alternating, as in a prev/cur loop.
		other := &Snapshot{values: make([]Value, 0, len(s.values))}
		if n := testing.AllocsPerRun(100, func() {
			if err := other.parse(srcs, s.lay); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: parse with the cached layout allocates %v times", k, n)
		}
		if other.lay != s.lay {
			t.Errorf("%s: the cached layout was not shared", k)
		}
		d := new(Delta)
		if err := d.Compute(s, other); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			if err := d.Compute(s, other); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Compute allocates %v times", k, n)
		}
	}
}
