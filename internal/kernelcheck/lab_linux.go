package kernelcheck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	vnl "github.com/vishvananda/netlink"

	"github.com/paws-go/paws/internal/netns"
)

// commandTimeout bounds every command the lab runs.
const commandTimeout = 10 * time.Second

// netNS is a named network namespace of the lab (ip netns).
type netNS struct {
	role string // "S", "R", "c1", ...
	name string
	path string
}

func (n *netNS) target() netns.Target { return netns.Target{Path: n.path} }

// ip runs "ip -n NAME args...".
func (n *netNS) ip(ctx context.Context, args ...string) error {
	return command(ctx, "ip", append([]string{"-n", n.name}, args...)...)
}

// exec runs a program inside the namespace.
func (n *netNS) exec(ctx context.Context, name string, args ...string) error {
	return command(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...)...)
}

// sysctl writes a sysctl of the namespace, e.g. "net.core.somaxconn".
func (n *netNS) sysctl(name, value string) error {
	path := filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
	err := netns.Do(n.target(), func() error { return os.WriteFile(path, []byte(value), 0) })
	if err != nil {
		return fmt.Errorf("netns %s: set %s=%s: %w", n.name, name, value, err)
	}
	return nil
}

// flushConntrack empties the namespace's conntrack table, as
// "conntrack -F" does, over ctnetlink.
func (n *netNS) flushConntrack() error {
	err := netns.Do(n.target(), func() error { return vnl.ConntrackTableFlush(vnl.ConntrackTable) })
	if err != nil {
		return fmt.Errorf("netns %s: flush conntrack: %w", n.name, err)
	}
	return nil
}

// command runs a program under commandTimeout; its error carries the
// program's output.
func command(ctx context.Context, name string, args ...string) error {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	out, err := exec.CommandContext(cctx, name, args...).CombinedOutput()
	if cerr := ctx.Err(); err != nil && cerr != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), cerr)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// lab owns the namespaces of one scenario run.
type lab struct {
	prefix string
	nss    []*netNS
}

func newLab() (*lab, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("kernelcheck: %w", err)
	}
	return &lab{prefix: fmt.Sprintf("kchk%d-%s", os.Getpid(), hex.EncodeToString(b[:]))}, nil
}

// add creates the namespace <prefix>-<role> with lo up.
func (l *lab) add(ctx context.Context, role string) (*netNS, error) {
	n := &netNS{role: role, name: l.prefix + "-" + role, path: "/run/netns/" + l.prefix + "-" + role}
	if err := command(ctx, "ip", "netns", "add", n.name); err != nil {
		return nil, err
	}
	l.nss = append(l.nss, n)
	return n, n.ip(ctx, "link", "set", "lo", "up")
}

// names returns the names of the namespaces created.
func (l *lab) names() []string {
	var out []string
	for _, n := range l.nss {
		out = append(out, n.name)
	}
	return out
}

// close deletes every namespace, and with them their links and iptables
// rules. It runs with its own deadline, so that it also cleans up after
// the scenario's context has expired.
func (l *lab) close() error {
	var errs []error
	for i := len(l.nss) - 1; i >= 0; i-- {
		errs = append(errs, command(context.Background(), "ip", "netns", "del", l.nss[i].name))
	}
	l.nss = nil
	return errors.Join(errs...)
}

// Addresses of the topology: the server 10.241.0.2, the router 10.241.0.1
// on the server's link and 10.241.K.1 on client K's, client K 10.241.K.2.
const labNet = "10.241.0.0/16"

// serverPort is the port the scenarios' listeners use.
const serverPort = 8080

func labAddr(link, host byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 241, link, host}) }

// topology is a server behind a router, with clients on their own links:
//
//	S eth0 10.241.0.2 ── s0 10.241.0.1 R cK 10.241.K.1 ── eth0 10.241.K.2 cK
type topology struct {
	server, router *netNS
	clients        []*netNS
}

func (t *topology) serverAddr() netip.AddrPort {
	return netip.AddrPortFrom(labAddr(0, 2), serverPort)
}

// clientAddr returns client k's address (k from 1).
func (t *topology) clientAddr(k int) netip.Addr { return labAddr(byte(k), 2) }

// routerAddr returns the router's address on the server's link, the
// address SNAT translates clients to.
func (t *topology) routerAddr() netip.Addr { return labAddr(0, 1) }

// build creates the namespaces and links of a topology with n clients.
func (l *lab) build(ctx context.Context, n int) (*topology, error) {
	t := &topology{}
	var err error
	if t.server, err = l.add(ctx, "S"); err != nil {
		return nil, err
	}
	if t.router, err = l.add(ctx, "R"); err != nil {
		return nil, err
	}
	if err := veth(ctx, t.server, "eth0", "10.241.0.2/24", t.router, "s0", "10.241.0.1/24"); err != nil {
		return nil, err
	}
	if err := t.server.ip(ctx, "route", "add", labNet, "via", t.routerAddr().String()); err != nil {
		return nil, err
	}
	if err := t.router.sysctl("net.ipv4.ip_forward", "1"); err != nil {
		return nil, err
	}
	for k := 1; k <= n; k++ {
		c, err := l.add(ctx, fmt.Sprintf("c%d", k))
		if err != nil {
			return nil, err
		}
		gw := labAddr(byte(k), 1)
		if err := veth(ctx, c, "eth0", fmt.Sprintf("%v/24", t.clientAddr(k)), t.router, fmt.Sprintf("c%d", k), fmt.Sprintf("%v/24", gw)); err != nil {
			return nil, err
		}
		if err := c.ip(ctx, "route", "add", "10.241.0.0/24", "via", gw.String()); err != nil {
			return nil, err
		}
		t.clients = append(t.clients, c)
	}
	return t, nil
}

// veth links namespace a (interface aIf, address aPrefix) with namespace b
// and brings both ends up. The link is created inside a, so nothing ever
// appears in the caller's namespace.
func veth(ctx context.Context, a *netNS, aIf, aPrefix string, b *netNS, bIf, bPrefix string) error {
	steps := [][]string{
		{"link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.name},
		{"addr", "add", aPrefix, "dev", aIf},
		{"link", "set", aIf, "up"},
	}
	for _, s := range steps {
		if err := a.ip(ctx, s...); err != nil {
			return err
		}
	}
	if err := b.ip(ctx, "addr", "add", bPrefix, "dev", bIf); err != nil {
		return err
	}
	return b.ip(ctx, "link", "set", bIf, "up")
}
