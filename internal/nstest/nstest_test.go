//go:build linux

package nstest

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func TestIntegrationNamespace(t *testing.T) {
	RequireRoot(t)
	host, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		t.Fatal(err)
	}
	ns := New(t)
	ns.Sysctl(t, "net.core.somaxconn", "123")
	if got := strings.TrimSpace(ns.Exec(t, "cat", "/proc/sys/net/core/somaxconn")); got != "123" {
		t.Fatalf("somaxconn in %s = %q, want 123", ns.Name, got)
	}
	if after, _ := os.ReadFile("/proc/sys/net/core/somaxconn"); string(after) != string(host) {
		t.Fatalf("host somaxconn changed from %q to %q", host, after)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:47391")
	ns.Listen(t, addr, 4)
	c, err := ns.Dial(t, addr, time.Second)
	if err != nil {
		t.Fatalf("dial in namespace: %v", err)
	}
	c.Close()
	if _, err := net0Dial(addr); err == nil {
		t.Fatalf("listener in %s is reachable from the host namespace", ns.Name)
	}
}
