package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestCannotRun(t *testing.T) {
	// Without root, or without the tools on PATH, the program says why in
	// one line and exits 2.
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run(nil, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want one line on stderr", stdout.String(), msg)
	}
	want := "ip not found on PATH"
	if os.Geteuid() != 0 {
		want = "needs root"
	}
	if !strings.Contains(msg, want) {
		t.Errorf("stderr %q, want it to say %q", msg, want)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-run", "("}, {"extra"}, {"-nosuchflag"}, {"-kernel", "six"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestAcceptQueueScenario(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: the scenario creates network namespaces and needs root (sudo -E go test)")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-run", "^accept-queue-overflow$", "-v"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "accept-queue-overflow: agrees") || !strings.Contains(out, "ListenOverflows +6") || strings.Count(out, "    SYN #") != 9 {
		t.Errorf("output:\n%s", out)
	}
}
