package paws

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrVersion is wrapped by every error of ParseKernelVersion.
var ErrVersion = errors.New("paws: invalid kernel version")

// KernelVersion is a parsed kernel release string (kernel.osrelease,
// uname -r). It is comparable with ==; use Compare for ordering.
//
// The numeric part is kept in Major, Minor and Patch. Everything after it is
// kept verbatim in Suffix, so distribution kernels such as
// "3.10.0-1160.el7.x86_64" keep their identity (see Distro).
type KernelVersion struct {
	Major, Minor, Patch int
	// Suffix is the text after the numeric part, with its leading
	// separator: "-1160.el7.x86_64", "-3-amd64", "+", "" for a bare "6.18.44".
	Suffix string
}

// Distro is a distribution kernel family whose backports change the
// behaviour the evaluator models.
type Distro uint8

// Distribution kernel families recognised from the release suffix.
const (
	DistroNone  Distro = iota // a mainline or stable kernel, or one not recognised
	DistroRHEL6               // Red Hat Enterprise Linux 6 and rebuilds (".el6")
	DistroRHEL7               // Red Hat Enterprise Linux 7 and rebuilds (".el7")
	DistroRHEL8               // Red Hat Enterprise Linux 8 and rebuilds (".el8")
	DistroRHEL9               // Red Hat Enterprise Linux 9 and rebuilds (".el9")
)

// String returns a short name such as "rhel7", or "" for DistroNone.
func (d Distro) String() string {
	switch d {
	case DistroRHEL6:
		return "rhel6"
	case DistroRHEL7:
		return "rhel7"
	case DistroRHEL8:
		return "rhel8"
	case DistroRHEL9:
		return "rhel9"
	}
	return ""
}

// ParseKernelVersion parses a kernel release such as "6.18.44-fc-v669",
// "3.10.0-1160.el7.x86_64", "4.9.0-3-amd64" or "5.4". Surrounding white
// space (a trailing newline from /proc) is ignored. A missing patch level
// is 0. Errors wrap ErrVersion.
func ParseKernelVersion(s string) (KernelVersion, error) {
	s = strings.TrimSpace(s)
	var v KernelVersion
	rest := s
	fields := [3]*int{&v.Major, &v.Minor, &v.Patch}
	for i, f := range fields {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 {
			if i < 2 {
				return KernelVersion{}, fmt.Errorf("%w: %q: no number at byte %d", ErrVersion, s, len(s)-len(rest))
			}
			break
		}
		x, err := strconv.Atoi(rest[:n])
		if err != nil || x > 1<<16 {
			return KernelVersion{}, fmt.Errorf("%w: %q: number %q out of range", ErrVersion, s, rest[:n])
		}
		*f = x
		rest = rest[n:]
		if i < 2 {
			if !strings.HasPrefix(rest, ".") {
				if i == 0 {
					return KernelVersion{}, fmt.Errorf("%w: %q: want major.minor", ErrVersion, s)
				}
				break
			}
			if i == 1 && (len(rest) < 2 || rest[1] < '0' || rest[1] > '9') {
				break // "5.4.": keep the dot in the suffix
			}
			rest = rest[1:]
		}
	}
	if strings.ContainsFunc(rest, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return KernelVersion{}, fmt.Errorf("%w: %q: unexpected character in suffix", ErrVersion, s)
	}
	v.Suffix = rest
	return v, nil
}

// MustParseKernelVersion is like ParseKernelVersion but panics on error.
// It is meant for tests and constants, like netip.MustParseAddr.
func MustParseKernelVersion(s string) KernelVersion {
	v, err := ParseKernelVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the release as it was parsed, with the patch level always
// present: "3.10.0-1160.el7.x86_64".
func (v KernelVersion) String() string {
	return fmt.Sprintf("%d.%d.%d%s", v.Major, v.Minor, v.Patch, v.Suffix)
}

// IsZero reports whether v is the zero KernelVersion.
func (v KernelVersion) IsZero() bool { return v == KernelVersion{} }

// Compare orders versions by Major, Minor and Patch, then by Suffix with
// runs of digits compared as numbers ("-693" < "-1160"). It returns -1, 0
// or +1.
func (v KernelVersion) Compare(w KernelVersion) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return compareNatural(v.Suffix, w.Suffix)
}

// AtLeast reports whether v's numeric part is major.minor.patch or later.
// The suffix is not considered.
func (v KernelVersion) AtLeast(major, minor, patch int) bool {
	w := KernelVersion{Major: major, Minor: minor, Patch: patch}
	return KernelVersion{v.Major, v.Minor, v.Patch, ""}.Compare(w) >= 0
}

// Distro recognises a distribution kernel family from the suffix.
func (v KernelVersion) Distro() Distro {
	for _, part := range strings.FieldsFunc(v.Suffix, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		switch part {
		case "el6":
			return DistroRHEL6
		case "el7":
			return DistroRHEL7
		case "el8":
			return DistroRHEL8
		case "el9":
			return DistroRHEL9
		}
	}
	return DistroNone
}

// compareNatural compares two strings with runs of ASCII digits compared by
// value.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, nb := digitRun(a), digitRun(b)
			da, db := strings.TrimLeft(a[:na], "0"), strings.TrimLeft(b[:nb], "0")
			if len(da) != len(db) {
				return cmpInt(len(da), len(db))
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[na:], b[nb:]
			continue
		}
		if a[0] != b[0] {
			return cmpInt(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
