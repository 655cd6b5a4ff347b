package sysctl_test

import (
	"testing"

	"github.com/prometheus/procfs"

	"github.com/paws-go/paws/sysctl"
)

var (
	sinkTCP  sysctl.TCP
	sinkInt  int64
	sinkInts []int
)

// BenchmarkTCP is one full typed read: 17 files, from the fixture, from
// this host's /proc, and from another network namespace by path (one
// namespace entry per read; root only).
func BenchmarkTCP(b *testing.B) {
	b.Run("fixture=6.18.44-fc-v595", func(b *testing.B) {
		benchTCP(b, fixtureFS(b, "6.18.44-fc-v595"))
	})
	b.Run("host", func(b *testing.B) {
		fsys, err := sysctl.NewFS()
		if err != nil {
			b.Skip(err)
		}
		benchTCP(b, fsys)
	})
	b.Run("netns", func(b *testing.B) {
		benchTCP(b, benchNetNS(b))
	})
}

func benchTCP(b *testing.B, fsys sysctl.FS) {
	b.ReportAllocs()
	for b.Loop() {
		t, err := fsys.TCP()
		if err != nil {
			b.Fatal(err)
		}
		sinkTCP = t
	}
}

// BenchmarkInt compares reading one integer by name with procfs's
// FS.SysctlInts on the same host file.
func BenchmarkInt(b *testing.B) {
	const name = "net.core.somaxconn"
	b.Run("sysctl", func(b *testing.B) {
		fsys, err := sysctl.NewFS()
		if err != nil {
			b.Skip(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			n, err := fsys.Int(name)
			if err != nil {
				b.Fatal(err)
			}
			sinkInt = n
		}
	})
	b.Run("procfs", func(b *testing.B) {
		fsys, err := procfs.NewFS(sysctl.DefaultMountPoint)
		if err != nil {
			b.Skip(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			v, err := fsys.SysctlInts(name)
			if err != nil {
				b.Fatal(err)
			}
			sinkInts = v
		}
	})
}
