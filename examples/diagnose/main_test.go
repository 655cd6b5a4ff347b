package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paws-go/paws/sysctl"
)

// TestUsageErrors checks that every bad command line and every namespace
// that cannot be read gives exit status 2 and exactly one line on stderr.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-bogus"},
		{"-interval", "soon"},
		{"-interval", "-1s"},
		{"-pid", "-2"},
		{"-pid", "1", "-netns", "/run/netns/x"},
		{"extra"},
		{"-pid", fmt.Sprint(1<<22 + 1), "-interval", "0"}, // above PID_MAX_LIMIT: never a process
		{"-netns", filepath.Join(t.TempDir(), "gone"), "-interval", "0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q; want 2 and nothing", args, code, stdout.String())
		}
		if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "diagnose: ") {
			t.Errorf("%q: stderr %q, want one line starting with \"diagnose: \"", args, stderr.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("-h: exit %d, stderr %q", code, stderr.String())
	}
	for _, s := range []string{usage, "-interval D", "-netns PATH", "-pid N", "-json"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("-h output lacks %q:\n%s", s, stdout.String())
		}
	}
}

func TestUnreadable(t *testing.T) {
	err := fmt.Errorf("read: %w", errors.Join(
		&sysctl.Error{Name: sysctl.NetIPv4TCPSynCookies, Err: fs.ErrPermission},
		&sysctl.Error{Name: sysctl.NetCoreSoMaxConn, Err: sysctl.ErrParse}))
	got := unreadable(err)
	if len(got) != 2 || !got["net.ipv4.tcp_syncookies"] || !got["net.core.somaxconn"] {
		t.Fatalf("unreadable = %v", got)
	}
	if len(unreadable(nil)) != 0 {
		t.Fatal("unreadable(nil) is not empty")
	}
}

func TestWrap(t *testing.T) {
	var b bytes.Buffer
	text := strings.Repeat("several words of text ", 20)
	wrap(&b, "    remedy:      ", text)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("not wrapped:\n%s", b.String())
	}
	for i, l := range lines {
		if len(l) > width {
			t.Errorf("line %d has %d columns: %q", i, len(l), l)
		}
		if i > 0 && !strings.HasPrefix(l, strings.Repeat(" ", 17)) {
			t.Errorf("line %d not indented: %q", i, l)
		}
	}
	if got := strings.Join(strings.Fields(strings.TrimPrefix(b.String(), "    remedy:")), " "); got != strings.TrimSpace(text) {
		t.Errorf("words lost: %q", got)
	}
}
