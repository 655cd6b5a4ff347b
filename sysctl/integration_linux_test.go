//go:build linux

package sysctl_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/sysctl"
)

// threadNetNS returns the inode of the calling thread's network namespace.
func threadNetNS(tb testing.TB) uint64 {
	tb.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		tb.Fatal(err)
	}
	return st.Ino
}

func nsInode(tb testing.TB, path string) uint64 {
	tb.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		tb.Fatal(err)
	}
	return st.Ino
}

func hostInt(tb testing.TB, path string) int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// startIn starts "sleep 30" inside ns and waits, bounded, until it has
// entered the namespace. The process is killed when the test ends.
func startIn(t *testing.T, ns *nstest.NS) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nstest.CommandTimeout)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "sleep", "30")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
	want := nsInode(t, ns.Path)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var st syscall.Stat_t
		if syscall.Stat(netnsOf(cmd.Process.Pid), &st) == nil && st.Ino == want {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not enter netns %s within 5 s", cmd.Process.Pid, ns.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func netnsOf(pid int) string { return "/proc/" + strconv.Itoa(pid) + "/ns/net" }

func TestIntegrationNetNS(t *testing.T) {
	nstest.RequireRoot(t)
	// The checks of the caller's namespace need the test on one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	home := threadNetNS(t)

	hostSoMaxConn := hostInt(t, "/proc/sys/net/core/somaxconn")
	somaxconn := 123
	if hostSoMaxConn == somaxconn {
		somaxconn = 124
	}
	hostRFC1337 := hostInt(t, "/proc/sys/net/ipv4/tcp_rfc1337")

	ns := nstest.New(t)
	ns.Sysctl(t, "net.core.somaxconn", strconv.Itoa(somaxconn))
	ns.Sysctl(t, "net.ipv4.tcp_rfc1337", strconv.Itoa(1-min(hostRFC1337, 1)))
	sleeper := startIn(t, ns)

	byPath, err := sysctl.ForNetNS(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	byPID, err := sysctl.ForPID(sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	host, err := sysctl.NewFS()
	if err != nil {
		t.Fatal(err)
	}
	uname, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	release := paws.MustParseKernelVersion(string(uname))

	for _, tt := range []struct {
		name      string
		fsys      sysctl.FS
		somaxconn int
		rfc1337   bool
	}{
		{"netns path", byPath, somaxconn, hostRFC1337 == 0},
		{"pid", byPID, somaxconn, hostRFC1337 == 0},
		{"host", host, hostSoMaxConn, hostRFC1337 != 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fsys.TCP()
			if err != nil {
				t.Fatalf("TCP: %v", err)
			}
			if got.SoMaxConn != sysctl.ValueOf(tt.somaxconn) || got.RFC1337 != sysctl.ValueOf(tt.rfc1337) {
				t.Errorf("somaxconn %v, tcp_rfc1337 %v; want %d, %v", got.SoMaxConn, got.RFC1337, tt.somaxconn, tt.rfc1337)
			}
			if got.Kernel != release {
				t.Errorf("kernel %v, want %v", got.Kernel, release)
			}
			if !got.Timestamps.Present || !got.LocalPortRange.Present || got.LocalPortRange.V.Len() == 0 {
				t.Errorf("incomplete read: %+v", got)
			}
			s, err := tt.fsys.Read(sysctl.NetCoreSoMaxConn)
			if err != nil || s != strconv.Itoa(tt.somaxconn) {
				t.Errorf("Read(somaxconn) = %q, %v; want %d", s, err, tt.somaxconn)
			}
			n, err := tt.fsys.Int(sysctl.NetCoreSoMaxConn)
			if err != nil || n != int64(tt.somaxconn) {
				t.Errorf("Int(somaxconn) = %d, %v; want %d", n, err, tt.somaxconn)
			}
			if _, err := tt.fsys.Read("net.ipv4.no_such_sysctl"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Read of a missing sysctl: %v, want fs.ErrNotExist", err)
			}
			if ino := threadNetNS(t); ino != home {
				t.Fatalf("calling thread moved to netns inode %d (was %d)", ino, home)
			}
		})
	}
	if got := hostInt(t, "/proc/sys/net/core/somaxconn"); got != hostSoMaxConn {
		t.Errorf("host somaxconn changed from %d to %d", hostSoMaxConn, got)
	}

	t.Run("missing namespace", func(t *testing.T) {
		if _, err := sysctl.ForNetNS(ns.Path + "-missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ForNetNS of a missing path: %v, want fs.ErrNotExist", err)
		}
		// A namespace that disappears after the FS was made: the process
		// exits, so /proc/<pid>/ns/net is gone at the next call.
		sleeper.Process.Kill()
		sleeper.Wait()
		_, err := byPID.TCP()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("TCP in the netns of an exited process: %v, want fs.ErrNotExist", err)
		}
		if _, err := byPID.Read(sysctl.NetCoreSoMaxConn); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Read in the netns of an exited process: %v, want fs.ErrNotExist", err)
		}
		if ino := threadNetNS(t); ino != home {
			t.Fatalf("calling thread moved to netns inode %d (was %d)", ino, home)
		}
	})

	t.Run("not a namespace", func(t *testing.T) {
		file := t.TempDir() + "/netns"
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		fsys, err := sysctl.ForNetNS(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.TCP(); err == nil || !strings.Contains(err.Error(), "not a namespace file") {
			t.Errorf("TCP with a regular file as netns: %v, want an error", err)
		}
		if ino := threadNetNS(t); ino != home {
			t.Fatalf("calling thread moved to netns inode %d (was %d)", ino, home)
		}
	})
}

// TestIntegrationPermission reads a write-only sysctl of the host.
func TestIntegrationPermission(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	fsys, err := sysctl.ForNetNS(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	// net.ipv4.route.flush has mode 0200: even root may not read it.
	_, err = fsys.Read("net.ipv4.route.flush")
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "net.ipv4.route.flush in netns "+ns.Path) {
		t.Errorf("Read of a write-only sysctl: %v, want fs.ErrPermission naming it and the namespace", err)
	}
}
