//go:build linux

package nstest

import (
	"net"
	"net/netip"
	"time"
)

func net0Dial(addr netip.AddrPort) (net.Conn, error) {
	return net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
}
