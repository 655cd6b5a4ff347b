package netstat_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/paws-go/paws/internal/procfixture"
	"github.com/paws-go/paws/netstat"
)

func FuzzParseNetstat(f *testing.F) { fuzzParse(f, "net/netstat", "net/snmp") }

func FuzzParseSnmp(f *testing.F) { fuzzParse(f, "net/snmp", "net/netstat") }

// fuzzParse feeds arbitrary content as file name, next to the 6.18 capture
// of the other file, through Parse and through a Reader that re-reads into
// snapshots holding other layouts, and checks that they agree and that a
// parsed snapshot survives a round trip through its text form.
func fuzzParse(f *testing.F, name, other string) {
	for _, k := range procfixture.Kernels() {
		fsys, err := procfixture.FS(k)
		if err != nil {
			f.Fatal(err)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	labs, _ := filepath.Glob("testdata/lab-*/counters-*.txt")
	for _, p := range labs {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Tcp: A B\nTcp: 1 -1\n"))
	f.Add([]byte("\nIcmpMsg: InType3\nIcmpMsg: 1\n\n"))

	fsys, err := procfixture.FS("6.18.44-fc-v595")
	if err != nil {
		f.Fatal(err)
	}
	otherData, err := fs.ReadFile(fsys, other)
	if err != nil {
		f.Fatal(err)
	}
	prevData, err := fs.ReadFile(fsys, name)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		s, perr := netstat.Parse(bytes.NewReader(data))

		files := fstest.MapFS{name: {Data: prevData}, other: {Data: otherData}}
		r := netstat.NewReader(files)
		var rs netstat.Snapshot
		if err := r.ReadInto(&rs); err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: data}
		for i := range 2 { // a new layout, then the reuse path
			rerr := r.ReadInto(&rs)
			if (perr == nil) != (rerr == nil) {
				t.Fatalf("read %d: Parse error %v, Reader error %v", i, perr, rerr)
			}
			if perr != nil {
				if rs.Len() != 0 {
					t.Fatalf("snapshot keeps %d counters after %v", rs.Len(), rerr)
				}
				return
			}
			var fromParse, fromOther []string
			for c, v := range s.All() {
				fromParse = append(fromParse, c.String()+"="+v.String())
			}
			o, err := netstat.Parse(bytes.NewReader(otherData))
			if err != nil {
				t.Fatal(err)
			}
			for c, v := range o.All() {
				fromOther = append(fromOther, c.String()+"="+v.String())
			}
			var got []string
			for c, v := range rs.All() {
				got = append(got, c.String()+"="+v.String())
			}
			want := append(fromParse, fromOther...)
			if name == "net/snmp" {
				want = append(fromOther, fromParse...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("read %d: Reader and Parse disagree (-parse +reader):\n%s", i, diff)
			}
		}

		// Round trip: print the counters back and parse them again.
		var text strings.Builder
		proto := ""
		var names, values []string
		flush := func() {
			if proto != "" {
				text.WriteString(proto + ": " + strings.Join(names, " ") + "\n" + proto + ": " + strings.Join(values, " ") + "\n")
			}
			names, values = names[:0], values[:0]
		}
		for c, v := range s.All() {
			if c.Proto() != proto {
				flush()
				proto = c.Proto()
			}
			names = append(names, c.Name())
			values = append(values, v.String())
		}
		flush()
		if s.Len() == 0 {
			return
		}
		s2, err := netstat.Parse(strings.NewReader(text.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", text.String(), err)
		}
		for c, v := range s.All() {
			if v2, ok := s2.Value(c); !ok || v2 != firstValue(s, c) {
				t.Fatalf("round trip: %s = %v, then %v, %v", c, v, v2, ok)
			}
		}
		if s2.Len() != s.Len() {
			t.Fatalf("round trip: %d counters, then %d", s.Len(), s2.Len())
		}
	})
}

func firstValue(s *netstat.Snapshot, c netstat.Counter) netstat.Value {
	v, _ := s.Value(c)
	return v
}
