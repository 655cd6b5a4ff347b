package tcpdiag

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// direntHdrLen is the fixed part of struct linux_dirent64: d_ino (8),
// d_off (8), d_reclen (2), d_type (1); d_name follows, NUL-terminated.
const direntHdrLen = 19

// walkDirents calls fn for each entry of a getdents64 buffer except "."
// and "..". name excludes the terminating NUL, which is guaranteed to
// follow it in b (so &name[0] may be passed to a system call).
func walkDirents(b []byte, fn func(name []byte) error) error {
	for off := 0; off < len(b); {
		if len(b)-off < direntHdrLen {
			return fmt.Errorf("%w: getdents64: %d trailing bytes at byte %d", ErrMalformed, len(b)-off, off)
		}
		n := int(ne.Uint16(b[off+16:]))
		if n <= direntHdrLen || n > len(b)-off {
			return fmt.Errorf("%w: getdents64: record at byte %d has length %d, %d bytes left", ErrMalformed, off, n, len(b)-off)
		}
		rec := b[off+direntHdrLen : off+n]
		off += n
		end := -1
		for i, c := range rec {
			if c == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return fmt.Errorf("%w: getdents64: record at byte %d has an unterminated name", ErrMalformed, off-n)
		}
		name := rec[:end]
		if string(name) == "." || string(name) == ".." {
			continue
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// parseSocketLink returns the inode of a /proc/<pid>/fd link target
// "socket:[INODE]"; ok is false for any other target.
func parseSocketLink(b []byte) (inode uint64, ok bool) {
	const prefix = "socket:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	return parseUint(b[len(prefix) : len(b)-1])
}

// parseUint parses a decimal number without sign, allocation or overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// errVanished marks a process that exited during a scan: not an error.
var errVanished = errors.New("process exited")

// parseSoMaxConn parses the contents of /proc/sys/net/core/somaxconn.
func parseSoMaxConn(path string, b []byte) (uint32, error) {
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %s: %q is not a non-negative integer", ErrMalformed, path, s)
	}
	return uint32(v), nil
}
