package sysctl_test

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/procfixture"
	"github.com/paws-go/paws/sysctl"
)

// fixtureFS returns the sysctl FS of a fixture tree.
func fixtureFS(tb testing.TB, kernel string) sysctl.FS {
	tb.Helper()
	fsys, err := procfixture.FS(kernel)
	if err != nil {
		tb.Fatal(err)
	}
	return sysctl.NewFSFromFS(fsys)
}

var (
	v = sysctl.ValueOf[int]
	b = sysctl.ValueOf[bool]
	d = sysctl.ValueOf[time.Duration]
)

func TestTCPFixtures(t *testing.T) {
	tests := []struct {
		kernel string
		want   sysctl.TCP
		absent []sysctl.Name
	}{
		{
			kernel: "2.6.32-642.6.2.el6.x86_64",
			want: sysctl.TCP{
				Kernel:          paws.MustParseKernelVersion("2.6.32-642.6.2.el6.x86_64"),
				TWRecycle:       b(false),
				Timestamps:      sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:         sysctl.ValueOf(sysctl.TWReuseOff),
				MaxSynBacklog:   v(1024),
				SoMaxConn:       v(128),
				SynCookies:      sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow: b(false),
				RFC1337:         b(false),
				FinTimeout:      d(60 * time.Second),
				MaxTWBuckets:    v(180000),
				LocalPortRange:  sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 61000}),
				SynRetries:      v(5),
				SynackRetries:   v(5),
				NoMetricsSave:   b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWReuseDelay, sysctl.NetIPv4TCPInvalidRatelimit},
		},
		{
			kernel: "3.10.0-1160.el7.x86_64",
			want: sysctl.TCP{
				Kernel:          paws.MustParseKernelVersion("3.10.0-1160.el7.x86_64"),
				TWRecycle:       b(true),
				Timestamps:      sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:         sysctl.ValueOf(sysctl.TWReuseOn),
				MaxSynBacklog:   v(1024),
				SoMaxConn:       v(128),
				SynCookies:      sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow: b(false),
				RFC1337:         b(false),
				FinTimeout:      d(60 * time.Second),
				MaxTWBuckets:    v(131072),
				LocalPortRange:  sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 61000}),
				SynRetries:      v(6),
				SynackRetries:   v(5),
				NoMetricsSave:   b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWReuseDelay, sysctl.NetIPv4TCPInvalidRatelimit},
		},
		{
			kernel: "4.19.0-27-amd64",
			want: sysctl.TCP{
				Kernel:           paws.MustParseKernelVersion("4.19.0-27-amd64"),
				Timestamps:       sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:          sysctl.ValueOf(sysctl.TWReuseLoopbackOnly),
				MaxSynBacklog:    v(1024),
				SoMaxConn:        v(128),
				SynCookies:       sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow:  b(false),
				RFC1337:          b(false),
				FinTimeout:       d(60 * time.Second),
				MaxTWBuckets:     v(131072),
				InvalidRatelimit: d(500 * time.Millisecond),
				LocalPortRange:   sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 60999}),
				SynRetries:       v(6),
				SynackRetries:    v(5),
				NoMetricsSave:    b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWRecycle, sysctl.NetIPv4TCPTWReuseDelay},
		},
		{
			kernel: "4.9.0-3-amd64",
			want: sysctl.TCP{
				Kernel:           paws.MustParseKernelVersion("4.9.0-3-amd64"),
				TWRecycle:        b(false),
				Timestamps:       sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:          sysctl.ValueOf(sysctl.TWReuseOff),
				MaxSynBacklog:    v(512),
				SoMaxConn:        v(128),
				SynCookies:       sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow:  b(false),
				RFC1337:          b(false),
				FinTimeout:       d(60 * time.Second),
				MaxTWBuckets:     v(65536),
				InvalidRatelimit: d(500 * time.Millisecond),
				LocalPortRange:   sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 60999}),
				SynRetries:       v(6),
				SynackRetries:    v(5),
				NoMetricsSave:    b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWReuseDelay},
		},
		{
			kernel: "5.15.0-1034-azure",
			want: sysctl.TCP{
				Kernel:           paws.MustParseKernelVersion("5.15.0-1034-azure"),
				Timestamps:       sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:          sysctl.ValueOf(sysctl.TWReuseLoopbackOnly),
				MaxSynBacklog:    v(1024),
				SoMaxConn:        v(4096),
				SynCookies:       sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow:  b(false),
				RFC1337:          b(false),
				FinTimeout:       d(60 * time.Second),
				MaxTWBuckets:     v(65536),
				InvalidRatelimit: d(500 * time.Millisecond),
				LocalPortRange:   sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 60999}),
				SynRetries:       v(6),
				SynackRetries:    v(5),
				NoMetricsSave:    b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWRecycle, sysctl.NetIPv4TCPTWReuseDelay},
		},
		{
			kernel: "6.18.44-fc-v595",
			want: sysctl.TCP{
				Kernel:           paws.MustParseKernelVersion("6.18.44-fc-v595"),
				Timestamps:       sysctl.ValueOf(sysctl.TimestampsOn),
				TWReuse:          sysctl.ValueOf(sysctl.TWReuseLoopbackOnly),
				TWReuseDelay:     d(time.Second),
				MaxSynBacklog:    v(2048),
				SoMaxConn:        v(4096),
				SynCookies:       sysctl.ValueOf(sysctl.SynCookiesOn),
				AbortOnOverflow:  b(false),
				RFC1337:          b(false),
				FinTimeout:       d(60 * time.Second),
				MaxTWBuckets:     v(131072),
				InvalidRatelimit: d(500 * time.Millisecond),
				LocalPortRange:   sysctl.ValueOf(sysctl.PortRange{First: 32768, Last: 60999}),
				SynRetries:       v(6),
				SynackRetries:    v(5),
				NoMetricsSave:    b(false),
			},
			absent: []sysctl.Name{sysctl.NetIPv4TCPTWRecycle},
		},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.kernel] = true
		t.Run(tt.kernel, func(t *testing.T) {
			got, err := fixtureFS(t, tt.kernel).TCP()
			if err != nil {
				t.Fatalf("TCP: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(sysctl.TCP{})); diff != "" {
				t.Errorf("unexpected TCP (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.absent, got.Absent()); diff != "" {
				t.Errorf("unexpected Absent (-want +got):\n%s", diff)
			}
			// The version rules of spec §10, checked against the tree.
			k := got.Kernel
			if got.TWRecycle.Present != !k.AtLeast(4, 12, 0) {
				t.Errorf("tcp_tw_recycle present = %v on %v, want present only before 4.12", got.TWRecycle.Present, k)
			}
			if got.TWReuseDelay.Present != k.AtLeast(6, 14, 0) {
				t.Errorf("tcp_tw_reuse_delay present = %v on %v, want present only from 6.14", got.TWReuseDelay.Present, k)
			}
			if k.Distro() == paws.DistroNone && got.InvalidRatelimit.Present != k.AtLeast(4, 0, 0) {
				t.Errorf("tcp_invalid_ratelimit present = %v on %v, want present only from 4.0", got.InvalidRatelimit.Present, k)
			}
			if wantDefault := k.AtLeast(4, 18, 0); wantDefault && got.TWReuse.V != sysctl.TWReuseLoopbackOnly {
				t.Errorf("tcp_tw_reuse = %v on %v, want the 4.18+ default loopback-only", got.TWReuse.V, k)
			}
			if k.AtLeast(5, 4, 0) != (got.SoMaxConn.V == 4096) {
				t.Errorf("somaxconn = %v on %v, want 4096 exactly from 5.4", got.SoMaxConn, k)
			}
		})
	}
	for _, k := range procfixture.Kernels() {
		if !tested[k] {
			t.Errorf("fixture tree %s has no row in TestTCPFixtures", k)
		}
	}
}

func TestModeStrings(t *testing.T) {
	tests := []struct {
		got  interface{ String() string }
		want string
	}{
		{sysctl.TimestampsOff, "off"},
		{sysctl.TimestampsOn, "on"},
		{sysctl.TimestampsOnNoOffsets, "on-without-offsets"},
		{sysctl.TimestampsMode(7), "TimestampsMode(7)"},
		{sysctl.TimestampsMode(-1), "TimestampsMode(-1)"},
		{sysctl.TWReuseOff, "off"},
		{sysctl.TWReuseOn, "on"},
		{sysctl.TWReuseLoopbackOnly, "loopback-only"},
		{sysctl.TWReuseMode(3), "TWReuseMode(3)"},
		{sysctl.SynCookiesOff, "off"},
		{sysctl.SynCookiesOn, "on"},
		{sysctl.SynCookiesAlways, "always"},
		{sysctl.SynCookiesMode(9), "SynCookiesMode(9)"},
		{sysctl.PortRange{First: 32768, Last: 60999}, "32768-60999"},
		{sysctl.Value[int]{}, "absent"},
		{v(128), "128"},
		{sysctl.ValueOf(sysctl.TWReuseLoopbackOnly), "loopback-only"},
		{d(500 * time.Millisecond), "500ms"},
	}
	for _, tt := range tests {
		if s := tt.got.String(); s != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.got, s, tt.want)
		}
	}
	if sysctl.TimestampsOff.Enabled() || !sysctl.TimestampsOn.Enabled() || !sysctl.TimestampsOnNoOffsets.Enabled() || !sysctl.TimestampsMode(5).Enabled() {
		t.Error("TimestampsMode.Enabled: want false only for off")
	}
}

func TestValue(t *testing.T) {
	var absent sysctl.Value[int]
	if got, ok := absent.Get(); got != 0 || ok {
		t.Errorf("zero Value.Get() = %d, %v; want 0, false", got, ok)
	}
	if got := absent.Or(128); got != 128 {
		t.Errorf("absent.Or(128) = %d", got)
	}
	zero := v(0)
	if got, ok := zero.Get(); got != 0 || !ok {
		t.Errorf("ValueOf(0).Get() = %d, %v; want 0, true", got, ok)
	}
	if zero == absent {
		t.Error("a present 0 compares equal to an absent value")
	}
	if got := zero.Or(128); got != 0 {
		t.Errorf("ValueOf(0).Or(128) = %d, want 0", got)
	}
}

func TestPortRange(t *testing.T) {
	r := sysctl.PortRange{First: 32768, Last: 60999}
	if r.Len() != 28232 {
		t.Errorf("Len = %d, want 28232", r.Len())
	}
	if !r.Contains(32768) || !r.Contains(60999) || r.Contains(61000) || r.Contains(1024) {
		t.Error("Contains: wrong at the bounds")
	}
	if (sysctl.PortRange{First: 10, Last: 9}).Len() != 0 {
		t.Error("Len of an inverted range is not 0")
	}
}

func TestTCPComparable(t *testing.T) {
	fsys := fixtureFS(t, "6.18.44-fc-v595")
	a, err := fsys.TCP()
	if err != nil {
		t.Fatal(err)
	}
	c, err := fsys.TCP()
	if err != nil {
		t.Fatal(err)
	}
	if a != c {
		t.Error("two reads of the same tree differ")
	}
	c.SoMaxConn.V++
	if a == c {
		t.Error("TCP values with different somaxconn compare equal")
	}
}

// denyFS wraps an fs.FS and refuses to open some files, as procfs does for
// a sysctl of mode 0200 or one under an unreadable directory.
type denyFS struct {
	fs.FS
	deny map[string]bool
}

func (d denyFS) Open(name string) (fs.File, error) {
	if d.deny[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.FS.Open(name)
}

// treeWith returns the 6.18 fixture with files replaced (nil content
// removes the file).
func treeWith(tb testing.TB, files map[string][]byte) fstest.MapFS {
	tb.Helper()
	base, err := procfixture.FS("6.18.44-fc-v595")
	if err != nil {
		tb.Fatal(err)
	}
	m := fstest.MapFS{}
	err = fs.WalkDir(base, "sys", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(base, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	for p, data := range files {
		if data == nil {
			delete(m, p)
			continue
		}
		m[p] = &fstest.MapFile{Data: data}
	}
	return m
}

func TestTCPPartial(t *testing.T) {
	tree := treeWith(t, map[string][]byte{
		"sys/net/core/somaxconn":             []byte("lots\n"),
		"sys/net/ipv4/ip_local_port_range":   []byte("32768\n"),
		"sys/net/ipv4/tcp_max_syn_backlog":   []byte("99999999999\n"),
		"sys/net/ipv4/tcp_tw_reuse_delay":    nil,
		"sys/net/ipv4/tcp_syncookies":        []byte("2\n"),
		"sys/net/ipv4/tcp_timestamps":        []byte("2\n"),
		"sys/net/ipv4/tcp_no_metrics_save":   []byte(" 1 \n"),
		"sys/net/ipv4/tcp_invalid_ratelimit": []byte("-5\n"),
	})
	fsys := sysctl.NewFSFromFS(denyFS{FS: tree, deny: map[string]bool{"sys/net/ipv4/tcp_rfc1337": true}})
	got, err := fsys.TCP()
	if err == nil {
		t.Fatal("TCP of a tree with broken files: no error")
	}
	// Every failed sysctl is named, with its cause.
	var failed []sysctl.Name
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *sysctl.Error
		if !errors.As(e, &se) {
			t.Fatalf("joined error %v is not a *sysctl.Error", e)
		}
		failed = append(failed, se.Name)
		switch se.Name {
		case sysctl.NetCoreSoMaxConn, sysctl.NetIPv4IPLocalPortRange, sysctl.NetIPv4TCPMaxSynBacklog:
			if !errors.Is(e, sysctl.ErrParse) {
				t.Errorf("%s: %v does not match ErrParse", se.Name, e)
			}
		case sysctl.NetIPv4TCPRFC1337:
			if !errors.Is(e, fs.ErrPermission) {
				t.Errorf("%s: %v does not match fs.ErrPermission", se.Name, e)
			}
		}
	}
	want := []sysctl.Name{sysctl.NetIPv4TCPMaxSynBacklog, sysctl.NetCoreSoMaxConn, sysctl.NetIPv4TCPRFC1337, sysctl.NetIPv4IPLocalPortRange}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("unexpected failed sysctls (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		`sysctl: net.core.somaxconn: sys/net/core/somaxconn: malformed value "lots\n": want a decimal integer`,
		`sysctl: net.ipv4.tcp_rfc1337: open sys/net/ipv4/tcp_rfc1337: permission denied`,
		`sysctl: net.ipv4.tcp_max_syn_backlog: sys/net/ipv4/tcp_max_syn_backlog: malformed value "99999999999\n": out of range for 32 bits`,
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not contain %q:\n%v", s, err)
		}
	}
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, sysctl.ErrParse) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("joined error matches the wrong sentinels: %v", err)
	}
	// The failed ones are neither present nor absent; the rest is read.
	for _, val := range []bool{got.SoMaxConn.Present, got.RFC1337.Present, got.LocalPortRange.Present, got.MaxSynBacklog.Present} {
		if val {
			t.Error("a sysctl that failed is reported present")
		}
	}
	if diff := cmp.Diff([]sysctl.Name{sysctl.NetIPv4TCPTWRecycle, sysctl.NetIPv4TCPTWReuseDelay}, got.Absent()); diff != "" {
		t.Errorf("unexpected Absent (-want +got):\n%s", diff)
	}
	if got.SynCookies != sysctl.ValueOf(sysctl.SynCookiesAlways) || got.Timestamps != sysctl.ValueOf(sysctl.TimestampsOnNoOffsets) ||
		got.NoMetricsSave != b(true) || got.InvalidRatelimit != d(-5*time.Millisecond) || got.MaxTWBuckets != v(131072) {
		t.Errorf("values next to the broken ones were not read: %+v", got)
	}
	if got.Kernel.IsZero() {
		t.Error("kernel release not read")
	}
}

func TestTCPKernelRelease(t *testing.T) {
	_, err := sysctl.NewFSFromFS(treeWith(t, map[string][]byte{"sys/kernel/osrelease": nil})).TCP()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "kernel.osrelease") {
		t.Errorf("TCP without kernel.osrelease: %v, want an error naming it and matching fs.ErrNotExist", err)
	}
	_, err = sysctl.NewFSFromFS(treeWith(t, map[string][]byte{"sys/kernel/osrelease": []byte("linux\n")})).TCP()
	if !errors.Is(err, sysctl.ErrParse) || !errors.Is(err, paws.ErrVersion) {
		t.Errorf("TCP with a bad kernel.osrelease: %v, want ErrParse and paws.ErrVersion", err)
	}
}

func TestTCPEmptyTree(t *testing.T) {
	got, err := sysctl.NewFSFromFS(fstest.MapFS{}).TCP()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("TCP of an empty tree: %v, want fs.ErrNotExist for kernel.osrelease", err)
	}
	if n := len(got.Absent()); n != 16 {
		t.Errorf("Absent lists %d sysctls of an empty tree, want all 16", n)
	}
}

func TestRead(t *testing.T) {
	fsys := fixtureFS(t, "6.18.44-fc-v595")
	tests := []struct {
		name sysctl.Name
		want string
	}{
		{sysctl.NetIPv4IPLocalPortRange, "32768\t60999"},
		{"net.ipv4.tcp_syn_linear_timeouts", "4"}, // not a TCP field
		{sysctl.KernelOSRelease, "6.18.44-fc-v595"},
	}
	for _, tt := range tests {
		got, err := fsys.Read(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Read(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	n, err := fsys.Int("net.ipv4.tcp_syn_linear_timeouts")
	if err != nil || n != 4 {
		t.Errorf("Int(tcp_syn_linear_timeouts) = %d, %v; want 4", n, err)
	}
}

func TestReadWhole(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 300) // 4800 bytes, past procfs's 128-byte cap
	huge := make([]byte, 1<<20+1)
	fsys := sysctl.NewFSFromFS(fstest.MapFS{
		"sys/dev/cdrom/info": {Data: []byte(long + "\n\n")},
		"sys/kernel/huge":    {Data: huge},
		"sys/kernel/empty":   {Data: nil},
	})
	got, err := fsys.Read("dev.cdrom.info")
	if err != nil || got != long+"\n" {
		t.Errorf("Read of a 4801-byte value: %d bytes, %v; want the whole value less one newline", len(got), err)
	}
	if _, err := fsys.Read("kernel.huge"); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Read of a value over 1 MiB: %v, want an error", err)
	}
	if got, err := fsys.Read("kernel.empty"); err != nil || got != "" {
		t.Errorf("Read of an empty value = %q, %v", got, err)
	}
	if _, err := fsys.Int("kernel.empty"); !errors.Is(err, sysctl.ErrParse) {
		t.Errorf("Int of an empty value: %v, want ErrParse", err)
	}
}

func TestReadErrors(t *testing.T) {
	tree := fstest.MapFS{
		"sys/net/ipv4/tcp_fack":            {Data: []byte("yes\n")},
		"sys/net/ipv4/ip_local_port_range": {Data: []byte("32768\t60999\n")},
		"sys/net/ipv4/route/flush":         {Data: []byte("")},
	}
	fsys := sysctl.NewFSFromFS(denyFS{FS: tree, deny: map[string]bool{"sys/net/ipv4/route/flush": true}})
	tests := []struct {
		name    sysctl.Name
		int     bool
		is      error
		message string
	}{
		{name: "net.ipv4.tcp_tw_recycle", is: fs.ErrNotExist, message: "sysctl: net.ipv4.tcp_tw_recycle: open sys/net/ipv4/tcp_tw_recycle: file does not exist"},
		{name: "net.ipv4.tcp_tw_recycle", int: true, is: fs.ErrNotExist},
		{name: "net.ipv4.route.flush", is: fs.ErrPermission, message: "sysctl: net.ipv4.route.flush: open sys/net/ipv4/route/flush: permission denied"},
		{name: "net.ipv4.tcp_fack", int: true, is: sysctl.ErrParse, message: `sysctl: net.ipv4.tcp_fack: sys/net/ipv4/tcp_fack: malformed value "yes\n": want a decimal integer`},
		{name: "net.ipv4.ip_local_port_range", int: true, is: sysctl.ErrParse},
		{name: "net/ipv4/tcp_fack", is: fs.ErrInvalid, message: `sysctl: invalid name "net/ipv4/tcp_fack": contains "/": use the dotted form`},
		{name: "net.ipv4..tcp_fack", is: fs.ErrInvalid},
		{name: "..", is: fs.ErrInvalid},
		{name: ".net.ipv4", is: fs.ErrInvalid},
		{name: "net.ipv4.", is: fs.ErrInvalid},
		{name: "", is: fs.ErrInvalid},
		{name: "net.ipv4.tcp fack", is: fs.ErrInvalid},
		{name: "net.ipv4.tcp\x00fack", is: fs.ErrInvalid},
	}
	for _, tt := range tests {
		var err error
		if tt.int {
			_, err = fsys.Int(tt.name)
		} else {
			_, err = fsys.Read(tt.name)
		}
		if !errors.Is(err, tt.is) {
			t.Errorf("read %q (int %v): %v, want an error matching %v", tt.name, tt.int, err, tt.is)
			continue
		}
		if tt.message != "" && err.Error() != tt.message {
			t.Errorf("read %q: message\n%s\nwant\n%s", tt.name, err, tt.message)
		}
	}
}

func TestNamePath(t *testing.T) {
	p, err := sysctl.NetCoreSoMaxConn.Path()
	if err != nil || p != "sys/net/core/somaxconn" {
		t.Errorf("Path = %q, %v", p, err)
	}
}

func TestZeroFS(t *testing.T) {
	var zero sysctl.FS
	if _, err := zero.TCP(); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("zero FS TCP: %v, want fs.ErrInvalid", err)
	}
	if _, err := zero.Read(sysctl.NetCoreSoMaxConn); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("zero FS Read: %v, want fs.ErrInvalid", err)
	}
}

func TestAbsentIsOrdered(t *testing.T) {
	got, err := sysctl.NewFSFromFS(fstest.MapFS{"sys/kernel/osrelease": {Data: []byte("6.1.0\n")}}).TCP()
	if err != nil {
		t.Fatal(err)
	}
	abs := got.Absent()
	if abs[0] != sysctl.NetIPv4TCPTWRecycle || abs[len(abs)-1] != sysctl.NetIPv4TCPNoMetricsSave || slices.Contains(abs, sysctl.KernelOSRelease) {
		t.Errorf("Absent = %v", abs)
	}
}
