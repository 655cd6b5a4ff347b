package kernelcheck_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/kernelcheck"
	"github.com/paws-go/paws/internal/nstest"
	"github.com/paws-go/paws/pcapts"
)

// want is what a scenario must show on this kernel, besides agreeing with
// the evaluator: observed counter deltas and SYN reactions. The figures
// follow from the scenario's traffic and the kernel facts measured by the
// lab (/work/shared/lab/README.md).
type want struct {
	counters map[paws.Counter]uint64
	syns     map[pcapts.Outcome]int
	failed   int // connections that did not complete
}

func TestIntegrationScenarios(t *testing.T) {
	nstest.RequireRoot(t, "iptables", "tcpdump")
	// TIME_WAIT scenarios: c1, c2, c1 through one NAT 4-tuple. One of the
	// two clients' TSval clocks is behind the other's, so exactly one of
	// the two SYNs that meet a TIME_WAIT socket is rejected by PAWS (a bare
	// ACK). With tcp_rfc1337=0 the client's RST kills the TIME_WAIT and
	// its retransmission 10 ms later is answered; with tcp_rfc1337=1 the
	// SYNs at 0, 10 ms (its ACK rate-limited) and 1 s are all rejected and
	// the connection fails.
	wants := map[string]want{
		"accept-queue-overflow": {
			counters: map[paws.Counter]uint64{paws.ListenOverflows: 6, paws.ListenDrops: 6, paws.PassiveOpens: 3},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 3, pcapts.OutcomeUnanswered: 6},
		},
		"syn-queue-no-syncookies": {
			// 8 + 1 SYNs, each retransmitted once; the queue holds 5.
			counters: map[paws.Counter]uint64{paws.TCPReqQFullDrop: 8, paws.ListenDrops: 8},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 10, pcapts.OutcomeUnanswered: 8},
		},
		"syn-queue-syncookies": {
			// 3 + 1 SYNs over the full queue, and the 3 retransmitted,
			// get cookies; c2 completes with its cookie.
			counters: map[paws.Counter]uint64{paws.TCPReqQFullDoCookies: 7, paws.SyncookiesSent: 7, paws.SyncookiesRecv: 1, paws.PassiveOpens: 1, paws.ListenDrops: 0},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 17},
		},
		"syn-backlog-unproven-peer": {
			// The queue stops at 7 of 8: 5 flood SYNs dropped twice, c3's
			// two; proven c2 gets in. Only ListenDrops counts these.
			counters: map[paws.Counter]uint64{paws.ListenDrops: 12, paws.TCPReqQFullDrop: 0, paws.PassiveOpens: 2, paws.TW: 2},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 16, pcapts.OutcomeUnanswered: 12},
			failed:   1,
		},
		"timewait-paws-nat": {
			counters: map[paws.Counter]uint64{paws.PAWSTimewait: 1, paws.TW: 3, paws.PassiveOpens: 3},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 3, pcapts.OutcomeACK: 1},
		},
		"timewait-paws-nat-rfc1337": {
			counters: map[paws.Counter]uint64{paws.PAWSTimewait: 3, paws.TCPACKSkippedTimeWait: 1, paws.TW: 2, paws.PassiveOpens: 2},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 2, pcapts.OutcomeACK: 2, pcapts.OutcomeUnanswered: 1},
			failed:   1,
		},
		// Decided by sequence number: one of the two TIME_WAIT hits has an
		// ISN behind the TIME_WAIT's rcv_nxt (ISNs are per 4-tuple too).
		"timewait-nat-no-timestamps": {
			counters: map[paws.Counter]uint64{paws.PAWSTimewait: 0, paws.TW: 3, paws.PassiveOpens: 3},
			syns:     map[pcapts.Outcome]int{pcapts.OutcomeAnswered: 3, pcapts.OutcomeACK: 1},
		},
	}
	for _, sc := range kernelcheck.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			start := time.Now()
			r, err := sc.Run(context.Background(), kernelcheck.Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r.Format(&out, true)
			t.Log("\n" + out.String())
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("scenario took %v, want under 10 s", d)
			}
			for _, name := range r.Namespaces {
				if _, err := os.Stat(filepath.Join("/run/netns", name)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("namespace %s still exists after Run (stat: %v)", name, err)
				}
			}
			if sc.Name == "per-host-paws" && !r.TCP.TWRecycle.Present {
				// 4.12 and later: nothing to play; the evaluator must
				// not predict per-host PAWS for this kernel.
				if r.Status != kernelcheck.StatusNotApplicable || r.Note != "net.ipv4.tcp_tw_recycle absent" {
					t.Errorf("status %v (%s), want not applicable: net.ipv4.tcp_tw_recycle absent", r.Status, r.Note)
				}
				if len(r.Counters) != 1 || r.Counters[0].Counter != paws.PAWSPassive || r.Counters[0].Predicted != 0 || r.Counters[0].Present {
					t.Errorf("counters %+v, want PAWSPassive predicted 0 and absent from the kernel", r.Counters)
				}
				if r.Profile.Counters.Has(paws.PAWSPassive) {
					t.Error("the profile of a kernel without tcp_tw_recycle has PAWSPassive")
				}
				return
			}
			if r.Status != kernelcheck.StatusAgrees {
				t.Fatalf("status %v (%s); differences: %q", r.Status, r.Note, r.Differences())
			}
			w, ok := wants[sc.Name]
			if !ok {
				return
			}
			for c, n := range w.counters {
				if got := observed(r, c); got != n {
					t.Errorf("%v: observed +%d, want +%d", c, got, n)
				}
			}
			got := map[pcapts.Outcome]int{}
			for _, s := range r.SYNs {
				got[s.Observed]++
			}
			for o, n := range w.syns {
				if got[o] != n {
					t.Errorf("SYNs %v: %d, want %d (all: %v)", o, got[o], n, got)
				}
			}
			failed := 0
			for _, l := range r.Log {
				if strings.Contains(l, ": failed after") {
					failed++
				}
			}
			if failed != w.failed {
				t.Errorf("%d connections failed, want %d", failed, w.failed)
			}
			if fi, err := os.Stat(r.Capture); err != nil || fi.Size() == 0 {
				t.Errorf("capture %q not kept: %v", r.Capture, err)
			}
		})
	}
}

func TestIntegrationOtherKernel(t *testing.T) {
	nstest.RequireRoot(t, "iptables", "tcpdump")
	// With the rules of 6.12.0 the evaluator counts TIME_WAIT PAWS in
	// PAWSEstab (PAWSTimewait came in 6.16) and takes the SYN queue as
	// full at qlen >= backlog (the strict qlen > backlog rule came in
	// 6.13): this kernel follows neither, and the checks must say so.
	old := paws.MustParseKernelVersion("6.12.0")
	for name, want := range map[string][]string{
		"timewait-paws-nat":       {"counter PAWSEstab predicted +1, observed +0", "counter PAWSTimewait predicted +0, observed +1"},
		"syn-queue-no-syncookies": {"predicted unanswered (synq_full), observed answered"},
	} {
		t.Run(name, func(t *testing.T) {
			var sc kernelcheck.Scenario
			for _, s := range kernelcheck.Scenarios() {
				if s.Name == name {
					sc = s
				}
			}
			r, err := sc.Run(context.Background(), kernelcheck.Options{Kernel: old})
			if err != nil {
				t.Fatal(err)
			}
			diffs := strings.Join(r.Differences(), "\n")
			t.Log("\n" + diffs)
			if r.Status != kernelcheck.StatusDiffers || r.Profile.Kernel != old {
				t.Fatalf("status %v with the rules of %v, want differs with those of %v", r.Status, r.Profile.Kernel, old)
			}
			for _, w := range want {
				if !strings.Contains(diffs, w) {
					t.Errorf("differences do not contain %q", w)
				}
			}
		})
	}
}

func observed(r *kernelcheck.Result, c paws.Counter) uint64 {
	for _, cc := range r.Counters {
		if cc.Counter == c {
			return cc.Observed
		}
	}
	return 0
}

func TestIntegrationAvailable(t *testing.T) {
	nstest.RequireRoot(t)
	if err := kernelcheck.Available(); err != nil {
		t.Fatalf("as root with the tools: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	err := kernelcheck.Available()
	if !errors.Is(err, kernelcheck.ErrUnavailable) || !strings.Contains(err.Error(), "ip not found") {
		t.Errorf("without tools on PATH: %v, want ErrUnavailable naming ip", err)
	}
	if _, err := kernelcheck.Scenarios()[0].Run(context.Background(), kernelcheck.Options{}); !errors.Is(err, kernelcheck.ErrUnavailable) {
		t.Errorf("Run without tools: %v, want ErrUnavailable", err)
	}
}

func TestIntegrationTimeout(t *testing.T) {
	nstest.RequireRoot(t, "iptables", "tcpdump")
	// A scenario cut short by its timeout fails and leaves nothing behind.
	before := netnsNames(t)
	_, err := kernelcheck.Scenarios()[0].Run(context.Background(), kernelcheck.Options{Timeout: 800 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run with an 800 ms timeout: %v, want context.DeadlineExceeded", err)
	}
	if after := netnsNames(t); len(after) != len(before) {
		t.Errorf("namespaces before %v, after %v", before, after)
	}
}

func netnsNames(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "kchk") {
			out = append(out, e.Name())
		}
	}
	return out
}
