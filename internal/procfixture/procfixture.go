// Package procfixture holds /proc trees of several kernels for the tests,
// examples and benchmarks of this module, so that plain "go test ./..."
// needs no setup step.
//
// Each tree lives in testdata/<kernel release>/ and mirrors /proc: net/netstat,
// net/snmp, sys/kernel/osrelease, sys/net/ipv4/tcp_*, sys/net/core/somaxconn,
// and a PROVENANCE.md that says where each file came from (captured on a
// real machine, or built from the per-version lists of the kernel spec).
package procfixture

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed testdata
var trees embed.FS

// Kernels returns the kernel releases that have a tree, sorted.
func Kernels() []string {
	entries, err := fs.ReadDir(trees, "testdata")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// FS returns the tree of the given kernel release, rooted where /proc is.
// It fails with an error wrapping fs.ErrNotExist for an unknown release.
func FS(kernel string) (fs.FS, error) {
	dir := "testdata/" + kernel
	if _, err := fs.Stat(trees, dir); err != nil {
		return nil, fmt.Errorf("procfixture: no tree for kernel %q: %w", kernel, err)
	}
	return fs.Sub(trees, dir)
}
