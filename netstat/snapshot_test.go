package netstat_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/procfixture"
	"github.com/paws-go/paws/netstat"
)

// fixture returns the proc tree of kernel and its parsed kernel version.
func fixture(t testing.TB, kernel string) (fs.FS, paws.KernelVersion) {
	t.Helper()
	fsys, err := procfixture.FS(kernel)
	if err != nil {
		t.Fatal(err)
	}
	return fsys, paws.MustParseKernelVersion(kernel)
}

// naiveCounter is one counter read by the simplest possible parser, to
// check the real one against.
type naiveCounter struct {
	Counter netstat.Counter
	Value   string
}

func naiveParse(t testing.TB, data []byte) []naiveCounter {
	t.Helper()
	var out []naiveCounter
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) {
			t.Fatalf("fixture line %d: %d names, %d values", i+1, len(names), len(values))
		}
		proto := strings.TrimSuffix(names[0], ":")
		for j := 1; j < len(names); j++ {
			out = append(out, naiveCounter{netstat.NewCounter(proto, names[j]), values[j]})
		}
	}
	return out
}

func TestFixtures(t *testing.T) {
	kernels := procfixture.Kernels()
	if len(kernels) < 6 {
		t.Fatalf("want the 6 fixture kernels, got %q", kernels)
	}
	for _, kernel := range kernels {
		t.Run(kernel, func(t *testing.T) {
			fsys, v := fixture(t, kernel)
			s, err := netstat.NewReader(fsys).Read()
			if err != nil {
				t.Fatal(err)
			}

			// Every counter of both files, in file order, none lost.
			var want []naiveCounter
			for _, name := range []string{"net/netstat", "net/snmp"} {
				b, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, naiveParse(t, b)...)
			}
			var got []naiveCounter
			for c, val := range s.All() {
				got = append(got, naiveCounter{c, val.String()})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("unexpected counters (-want +got):\n%s", diff)
			}
			if s.Len() != len(want) {
				t.Errorf("Len() = %d, want %d", s.Len(), len(want))
			}
			for _, c := range got {
				if _, ok := s.Lookup(c.Counter.Proto(), c.Counter.Name()); !ok {
					t.Errorf("Lookup(%q, %q) found nothing", c.Counter.Proto(), c.Counter.Name())
				}
			}

			// The counters spec §9.2 expects are there; the described ones
			// it does not expect are absent, which is not the same as 0.
			exp := netstat.Expected(v)
			for _, c := range exp {
				if _, ok := s.Value(c); !ok {
					t.Errorf("%s: expected on %s but absent", c, v)
				}
			}
			for _, c := range allDescribed {
				if !contains(exp, c) {
					if val, ok := s.Value(c); ok {
						t.Errorf("%s = %v present, but not expected on %s", c, val, v)
					}
				}
			}

			mc, ok := s.Value(netstat.TCPMaxConn)
			if !ok || mc.String() != "-1" || !mc.IsNegative() {
				t.Errorf("Tcp MaxConn = %v, %v; want -1", mc, ok)
			}
			if i, ok := mc.Int64(); !ok || i != -1 {
				t.Errorf("MaxConn.Int64() = %d, %v", i, ok)
			}
			if _, ok := s.Get(netstat.TCPMaxConn); ok {
				t.Error("Get(MaxConn) reported a negative value as unsigned")
			}
		})
	}
}

// allDescribed lists every counter constant of §9.1.
var allDescribed = []netstat.Counter{
	netstat.TCPExtSyncookiesSent, netstat.TCPExtSyncookiesRecv, netstat.TCPExtSyncookiesFailed,
	netstat.TCPExtEmbryonicRsts, netstat.TCPExtTW, netstat.TCPExtTWRecycled, netstat.TCPExtTWKilled,
	netstat.TCPExtPAWSPassive, netstat.TCPExtPAWSActive, netstat.TCPExtPAWSEstab,
	netstat.TCPExtBeyondWindow, netstat.TCPExtTSEcrRejected, netstat.TCPExtPAWSOldAck,
	netstat.TCPExtPAWSTimewait, netstat.TCPExtListenOverflows, netstat.TCPExtListenDrops,
	netstat.TCPExtTCPTimeWaitOverflow, netstat.TCPExtTCPReqQFullDoCookies, netstat.TCPExtTCPReqQFullDrop,
	netstat.TCPExtTCPChallengeACK, netstat.TCPExtTCPSYNChallenge,
	netstat.TCPExtTCPACKSkippedSynRecv, netstat.TCPExtTCPACKSkippedPAWS, netstat.TCPExtTCPACKSkippedSeq,
	netstat.TCPExtTCPACKSkippedFinWait2, netstat.TCPExtTCPACKSkippedTimeWait, netstat.TCPExtTCPACKSkippedChallenge,
	netstat.TCPActiveOpens, netstat.TCPPassiveOpens, netstat.TCPAttemptFails, netstat.TCPMaxConn,
}

func contains(cs []netstat.Counter, c netstat.Counter) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func TestFixtureGoldenValues(t *testing.T) {
	tests := []struct {
		kernel string
		c      netstat.Counter
		want   uint64
		ok     bool
	}{
		// TV1: PAWSPassive and ListenDrops high and nearly equal.
		{"3.10.0-1160.el7.x86_64", netstat.TCPExtPAWSPassive, 1843302, true},
		{"3.10.0-1160.el7.x86_64", netstat.TCPExtListenDrops, 1843319, true},
		{"3.10.0-1160.el7.x86_64", netstat.TCPExtListenOverflows, 17, true},
		{"2.6.32-642.6.2.el6.x86_64", netstat.TCPExtTCPReqQFullDrop, 0, false},
		{"2.6.32-642.6.2.el6.x86_64", netstat.TCPExtTCPChallengeACK, 14168539, true},
		{"4.9.0-3-amd64", netstat.TCPExtPAWSPassive, 77, true},
		{"4.19.0-27-amd64", netstat.TCPExtPAWSPassive, 0, false},
		{"4.19.0-27-amd64", netstat.TCPExtTCPTimeWaitOverflow, 901233, true},
		{"5.15.0-1034-azure", netstat.TCPExtListenDrops, 0, true},
		{"6.18.44-fc-v595", netstat.TCPExtTW, 15, true},
		{"6.18.44-fc-v595", netstat.TCPExtPAWSTimewait, 0, true},
		{"6.18.44-fc-v595", netstat.TCPActiveOpens, 17, true},
	}
	for _, tt := range tests {
		fsys, _ := fixture(t, tt.kernel)
		s, err := netstat.NewReader(fsys).Read()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Get(tt.c)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s: Get(%s) = %d, %v; want %d, %v", tt.kernel, tt.c, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		field    int
	}{
		{"empty", "", 1, 0},
		{"blank", "\n\n", 1, 0},
		{"count mismatch", "TcpExt: A B C\nTcpExt: 1 2\n", 2, 0},
		{"more values", "TcpExt: A B\nTcpExt: 1 2 3\n", 2, 0},
		{"not a number", "Tcp: A B\nTcp: 1 x2\n", 2, 2},
		{"overflow", "Tcp: A\nTcp: 18446744073709551616\n", 2, 1},
		{"negative overflow", "Tcp: A\nTcp: -9223372036854775809\n", 2, 1},
		{"lone minus", "Tcp: A\nTcp: -\n", 2, 1},
		{"odd lines", "Tcp: A B\nTcp: 1 2\nUdp: C\n", 3, 0},
		{"proto mismatch", "Tcp: A B\nUdp: 1 2\n", 2, 0},
		{"no prefix", "Tcp A B\nTcp: 1 2\n", 1, 0},
		{"no prefix on values", "Tcp: A B\n1 2\n", 2, 0},
		{"second pair bad", "Ip: A\nIp: 1\nTcp: A B\nTcp: 1\n", 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := netstat.Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, s)
			}
			if !errors.Is(err, netstat.ErrParse) {
				t.Errorf("error %v does not wrap ErrParse", err)
			}
			var pe *netstat.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.File != "input" || pe.Line != tt.line || pe.Field != tt.field {
				t.Errorf("error at %s:%d field %d, want input:%d field %d (%v)", pe.File, pe.Line, pe.Field, tt.line, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), "netstat: input:") {
				t.Errorf("message %q does not start with the package and file", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	// Blank lines (2.6 kernels print one in IcmpMsg), repeated protocols
	// (IcmpMsg splits every 16 types), extra spaces, no final newline, an
	// empty header, the largest values.
	in := "\nIcmpMsg: InType0 InType3\nIcmpMsg:  5 6\n\nIcmpMsg: OutType0\nIcmpMsg: 7\nX:\nX:\n" +
		"Tcp: MaxConn Big Dup Dup\nTcp: -9223372036854775808 18446744073709551615 1 2"
	s, err := netstat.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for c, v := range s.All() {
		got = append(got, c.String()+"="+v.String())
	}
	want := []string{"IcmpMsg:InType0=5", "IcmpMsg:InType3=6", "IcmpMsg:OutType0=7",
		"Tcp:MaxConn=-9223372036854775808", "Tcp:Big=18446744073709551615", "Tcp:Dup=1", "Tcp:Dup=2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("unexpected counters (-want +got):\n%s", diff)
	}
	if v, _ := s.Get(netstat.NewCounter("Tcp", "Dup")); v != 1 {
		t.Errorf("Get of a repeated counter = %d, want the first, 1", v)
	}
	if diff := cmp.Diff([]string{"IcmpMsg", "X", "Tcp"}, s.Protocols()); diff != "" {
		t.Errorf("unexpected protocols (-want +got):\n%s", diff)
	}
	if _, ok := s.Lookup("Tcp", "Nope"); ok {
		t.Error("Lookup of a missing name succeeded")
	}
	if _, ok := s.Lookup("Nope", "Dup"); ok {
		t.Error("Lookup of a missing protocol succeeded")
	}
}

// errFS fails every Open with err.
type errFS struct{ err error }

func (e errFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: e.err}
}

func TestReaderErrors(t *testing.T) {
	good, _ := fixture(t, "6.18.44-fc-v595")
	netstatData, err := fs.ReadFile(good, "net/netstat")
	if err != nil {
		t.Fatal(err)
	}
	snmpData, err := fs.ReadFile(good, "net/snmp")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("missing snmp", func(t *testing.T) {
		fsys := fstest.MapFS{"net/netstat": {Data: netstatData}}
		_, err := netstat.NewReader(fsys).Read()
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "net/snmp") {
			t.Errorf("err = %v, want fs.ErrNotExist naming net/snmp", err)
		}
	})
	t.Run("permission", func(t *testing.T) {
		_, err := netstat.NewReader(errFS{fs.ErrPermission}).Read()
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "net/netstat") {
			t.Errorf("err = %v, want fs.ErrPermission naming net/netstat", err)
		}
	})
	t.Run("bad snmp line", func(t *testing.T) {
		bad := bytes.Replace(snmpData, []byte("Tcp: 1 200"), []byte("Tcp: 1 2x0"), 1)
		fsys := fstest.MapFS{"net/netstat": {Data: netstatData}, "net/snmp": {Data: bad}}
		r := netstat.NewReader(fsys)
		var s netstat.Snapshot
		err := r.ReadInto(&s)
		var pe *netstat.ParseError
		if !errors.As(err, &pe) || pe.File != "net/snmp" || pe.Line != 8 || pe.Field != 2 {
			t.Fatalf("err = %v, want a ParseError at net/snmp:8 field 2", err)
		}
		if s.Len() != 0 {
			t.Errorf("snapshot keeps %d counters after an error", s.Len())
		}
		if _, ok := s.Get(netstat.TCPExtTW); ok {
			t.Error("snapshot answers Get after an error")
		}
	})
}

// TestReread checks that re-reading keeps values right when the header
// layout changes between reads and when it comes back.
func TestReread(t *testing.T) {
	a := []byte("Tcp: A B\nTcp: 1 2\n")
	b := []byte("Tcp: A C B\nTcp: 3 4 5\n")
	files := fstest.MapFS{"net/snmp": {Data: []byte("Udp: X\nUdp: 9\n")}}
	r := netstat.NewReader(files)
	var s netstat.Snapshot
	for i, data := range [][]byte{a, a, b, a, b, b} {
		files["net/netstat"] = &fstest.MapFile{Data: data}
		if err := r.ReadInto(&s); err != nil {
			t.Fatal(err)
		}
		want := naiveParse(t, append(append([]byte{}, data...), files["net/snmp"].Data...))
		var got []naiveCounter
		for c, v := range s.All() {
			got = append(got, naiveCounter{c, v.String()})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("read %d: unexpected counters (-want +got):\n%s", i, diff)
		}
		if _, ok := s.Get("Tcp:C"); ok != bytes.Equal(data, b) {
			t.Errorf("read %d: Tcp:C present = %v", i, ok)
		}
	}
}

func TestValue(t *testing.T) {
	for _, i := range []int64{0, 1, -1, -1 << 63, 1<<63 - 1} {
		v := netstat.Int64Value(i)
		if got, ok := v.Int64(); !ok || got != i {
			t.Errorf("Int64Value(%d).Int64() = %d, %v", i, got, ok)
		}
		if v.String() != strconv.FormatInt(i, 10) {
			t.Errorf("Int64Value(%d).String() = %q", i, v)
		}
		if _, ok := v.Uint64(); ok != (i >= 0) {
			t.Errorf("Int64Value(%d).Uint64() ok = %v", i, ok)
		}
	}
	if _, ok := netstat.Uint64Value(1 << 63).Int64(); ok {
		t.Error("2^63 fits an int64?")
	}
	if netstat.Int64Value(0) != (netstat.Value{}) {
		t.Error("Int64Value(0) is not the zero Value")
	}
}

func TestCounter(t *testing.T) {
	c := netstat.TCPExtPAWSPassive
	if c.Proto() != "TcpExt" || c.Name() != "PAWSPassive" || c.NstatName() != "TcpExtPAWSPassive" {
		t.Errorf("%q: Proto %q Name %q NstatName %q", c, c.Proto(), c.Name(), c.NstatName())
	}
	if netstat.NewCounter("TcpExt", "PAWSPassive") != c {
		t.Error("NewCounter differs from the constant")
	}
}

// TestLabCapture parses the netstat-then-snmp capture of the lab and
// checks the delta against what nstat printed for the same interval.
func TestLabCapture(t *testing.T) {
	before := parseFile(t, "testdata/lab-accept-overflow/counters-before.txt")
	after := parseFile(t, "testdata/lab-accept-overflow/counters-after.txt")
	d, err := after.Sub(before)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/lab-accept-overflow/nstat-delta.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nstat := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		n, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("nstat line %q: %v", sc.Text(), err)
		}
		nstat[fields[0]] = n
	}
	if len(nstat) < 300 {
		t.Fatalf("read only %d nstat counters", len(nstat))
	}
	var skipped []string
	compared := 0
	for c, v := range d.All() {
		want, ok := nstat[c.NstatName()]
		if !ok {
			skipped = append(skipped, c.String())
			continue
		}
		compared++
		if got, _ := v.Uint64(); got != want {
			t.Errorf("%s: delta %v, nstat %d", c, v, want)
		}
	}
	// nstat leaves out the levels and settings (its useless_number) and
	// adds /proc/net/snmp6, which these files do not hold.
	wantSkipped := []string{"Ip:Forwarding", "Ip:DefaultTTL", "Tcp:RtoAlgorithm", "Tcp:RtoMin", "Tcp:RtoMax", "Tcp:MaxConn", "Tcp:CurrEstab"}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("counters nstat did not print (-want +got):\n%s", diff)
	}
	if compared < 300 {
		t.Errorf("compared only %d counters", compared)
	}
	if got, _ := d.Get(netstat.TCPExtListenOverflows); got != 75 {
		t.Errorf("ListenOverflows moved %d, want 75", got)
	}
}

func parseFile(t testing.TB, name string) *netstat.Snapshot {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := netstat.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
