package netstat

import (
	"slices"
	"strings"
	"testing"

	"github.com/paws-go/paws/internal/procfixture"
)

// slowParse parses srcs the way a Snapshot without a layout does: the
// path that names errors, which parseFast must agree with.
func slowParse(srcs []source) (*Snapshot, error) {
	s := new(Snapshot)
	return s, s.parse(srcs, nil)
}

// checkFast runs parseFast with lay over srcs and reports whether it
// accepted them. It fails t if parseFast accepts what the slow path
// rejects, or reads a different layout or different values.
func checkFast(t *testing.T, lay *layout, srcs []source) bool {
	t.Helper()
	vals := make([]Value, len(lay.keys))
	if !parseFast(lay, srcs, vals) {
		return false
	}
	s, err := slowParse(srcs)
	if err != nil {
		t.Fatalf("parseFast accepted what the slow path rejects: %v", err)
	}
	if !sameHeaders(lay, srcs) || !slices.Equal(s.lay.keys, lay.keys) {
		t.Fatalf("parseFast accepted other header lines")
	}
	if !slices.Equal(s.values, vals) {
		t.Fatalf("parseFast read %v, the slow path %v", vals, s.values)
	}
	return true
}

func TestParseFast(t *testing.T) {
	const hdr = "Tcp: A B C\n"
	snmp := source{name: "snmp", data: []byte("Udp: X\nUdp: 9\n")}
	base, err := slowParse([]source{{name: "netstat", data: []byte(hdr + "Tcp: 1 2 3\n")}, snmp})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		fast     bool // parseFast accepts it; otherwise the slow path must be the one to
		slowErr  bool // the slow path rejects it
	}{
		{"kernel format", hdr + "Tcp: 1 22 333\n", true, false},
		{"negative", hdr + "Tcp: -1 0 -9223372036854775808\n", true, false},
		{"minus zero", hdr + "Tcp: -0 0 0\n", true, false},
		{"19 and 20 digits", hdr + "Tcp: 9999999999999999999 18446744073709551615 00000000000000000001\n", true, false},
		{"leading zeros", hdr + "Tcp: 007 0 00\n", true, false},
		{"several spaces and tabs", hdr + "Tcp:  1\t2 \r3 \n", true, false},
		{"no final newline", hdr + "Tcp: 1 2 3", true, false},
		{"crlf", hdr + "Tcp: 1 2 3\r\n", true, false},
		{"blank lines", "\n \n" + hdr + "\t\n\nTcp: 1 2 3\n\n \r\n", true, false},
		{"overflow", hdr + "Tcp: 18446744073709551616 0 0\n", false, true},
		{"21 digits", hdr + "Tcp: 000000000000000000001 0 0\n", false, true},
		{"negative overflow", hdr + "Tcp: -9223372036854775809 0 0\n", false, true},
		{"lone minus", hdr + "Tcp: 1 - 3\n", false, true},
		{"plus", hdr + "Tcp: +1 2 3\n", false, true},
		{"glued sign", hdr + "Tcp: 12-5 2 3\n", false, true},
		{"letter", hdr + "Tcp: 1 2x 3\n", false, true},
		{"colon", hdr + "Tcp: 1 2:3\n", false, true},
		{"too few", hdr + "Tcp: 1 2\n", false, true},
		{"too many", hdr + "Tcp: 1 2 3 4\n", false, true},
		{"other proto", hdr + "Udp: 1 2 3\n", false, true},
		{"longer proto", hdr + "TcpX: 1 2 3\n", false, true},
		{"no value line", hdr, false, true},
		{"extra pair", hdr + "Tcp: 1 2 3\nIp: D\nIp: 4\n", false, false},
		{"extra line", hdr + "Tcp: 1 2 3\nIp: D\n", false, true},
		{"other header", "Tcp: A B D\nTcp: 1 2 3\n", false, false},
		{"indented header", " " + hdr + "Tcp: 1 2 3\n", false, true},
		{"indented values", hdr + " Tcp: 1 2 3\n", false, true},
		{"empty", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srcs := []source{{name: "netstat", data: []byte(tt.in)}, snmp}
			if got := checkFast(t, base.lay, srcs); got != tt.fast {
				t.Errorf("parseFast = %v, want %v", got, tt.fast)
			}
			_, err := slowParse(srcs)
			if (err != nil) != tt.slowErr {
				t.Errorf("slow path error %v, want an error: %v", err, tt.slowErr)
			}
		})
	}
}

// TestParseFastFixtures checks that every fixture kernel's files take the
// fast path on a re-read, so that none falls back on every read.
func TestParseFastFixtures(t *testing.T) {
	for _, k := range procfixture.Kernels() {
		srcs := fixtureSources(t, k)
		s, err := slowParse(srcs)
		if err != nil {
			t.Fatal(err)
		}
		if !checkFast(t, s.lay, srcs) {
			t.Errorf("%s: a re-read takes the slow path", k)
		}
	}
}

// FuzzParseFast checks parseFast against the slow path: with the 6.18
// layout, whatever it accepts the slow path reads alike; with the layout
// of data itself, it accepts whatever the slow path does.
func FuzzParseFast(f *testing.F) {
	fix := fixtureSources(f, "6.18.44-fc-v595")
	f.Add(fix[0].data)
	f.Add([]byte(strings.Replace(string(fix[0].data), " 0 ", " -18446744073709551615 ", 1)))
	f.Add([]byte("Tcp: A B\nTcp: 1\t -2\r\n\n"))
	fixed, err := slowParse(fix)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srcs := []source{{name: "netstat", data: data}, fix[1]}
		checkFast(t, fixed.lay, srcs)
		s, err := slowParse(srcs)
		if err != nil {
			return
		}
		if !checkFast(t, s.lay, srcs) {
			t.Fatalf("parseFast rejects what the slow path reads with the same layout")
		}
	})
}
