package kernelcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws/internal/netns"
)

// listen opens a listening TCP socket on addr inside n with exactly the
// given listen() backlog, which the kernel clamps to n's
// net.core.somaxconn. (The net package would pass the somaxconn it read,
// once per process, from whichever namespace it first listened in.)
func listen(n *netNS, addr netip.AddrPort, backlog int) (int, error) {
	fd := -1
	err := netns.Do(n.target(), func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: addr.Addr().As4(), Port: int(addr.Port())}); err != nil {
			return os.NewSyscallError("bind", err)
		}
		return os.NewSyscallError("listen", unix.Listen(fd, backlog))
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("netns %s: listen on %v: %w", n.name, addr, err)
	}
	return fd, nil
}

// connectStart opens a non-blocking socket in n, bound to local when its
// port is not 0, and starts connecting to dst: the SYN has left when it
// returns. The caller closes the descriptor; closing a socket whose
// handshake has not completed sends nothing.
func connectStart(n *netNS, local, dst netip.AddrPort) (int, error) {
	fd := -1
	err := netns.Do(n.target(), func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		if local.Port() != 0 {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return os.NewSyscallError("setsockopt", err)
			}
			if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: local.Addr().As4(), Port: int(local.Port())}); err != nil {
				return os.NewSyscallError("bind", err)
			}
		}
		err = unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())})
		if err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return os.NewSyscallError("connect", err)
		}
		return nil
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("netns %s: connect to %v: %w", n.name, dst, err)
	}
	return fd, nil
}

// waitConnected waits up to d for the connection of fd (from connectStart)
// and reports whether it is established.
func waitConnected(fd int, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(left.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("poll", err)
		}
		if n == 0 {
			return false, nil
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return false, os.NewSyscallError("getsockopt", err)
		}
		return soerr == 0, nil
	}
}

// exchange connects from local in n to dst within timeout, then waits for
// the server to close first and closes, as an HTTP/1.0 client does. It
// returns the connect latency; a connection that was not established
// returns its error.
func exchange(ctx context.Context, n *netNS, local, dst netip.AddrPort, timeout time.Duration) (time.Duration, error) {
	var c net.Conn
	start := time.Now()
	err := netns.Do(n.target(), func() error {
		d := net.Dialer{
			Timeout:   timeout,
			LocalAddr: net.TCPAddrFromAddrPort(local),
			Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				if err := rc.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
				}); err != nil {
					return err
				}
				return os.NewSyscallError("setsockopt", serr)
			},
		}
		var err error
		c, err = d.DialContext(ctx, "tcp4", dst.String())
		return err
	})
	latency := time.Since(start)
	if err != nil {
		return latency, err
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return latency, err
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		return latency, fmt.Errorf("waiting for the server's close: %w", err)
	}
	return latency, nil
}

// closeFirst accepts connections on ln and closes each at once, so that
// the server closes first and holds TIME_WAIT. It returns when ln is
// closed.
func closeFirst(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
