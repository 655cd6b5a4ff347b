package sysctl

import (
	"errors"
	"strconv"
	"testing"
)

func TestTCPFieldPaths(t *testing.T) {
	if len(tcpFields) > 32 {
		t.Fatalf("%d fields do not fit the absent bit set", len(tcpFields))
	}
	seen := map[Name]bool{}
	for _, f := range tcpFields {
		p, err := f.name.Path()
		if err != nil || p != f.path {
			t.Errorf("%s: table path %q, Name.Path() = %q, %v", f.name, f.path, p, err)
		}
		if seen[f.name] {
			t.Errorf("%s listed twice", f.name)
		}
		seen[f.name] = true
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		bits int
		want int64
		err  bool
	}{
		{in: "0\n", bits: 32, want: 0},
		{in: "128\n", bits: 32, want: 128},
		{in: "-1\n", bits: 32, want: -1},
		{in: " \t42 \n", bits: 32, want: 42},
		{in: "2147483647", bits: 32, want: 1<<31 - 1},
		{in: "2147483648", bits: 32, err: true},
		{in: "2147483648", bits: 64, want: 1 << 31},
		{in: "", bits: 32, err: true},
		{in: "\n", bits: 32, err: true},
		{in: "1 2\n", bits: 32, err: true},
		{in: "0x10", bits: 32, err: true},
		{in: "1_000", bits: 32, err: true},
		{in: "12abc", bits: 32, err: true},
	}
	for _, tt := range tests {
		got, err := parseInt([]byte(tt.in), tt.bits)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseInt(%q, %d) = %d, %v; want %d, error %v", tt.in, tt.bits, got, err, tt.want, tt.err)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in   string
		want PortRange
		err  error
	}{
		{in: "32768\t60999\n", want: PortRange{32768, 60999}},
		{in: "1024 65535", want: PortRange{1024, 65535}},
		{in: "  0 \t 0 \n", want: PortRange{0, 0}},
		{in: "32768\n", err: errFields},
		{in: "", err: errFields},
		{in: "1 2 3\n", err: errFields},
		{in: "1 65536\n", err: errPort},
		{in: "-1 2\n", err: errPort},
		{in: "a b\n", err: errPort},
	}
	for _, tt := range tests {
		got, err := parsePortRange([]byte(tt.in))
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("parsePortRange(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	in := []byte("32768\t60999\n")
	if n := testing.AllocsPerRun(100, func() { _, _ = parsePortRange(in) }); n != 0 {
		t.Errorf("parsePortRange allocates %v times, want 0", n)
	}
	in = []byte("131072\n")
	if n := testing.AllocsPerRun(100, func() { _, _ = parseInt(in, 32) }); n != 0 {
		t.Errorf("parseInt allocates %v times, want 0", n)
	}
}

// formatInt is what proc_dointvec prints.
func formatInt(v int64) []byte { return strconv.AppendInt(nil, v, 10) }
