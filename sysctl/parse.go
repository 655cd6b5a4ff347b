package sysctl

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Reasons a value does not parse, wrapped into a parseError.
var (
	errEmpty      = errors.New("empty")
	errNotInteger = errors.New("want a decimal integer")
	errFields     = errors.New("want two integers separated by white space")
)

// isSpace reports the white space the kernel's proc handlers print and
// accept between and around numbers.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt parses one decimal integer with surrounding white space, as
// proc_dointvec prints it, into bitSize bits.
func parseInt(b []byte, bitSize int) (int64, error) {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0, errEmpty
	}
	v, err := strconv.ParseInt(string(b), 10, bitSize)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("out of range for %d bits", bitSize)
		}
		return 0, errNotInteger
	}
	return v, nil
}

// parseCInt parses a sysctl stored in a C int.
func parseCInt(b []byte) (int, error) {
	v, err := parseInt(b, 32)
	return int(v), err
}

// parseBool parses a boolean sysctl. Any non-zero value is true, as the
// kernel tests these sysctls.
func parseBool(b []byte) (bool, error) {
	v, err := parseInt(b, 32)
	return v != 0, err
}

func parseSeconds(b []byte) (time.Duration, error) {
	v, err := parseInt(b, 32)
	return time.Duration(v) * time.Second, err
}

func parseMillis(b []byte) (time.Duration, error) {
	v, err := parseInt(b, 32)
	return time.Duration(v) * time.Millisecond, err
}

func parseTimestampsMode(b []byte) (TimestampsMode, error) {
	v, err := parseInt(b, 32)
	return TimestampsMode(v), err
}

func parseTWReuseMode(b []byte) (TWReuseMode, error) {
	v, err := parseInt(b, 32)
	return TWReuseMode(v), err
}

func parseSynCookiesMode(b []byte) (SynCookiesMode, error) {
	v, err := parseInt(b, 32)
	return SynCookiesMode(v), err
}

// parsePortRange parses net.ipv4.ip_local_port_range: two port numbers
// separated by white space ("32768\t60999\n").
func parsePortRange(b []byte) (PortRange, error) {
	b = trimSpace(b)
	i := 0
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	first, rest := b[:i], trimSpace(b[i:])
	if len(first) == 0 || len(rest) == 0 {
		return PortRange{}, errFields
	}
	for _, c := range rest {
		if isSpace(c) {
			return PortRange{}, errFields
		}
	}
	lo, err := strconv.ParseUint(string(first), 10, 16)
	if err != nil {
		return PortRange{}, fmt.Errorf("first port: %w", errPort)
	}
	hi, err := strconv.ParseUint(string(rest), 10, 16)
	if err != nil {
		return PortRange{}, fmt.Errorf("last port: %w", errPort)
	}
	return PortRange{First: uint16(lo), Last: uint16(hi)}, nil
}

var errPort = errors.New("want a port number from 0 to 65535")
