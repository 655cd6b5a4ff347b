package paws

import (
	"errors"
	"testing"
)

func TestParseKernelVersion(t *testing.T) {
	tests := []struct {
		in     string
		want   KernelVersion
		distro Distro
	}{
		{"3.10.0-1160.el7.x86_64", KernelVersion{3, 10, 0, "-1160.el7.x86_64"}, DistroRHEL7},
		{"2.6.32-642.6.2.el6.x86_64", KernelVersion{2, 6, 32, "-642.6.2.el6.x86_64"}, DistroRHEL6},
		{"4.9.0-3-amd64", KernelVersion{4, 9, 0, "-3-amd64"}, DistroNone},
		{"5.15.0-1034-azure", KernelVersion{5, 15, 0, "-1034-azure"}, DistroNone},
		{"6.18.44-fc-v669\n", KernelVersion{6, 18, 44, "-fc-v669"}, DistroNone},
		{"4.18.0-553.el8_10.x86_64", KernelVersion{4, 18, 0, "-553.el8_10.x86_64"}, DistroRHEL8},
		{"5.4", KernelVersion{5, 4, 0, ""}, DistroNone},
		{"6.8.0+", KernelVersion{6, 8, 0, "+"}, DistroNone},
		{"5.10-rc1", KernelVersion{5, 10, 0, "-rc1"}, DistroNone},
	}
	for _, tt := range tests {
		got, err := ParseKernelVersion(tt.in)
		if err != nil {
			t.Fatalf("ParseKernelVersion(%q): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("ParseKernelVersion(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if d := got.Distro(); d != tt.distro {
			t.Errorf("%q.Distro() = %v, want %v", tt.in, d, tt.distro)
		}
		again, err := ParseKernelVersion(got.String())
		if err != nil || again != got {
			t.Errorf("round trip of %q through %q = %#v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseKernelVersionErrors(t *testing.T) {
	for _, in := range []string{"", "linux", "6", "6.", ".6.1", "6.x", "99999999.1", "6.1.0-a b"} {
		if v, err := ParseKernelVersion(in); !errors.Is(err, ErrVersion) {
			t.Errorf("ParseKernelVersion(%q) = %v, %v; want ErrVersion", in, v, err)
		}
	}
}

func TestKernelVersionCompare(t *testing.T) {
	ordered := []string{
		"2.6.32-642.6.2.el6.x86_64",
		"3.10.0-693.el7.x86_64",
		"3.10.0-1160.el7.x86_64",
		"4.9.0-3-amd64",
		"4.11.0",
		"4.12.0",
		"5.15.0-1034-azure",
		"6.18.44-fc-v669",
	}
	for i := range ordered {
		for j := range ordered {
			a, b := MustParseKernelVersion(ordered[i]), MustParseKernelVersion(ordered[j])
			if got, want := a.Compare(b), cmpInt(i, j); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
	v := MustParseKernelVersion("4.11.0-rc1")
	if !v.AtLeast(4, 11, 0) || v.AtLeast(4, 12, 0) || !v.AtLeast(3, 99, 99) {
		t.Errorf("AtLeast on %s is wrong", v)
	}
}

func FuzzParseKernelVersion(f *testing.F) {
	for _, s := range []string{"3.10.0-1160.el7.x86_64", "2.6.32-642.6.2.el6.x86_64", "4.9.0-3-amd64", "5.15.0-1034-azure", "6.18.44-fc-v669", "5.4", "6.8.0+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseKernelVersion(s)
		if err != nil {
			return
		}
		again, err := ParseKernelVersion(v.String())
		if err != nil {
			t.Fatalf("String() of a parsed %q = %q does not parse: %v", s, v.String(), err)
		}
		if again != v {
			t.Fatalf("round trip of %q: %#v != %#v", s, again, v)
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%v not equal to itself", v)
		}
	})
}
