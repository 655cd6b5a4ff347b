//go:build linux

// Package nstest creates network namespaces, veth links and listeners for
// the integration tests of this module. Every namespace is removed by
// t.Cleanup; every command runs under a timeout.
//
// Tests that need root call RequireRoot first: without root they skip with
// a message that says so; with root a missing tool fails the test.
package nstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/netns"
)

// CommandTimeout bounds every command this package runs.
const CommandTimeout = 30 * time.Second

// RequireRoot skips t unless the test runs as root, and fails it when a
// tool the integration tests need is missing.
func RequireRoot(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping integration test: it creates network namespaces and needs root (CI runs it as root; locally: sudo -E go test ./...)")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("integration test needs %q on PATH (.ci/run installs it): %v", tool, err)
		}
	}
}

// NS is a named network namespace made for one test.
type NS struct {
	Name string
	// Path is the namespace file, /run/netns/<Name>.
	Path string
}

// New creates a namespace with lo up and removes it when the test ends.
func New(t testing.TB) *NS {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("pawst%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	Cmd(t, "ip", "netns", "add", name)
	ns := &NS{Name: name, Path: filepath.Join("/run/netns", name)}
	t.Cleanup(func() {
		if out, err := run("ip", "netns", "del", name); err != nil {
			t.Errorf("remove netns %s: %v: %s", name, err, out)
		}
	})
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// Target returns the namespace as a netns.Target.
func (ns *NS) Target() netns.Target { return netns.Target{Path: ns.Path} }

// IP runs "ip -n NAME args..." and fails the test on error.
func (ns *NS) IP(t testing.TB, args ...string) string {
	t.Helper()
	return Cmd(t, "ip", append([]string{"-n", ns.Name}, args...)...)
}

// Exec runs a command inside the namespace and fails the test on error.
func (ns *NS) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return Cmd(t, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Sysctl sets a sysctl inside the namespace, e.g. "net.core.somaxconn".
func (ns *NS) Sysctl(t testing.TB, name, value string) {
	t.Helper()
	path := filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
	ns.Do(t, func() error { return os.WriteFile(path, []byte(value), 0) })
}

// Do runs fn on a thread inside the namespace and fails the test on error.
func (ns *NS) Do(t testing.TB, fn func() error) {
	t.Helper()
	if err := netns.Do(ns.Target(), fn); err != nil {
		t.Fatalf("in netns %s: %v", ns.Name, err)
	}
}

// Veth links namespace a (interface aIf, address aPrefix such as
// "10.201.0.1/24") with namespace b and brings both ends up.
func Veth(t testing.TB, a *NS, aIf, aPrefix string, b *NS, bIf, bPrefix string) {
	t.Helper()
	a.IP(t, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name)
	a.IP(t, "addr", "add", aPrefix, "dev", aIf)
	b.IP(t, "addr", "add", bPrefix, "dev", bIf)
	a.IP(t, "link", "set", aIf, "up")
	b.IP(t, "link", "set", bIf, "up")
}

// Listen opens a TCP listener in the namespace with exactly the given
// backlog (the net package would pass somaxconn instead) and never accepts.
// It returns the socket's fd, closed when the test ends.
func (ns *NS) Listen(t testing.TB, addr netip.AddrPort, backlog int) int {
	t.Helper()
	var fd int
	ns.Do(t, func() error {
		var err error
		fd, err = ListenRaw(addr, backlog)
		return err
	})
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// ListenRaw opens a listening TCP socket in the calling thread's namespace
// with exactly the given backlog.
func ListenRaw(addr netip.AddrPort, backlog int) (int, error) {
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}
	if a := addr.Addr().Unmap(); a.Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: a.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("listen", err)
	}
	return fd, nil
}

// Dial connects from inside the namespace with a timeout. The returned
// connection keeps working after the thread leaves the namespace.
func (ns *NS) Dial(t testing.TB, addr netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	var derr error
	ns.Do(t, func() error {
		d := net.Dialer{Timeout: timeout}
		c, derr = d.Dial("tcp", addr.String())
		return nil
	})
	return c, derr
}

// Cmd runs a command under CommandTimeout and fails the test on error.
func Cmd(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := run(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
