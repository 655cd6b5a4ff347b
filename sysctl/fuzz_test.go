package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/paws-go/paws/internal/procfixture"
)

// fixtureValues returns the content of every sysctl file of every fixture
// tree, to seed the fuzz targets.
func fixtureValues(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, k := range procfixture.Kernels() {
		fsys, err := procfixture.FS(k)
		if err != nil {
			tb.Fatal(err)
		}
		err = fs.WalkDir(fsys, "sys", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			out = append(out, b)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func FuzzParseInt(f *testing.F) {
	for _, b := range fixtureValues(f) {
		f.Add(b)
	}
	f.Add([]byte("-2147483648\n"))
	f.Add([]byte("+7"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseInt(data, 32)
		if err != nil {
			if v != 0 {
				t.Fatalf("parseInt(%q) = %d with error %v", data, v, err)
			}
			return
		}
		if v != int64(int32(v)) {
			t.Fatalf("parseInt(%q, 32) = %d, outside int32", data, v)
		}
		again, err := parseInt(append(formatInt(v), '\n'), 32)
		if err != nil || again != v {
			t.Fatalf("round trip of %d: %d, %v", v, again, err)
		}
	})
}

func FuzzParsePortRange(f *testing.F) {
	for _, b := range fixtureValues(f) {
		f.Add(b)
	}
	f.Add([]byte("1024 65535\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parsePortRange(data)
		if err != nil {
			if r != (PortRange{}) || !errors.Is(err, errFields) && !errors.Is(err, errPort) {
				t.Fatalf("parsePortRange(%q) = %v, %v", data, r, err)
			}
			return
		}
		again, err := parsePortRange(fmt.Appendf(nil, "%d\t%d\n", r.First, r.Last))
		if err != nil || again != r {
			t.Fatalf("round trip of %v: %v, %v", r, again, err)
		}
	})
}

// FuzzTCP puts arbitrary content into one sysctl file of a real tree: the
// read must fail for that sysctl alone, with ErrParse, or store a value.
func FuzzTCP(f *testing.F) {
	base, err := procfixture.FS("6.18.44-fc-v595")
	if err != nil {
		f.Fatal(err)
	}
	tree := fstest.MapFS{}
	err = fs.WalkDir(base, "sys", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(base, p)
		tree[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for i, b := range fixtureValues(f) {
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		field := tcpFields[int(which)%len(tcpFields)]
		m := fstest.MapFS{}
		for p, file := range tree {
			m[p] = file
		}
		m[field.path] = &fstest.MapFile{Data: data}
		got, err := NewFSFromFS(m).TCP()
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Name != field.name || !errors.Is(err, ErrParse) {
				t.Fatalf("%s = %q: error %v, want one *Error for it matching ErrParse", field.name, data, err)
			}
			if !strings.Contains(err.Error(), field.path) {
				t.Fatalf("error %q does not name the file %s", err, field.path)
			}
		}
		wantAbsent := 1 // the tree has no tcp_tw_recycle, unless this run adds it
		if field.name == NetIPv4TCPTWRecycle {
			wantAbsent = 0
		}
		if abs := got.Absent(); len(abs) != wantAbsent || wantAbsent == 1 && abs[0] != NetIPv4TCPTWRecycle {
			t.Fatalf("Absent = %v with %s = %q", abs, field.name, data)
		}
		if field.name != NetCoreSoMaxConn && got.SoMaxConn != ValueOf(4096) {
			t.Fatalf("somaxconn lost when %s = %q: %v", field.name, data, got.SoMaxConn)
		}
	})
}

func FuzzNamePath(f *testing.F) {
	for _, fd := range tcpFields {
		f.Add(string(fd.name))
	}
	for _, s := range []string{"", "..", "net/ipv4", "net..ipv4", ".net", "net.", "a.b\x00c", "net.ipv4.conf.eth0.rp_filter"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Name(s).Path()
		if err != nil {
			if !errors.Is(err, fs.ErrInvalid) || p != "" {
				t.Fatalf("Name(%q).Path() = %q, %v", s, p, err)
			}
			return
		}
		if !fs.ValidPath(p) || !strings.HasPrefix(p, "sys/") {
			t.Fatalf("Name(%q).Path() = %q, not a valid path below sys/", s, p)
		}
		for _, c := range strings.Split(p, "/") {
			if c == "" || c == "." || c == ".." {
				t.Fatalf("Name(%q).Path() = %q has component %q", s, p, c)
			}
		}
		if back := strings.ReplaceAll(strings.TrimPrefix(p, "sys/"), "/", "."); back != s {
			t.Fatalf("Name(%q).Path() = %q does not map back (%q)", s, p, back)
		}
	})
}
