//go:build linux

package sysctl_test

import (
	"os"
	"testing"

	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/sysctl"
)

// benchNetNS returns an FS for a fresh namespace, removed when b ends.
func benchNetNS(b *testing.B) sysctl.FS {
	if os.Geteuid() != 0 {
		b.Skip("entering a network namespace needs root")
	}
	ns := nstest.New(b)
	fsys, err := sysctl.ForNetNS(ns.Path)
	if err != nil {
		b.Fatal(err)
	}
	return fsys
}
