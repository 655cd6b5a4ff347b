//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/nstest"
)

// build compiles the program into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "diagnose")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// start runs the program in the background; wait returns its exit status
// and output.
func start(t *testing.T, bin string, args ...string) (wait func() (int, string, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return func() (int, string, string) {
		defer cancel()
		err := cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s %q: %v", bin, args, err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
}

// jsonReport reads the -json output: the report, with the findings as
// plain strings (paws.Severity has no UnmarshalText).
type jsonReport struct {
	report
	Findings []map[string]string `json:"findings"`
}

// TestIntegrationFlood fills a listener's accept queue in a test
// namespace during the interval and checks the JSON report, then the
// human one, then the same namespace named by a pid.
func TestIntegrationFlood(t *testing.T) {
	nstest.RequireRoot(t)
	bin := build(t)
	ns := nstest.New(t)
	addr := netip.MustParseAddrPort("127.0.0.1:8080")
	ns.Listen(t, addr, 4)

	wait := start(t, bin, "-netns", ns.Path, "-interval", "2s", "-json")
	time.Sleep(500 * time.Millisecond) // after the first reading
	ns.ConnectMany(t, addr, 30)
	code, stdout, stderr := wait()
	if code != 1 {
		t.Fatalf("exit %d, want 1 (critical)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if r.Kernel == "" || r.NetNS != ns.Path || r.IntervalS < 2 || r.IntervalS > 10 {
		t.Errorf("header kernel %q netns %q interval %v", r.Kernel, r.NetNS, r.IntervalS)
	}
	if v, ok := r.Sysctl["net.core.somaxconn"]; !ok || v == nil || *v <= 0 {
		t.Errorf("sysctl net.core.somaxconn = %v", v)
	}
	kv, err := paws.ParseKernelVersion(r.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := r.Sysctl["net.ipv4.tcp_tw_recycle"]; !ok || (v == nil) == paws.ProfileFor(kv).HasTWRecycle {
		t.Errorf("sysctl net.ipv4.tcp_tw_recycle = %v on %s", v, kv)
	}
	// 25 SYNs met the full queue, and again at their retransmission.
	if n := r.Counters["ListenOverflows"]; n < 25 || r.Counters["ListenDrops"] < n {
		t.Errorf("counters %v: want ListenOverflows >= 25 and ListenDrops >= it", r.Counters)
	}
	if _, ok := r.Counters["PAWSPassive"]; ok != paws.ProfileFor(kv).Counters.Has(paws.PAWSPassive) {
		t.Errorf("counters list PAWSPassive: %t, on %s", ok, kv)
	}
	if len(r.Listeners) != 1 {
		t.Fatalf("listeners %+v", r.Listeners)
	}
	l := r.Listeners[0]
	if l.Addr != addr.String() || !nstest.FullQueue(uint64(l.AcceptQueue), 4) || l.Backlog != 4 {
		t.Errorf("listener %+v, want %s 5/4 (6/4 after a race)", l, addr)
	}
	// The listener's own drop counter moved with ListenOverflows.
	if l.Drops == nil || *l.Drops < 25 {
		t.Errorf("listener drops %v, want at least 25", l.Drops)
	}
	if len(l.Owners) != 1 || l.Owners[0].PID != os.Getpid() || l.Owners[0].FDs <= 0 || l.Owners[0].FDLimit == 0 {
		t.Errorf("owners %+v, want this test process %d", l.Owners, os.Getpid())
	}
	var checks []string
	for _, f := range r.Findings {
		checks = append(checks, f["check"])
		for _, k := range []string{"severity", "evidence", "explanation", "remedy"} {
			if f[k] == "" {
				t.Errorf("finding %s has no %s", f["check"], k)
			}
		}
	}
	if len(r.Findings) < 2 || r.Findings[0]["check"] != "accept-queue-full" || r.Findings[0]["listener"] != addr.String() ||
		r.Findings[0]["severity"] != "critical" || !strings.Contains(r.Findings[0]["evidence"], "accept queue 5 > backlog 4") {
		t.Errorf("first finding %v, want accept-queue-full about %s", r.Findings, addr)
	}
	if r.Findings[1]["check"] != "listen-overflows" || !strings.Contains(r.Findings[1]["evidence"], "ListenOverflows +") {
		t.Errorf("findings %v, want listen-overflows second", checks)
	}

	t.Run("human", func(t *testing.T) {
		code, out, stderr := start(t, bin, "-netns", ns.Path, "-interval", "1500ms")()
		if code != 1 {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		// Warnings (processes whose descriptors are not readable) are
		// allowed; nothing else goes to stderr.
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "diagnose: warning: ") {
				t.Errorf("stderr line %q", l)
			}
		}
		checkHuman(t, out, ns.Path, addr)
	})

	t.Run("pid", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sleeper := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "sleep", "30")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
		waitNetNS(t, sleeper.Process.Pid, ns.Path)
		code, out, _ := start(t, bin, "-pid", fmt.Sprint(sleeper.Process.Pid), "-interval", "0", "-json")()
		var r jsonReport
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		if r.NetNS != fmt.Sprintf("pid %d", sleeper.Process.Pid) || r.IntervalS != 0 || len(r.Counters) != 0 {
			t.Errorf("netns %q interval %v counters %v, want one reading of the pid", r.NetNS, r.IntervalS, r.Counters)
		}
		if len(r.Listeners) != 1 || !nstest.FullQueue(uint64(r.Listeners[0].AcceptQueue), 4) || r.Findings[0]["check"] != "accept-queue-full" {
			t.Errorf("listeners %+v findings %v", r.Listeners, r.Findings)
		}
		for _, f := range r.Findings {
			if f["check"] == "listen-overflows" {
				t.Errorf("counter finding from one reading: %v", f)
			}
		}
	})
}

// waitNetNS waits until process pid has entered the namespace at path
// ("ip netns exec" switches before it execs sleep).
func waitNetNS(t *testing.T, pid int, path string) {
	t.Helper()
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) == nil && st.Ino == want.Ino && st.Dev == want.Dev {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pid %d did not enter %s", pid, path)
}

// checkHuman checks the structure of the human report of the flooded
// namespace: the sections in order and the lines that matter.
func checkHuman(t *testing.T, out, nsPath string, addr netip.AddrPort) {
	t.Helper()
	sections := []string{"Sysctls", "Counters that moved in ", "Listeners", "tcp_metrics: ", "Findings"}
	last := 0
	for _, s := range sections {
		i := strings.Index(out, "\n\n"+s)
		if i < last {
			t.Fatalf("section %q missing or out of order:\n%s", s, out)
		}
		last = i
	}
	for _, re := range []string{
		`^diagnose: kernel \S+, namespace ` + regexp.QuoteMeta(nsPath) + `, interval 1\.\d+s\n`,
		`(?m)^  net\.ipv4\.tcp_tw_recycle +(absent|0|1)$`,
		`(?m)^  net\.ipv4\.tcp_timestamps +1 \(on\)$`,
		`(?m)^  TcpExt:ListenOverflows +\+\d+ +\d+ times the listen queue of a socket overflowed$`,
		`(?m)^  TcpExt:ListenDrops +\+\d+ +\d+ SYNs to LISTEN sockets dropped$`,
		`(?m)^  ADDRESS +RECV-Q +SEND-Q +FILL +DROPS +OWNERS \(fds/limit\)$`,
		`(?m)^  ` + regexp.QuoteMeta(addr.String()) + ` +5 +4 +100% +\+\d+ +\S+ \(pid ` + fmt.Sprint(os.Getpid()) + `\) \d+/\d+$`,
		`(?m)^  CRITICAL accept-queue-full ` + regexp.QuoteMeta(addr.String()) + `\n    evidence:    accept queue 5 > backlog 4 `,
		`(?m)^  CRITICAL listen-overflows ` + regexp.QuoteMeta(addr.String()) + `\n    evidence:    ListenOverflows \+\d+ in 1\.\d+s \(`,
		`(?m)^    explanation: The accept queue of ` + regexp.QuoteMeta(addr.String()) + ` is full`,
		`(?m)^    remedy:      `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
	findings := out[strings.Index(out, "\nFindings\n"):]
	for _, l := range strings.Split(findings, "\n") {
		if len(l) > width {
			t.Errorf("finding line longer than %d: %q", width, l)
		}
	}
}
