//go:build !linux

package sysctl_test

import (
	"testing"

	"github.com/paws-go/paws/sysctl"
)

func benchNetNS(b *testing.B) sysctl.FS {
	b.Skip("network namespaces exist only on Linux")
	return sysctl.FS{}
}
