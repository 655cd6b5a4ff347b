//go:build !linux

package tcpdiag

import (
	"fmt"
	"runtime"
)

var errUnsupported = fmt.Errorf("tcpdiag: sock_diag and tcp_metrics on %s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrNotSupported)

// Conn reads TCP listeners, their owners and the TCP metrics cache of a
// network namespace. On this system every method fails with an error
// wrapping ErrNotSupported.
type Conn struct{}

// Dial fails with an error wrapping ErrNotSupported on this system.
func Dial(cfg *Config) (*Conn, error) { return nil, errUnsupported }

// Close does nothing on this system.
func (c *Conn) Close() error { return nil }

// Listeners fails with an error wrapping ErrNotSupported on this system.
func (c *Conn) Listeners() ([]Listener, error) { return nil, errUnsupported }

// AppendListeners fails with an error wrapping ErrNotSupported on this
// system.
func (c *Conn) AppendListeners(dst []Listener) ([]Listener, error) { return dst, errUnsupported }

// ListenersOnPort fails with an error wrapping ErrNotSupported on this
// system.
func (c *Conn) ListenersOnPort(port uint16) ([]Listener, error) { return nil, errUnsupported }

// SoMaxConn fails with an error wrapping ErrNotSupported on this system.
func (c *Conn) SoMaxConn() (uint32, error) { return 0, errUnsupported }

// TCPMetrics fails with an error wrapping ErrNotSupported on this system.
func (c *Conn) TCPMetrics() ([]Metrics, error) { return nil, errUnsupported }

// Owners fails with an error wrapping ErrNotSupported on this system.
func (c *Conn) Owners(ls []Listener) ([]Owned, error) { return nil, errUnsupported }
