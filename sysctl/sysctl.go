package sysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/paws-go/paws/internal/netns"
)

// DefaultMountPoint is where procfs is mounted on Linux.
const DefaultMountPoint = "/proc"

// maxValueSize bounds one sysctl file. The kernel prints most values into a
// single page; a larger file is reported rather than cut.
const maxValueSize = 1 << 20

// ErrParse is matched (errors.Is) by every error about a sysctl whose
// content does not parse.
var ErrParse = errors.New("sysctl: malformed value")

// FS reads sysctls from one source. It is a small comparable value, safe
// for concurrent use; it holds no open files and starts no goroutine that
// outlives a call. The zero FS reads nothing: every call fails with an
// error matching fs.ErrInvalid.
type FS struct {
	fsys fs.FS
	// root is how paths inside fsys are shown in errors: DefaultMountPoint,
	// or "" for a caller's fs.FS.
	root  string
	netns netns.Target
}

// NewFSFromFS returns an FS that reads the tree fsys, rooted where /proc
// is: the value of net.ipv4.tcp_timestamps is the file
// sys/net/ipv4/tcp_timestamps. Files are read on the calling goroutine.
func NewFSFromFS(fsys fs.FS) FS {
	return FS{fsys: fsys}
}

// Name is a sysctl name in dotted form, such as "net.ipv4.tcp_timestamps".
// A name cannot contain "/", so sysctls below an interface whose name has a
// dot (net.ipv4.conf.eth0/10.rp_filter in sysctl(8)) cannot be named.
type Name string

// Names of the sysctls that TCP reads.
const (
	KernelOSRelease            Name = "kernel.osrelease"
	NetIPv4TCPTWRecycle        Name = "net.ipv4.tcp_tw_recycle"
	NetIPv4TCPTimestamps       Name = "net.ipv4.tcp_timestamps"
	NetIPv4TCPTWReuse          Name = "net.ipv4.tcp_tw_reuse"
	NetIPv4TCPTWReuseDelay     Name = "net.ipv4.tcp_tw_reuse_delay"
	NetIPv4TCPMaxSynBacklog    Name = "net.ipv4.tcp_max_syn_backlog"
	NetCoreSoMaxConn           Name = "net.core.somaxconn"
	NetIPv4TCPSynCookies       Name = "net.ipv4.tcp_syncookies"
	NetIPv4TCPAbortOnOverflow  Name = "net.ipv4.tcp_abort_on_overflow"
	NetIPv4TCPRFC1337          Name = "net.ipv4.tcp_rfc1337"
	NetIPv4TCPFinTimeout       Name = "net.ipv4.tcp_fin_timeout"
	NetIPv4TCPMaxTWBuckets     Name = "net.ipv4.tcp_max_tw_buckets"
	NetIPv4TCPInvalidRatelimit Name = "net.ipv4.tcp_invalid_ratelimit"
	NetIPv4IPLocalPortRange    Name = "net.ipv4.ip_local_port_range"
	NetIPv4TCPSynRetries       Name = "net.ipv4.tcp_syn_retries"
	NetIPv4TCPSynackRetries    Name = "net.ipv4.tcp_synack_retries"
	NetIPv4TCPNoMetricsSave    Name = "net.ipv4.tcp_no_metrics_save"
)

// Path returns the file of the sysctl relative to the proc root, such as
// "sys/net/ipv4/tcp_timestamps". It fails with an error matching
// fs.ErrInvalid for a name that is empty, contains "/", "..", a leading or
// trailing dot, or a byte that no sysctl name has.
func (n Name) Path() (string, error) {
	s := string(n)
	var why string
	switch {
	case s == "":
		why = "empty"
	case strings.Contains(s, "/"):
		why = `contains "/": use the dotted form`
	case strings.Contains(s, ".."):
		why = `contains ".."`
	case s[0] == '.' || s[len(s)-1] == '.':
		why = "starts or ends with a dot"
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }):
		why = "contains a space, a control or a non-ASCII character"
	default:
		p := "sys/" + strings.ReplaceAll(s, ".", "/")
		if !fs.ValidPath(p) {
			why = "not a valid path"
			break
		}
		return p, nil
	}
	return "", &nameError{name: s, why: why}
}

// nameError is a name that cannot denote a sysctl; it matches fs.ErrInvalid.
type nameError struct{ name, why string }

func (e *nameError) Error() string        { return fmt.Sprintf("sysctl: invalid name %q: %s", e.name, e.why) }
func (e *nameError) Is(target error) bool { return target == fs.ErrInvalid }

// Error is a failure to read or parse one sysctl. Err keeps the cause:
// errors.Is(err, fs.ErrNotExist), fs.ErrPermission and ErrParse see
// through it.
type Error struct {
	// Name is the sysctl that failed.
	Name Name
	// NetNS is the namespace file the sysctl was read in, "" for the
	// calling thread's namespace or an fs.FS.
	NetNS string
	// Err is the cause: an *fs.PathError from opening or reading the file,
	// or a parse error naming the file and its content.
	Err error
}

// Error returns "sysctl: <name>[ in netns <path>]: <cause>".
func (e *Error) Error() string {
	if e.NetNS != "" {
		return "sysctl: " + string(e.Name) + " in netns " + e.NetNS + ": " + e.Err.Error()
	}
	return "sysctl: " + string(e.Name) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// parseError is a malformed value. It matches ErrParse and unwraps to the
// reason, so errors of paws.ParseKernelVersion stay reachable.
type parseError struct {
	path    string // the file, as the user knows it
	content []byte
	reason  error
}

func (e *parseError) Error() string {
	c := e.content
	const show = 64
	more := ""
	if len(c) > show {
		c, more = c[:show], fmt.Sprintf("... (%d bytes)", len(e.content))
	}
	return fmt.Sprintf("%s: malformed value %q%s: %v", e.path, c, more, e.reason)
}

func (e *parseError) Is(target error) bool { return target == ErrParse }
func (e *parseError) Unwrap() error        { return e.reason }

// Read returns the value of the sysctl name as the kernel prints it,
// without the final newline: "32768\t60999" for net.ipv4.ip_local_port_range.
// Nothing is cut: values up to 1 MiB are returned whole and a longer one is
// an error. A sysctl this kernel or namespace does not have fails with an
// error matching fs.ErrNotExist; one the caller may not read,
// fs.ErrPermission.
func (f FS) Read(name Name) (string, error) {
	var s string
	err := f.readOne(name, func(b []byte) error {
		b = b[:len(b)-trailingNewline(b)]
		s = string(b)
		return nil
	})
	return s, err
}

// Int returns the value of a sysctl that holds one integer, such as
// net.ipv4.tcp_fack. Errors are those of Read, and ErrParse when the
// content is not a single decimal integer.
func (f FS) Int(name Name) (int64, error) {
	var v int64
	err := f.readOne(name, func(b []byte) error {
		var err error
		v, err = parseInt(b, 64)
		return err
	})
	return v, err
}

// readOne reads the file of name, in the FS's namespace, and hands its
// content to parse. A parse error is reported with the file and content.
func (f FS) readOne(name Name, parse func([]byte) error) error {
	p, err := name.Path()
	if err != nil {
		return err
	}
	if f.fsys == nil {
		return errZeroFS
	}
	var rerr error
	err = f.do(func() error {
		var buf [128]byte
		b, err := readFile(f.fsys, p, buf[:0])
		if err != nil {
			rerr = &Error{Name: name, NetNS: f.netnsName(), Err: err}
			return nil
		}
		if err := parse(b); err != nil {
			rerr = f.parseErr(name, p, b, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rerr
}

var errZeroFS = fmt.Errorf("sysctl: zero FS: use NewFS, ForNetNS, ForPID or NewFSFromFS: %w", fs.ErrInvalid)

// do runs fn in the FS's network namespace. Errors of fn are returned
// unchanged; a failure to enter or leave the namespace is wrapped.
func (f FS) do(fn func() error) error {
	if f.netns.IsZero() {
		return fn()
	}
	var ferr error
	if err := netns.Do(f.netns, func() error { ferr = fn(); return nil }); err != nil {
		return fmt.Errorf("sysctl: netns %s: %w", f.netns, err)
	}
	return ferr
}

func (f FS) netnsName() string {
	if f.netns.IsZero() {
		return ""
	}
	return f.netns.String()
}

func (f FS) parseErr(name Name, path string, content []byte, reason error) error {
	if f.root != "" {
		path = f.root + "/" + path
	}
	return &Error{Name: name, NetNS: f.netnsName(), Err: &parseError{
		path:    path,
		content: append([]byte(nil), content...),
		reason:  reason,
	}}
}

var errTooLong = fmt.Errorf("longer than %d bytes", maxValueSize)

// prometheus/procfs (FS.SysctlStrings, FS.SysctlInts) is not used to read:
// it reads only a directory on disk, not an fs.FS; it cuts every value at
// 128 bytes (SysReadFile); and it passes names with "/" or ".." through to
// the path. Nor is it meaningfully faster: BenchmarkInt on 6.18 (2 cores) measured
// 17-21 µs and 11 allocs per read here against 15-19 µs and 9 allocs for
// SysctlInts, the open of the /proc/sys file taking nearly all of it.
//
// readFile reads the whole file into buf, growing it as needed, and returns
// the filled slice. /proc/sys files report size 0, so no Stat is used.
//
// Reading on after a short read costs nothing measurable on /proc/sys
// (somaxconn on 6.18: 15.1-17.1 µs per file either way; the open dominates),
// so every source is read until io.EOF.
func readFile(fsys fs.FS, path string, buf []byte) ([]byte, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxValueSize {
			return buf, &fs.PathError{Op: "read", Path: path, Err: errTooLong}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func trailingNewline(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
