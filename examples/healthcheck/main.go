// This program demonstrates paws.Diagnose as a health check for load
// balancers: an HTTP server whose /healthz answers 200 while the kernel
// is not dropping SYNs for the watched listeners, and 503 with the
// findings as JSON when it is.
//
// Usage:
//
//	healthcheck [-listen ADDR] [-pid N | -netns PATH] [-port N[,N...]] [-min-drops N] [-fill F] [-owners WHEN]
//
// Every request reads the namespace again (sysctls, /proc/net/netstat,
// the listeners over inet_diag and their owners) and runs paws.Diagnose
// on it. Counter deltas are those since the previous request; the first
// request compares with a reading taken at start. A load balancer that
// polls every second therefore sees per-second deltas. Several pollers
// share one baseline: each sees the deltas since whichever request came
// last, so give each its own healthcheck if they poll at different rates.
//
// The answer is:
//
//   - 200 {"status":"ok",...} when no critical finding remains;
//   - 503 {"status":"critical","findings":[...]} otherwise;
//   - 500 {"status":"error","error":...} when the namespace cannot be
//     read (its process exited).
//
// Thresholds:
//
//   - -min-drops N (default 1): unless the kernel dropped at least N SYNs
//     since the previous request (the largest delta of ListenDrops,
//     ListenOverflows, TCPReqQFullDrop, PAWSPassive, PAWSTimewait and
//     PAWSEstab), the interval counts as quiet and only the current state
//     (full queues, descriptor limits, sysctls) is diagnosed. With polls
//     every second, 1 means "any drop in the last second"; raise it to
//     ignore a trickle. The load balancer's own fall/rise counts smooth
//     flapping. PAWSEstab also counts PAWS rejections on established
//     connections before 6.16; Diagnose rates those a warning, which does
//     not fail the check.
//   - -fill F (default 1): a listener whose accept queue holds at least F
//     of its capacity (ss -ltn Send-Q + 1) is critical. At 1 that is the
//     kernel's "full", when it drops SYNs (Diagnose's accept-queue-full);
//     below 1 this program adds an accept-queue-filling finding, so the
//     load balancer drains the backend before SYNs are lost.
//   - -port: only the listeners on these ports count, and the host-wide
//     findings (per-host PAWS, TIME_WAIT PAWS, sysctls). The findings on
//     the namespace-wide counters of listen-path drops (listen-overflows,
//     syn-queue-drops, unproven-peer-drops) count only if the watched
//     listeners dropped at least -min-drops SYNs or handshake ACKs
//     since the previous request, by their own drop counters (sk_drops,
//     which the kernel keeps per listening socket from 4.9 on): another
//     port's overflow does not fail this check. Where those counters are
//     unknown (older kernels, the first request) these findings count
//     whichever listener dropped.
//
// Cost: the scan of every /proc/PID/fd for the processes holding the
// listeners is most of a request's cost and grows with the processes and
// descriptors of the machine. -owners=queued (the default) scans only when
// a watched listener has a connection waiting to be accepted: a process at
// its descriptor limit cannot accept, so its queue is never empty, and
// the fd-limit finding still appears when it matters. -owners=always
// also reports owners close to their limit on an idle server; never skips
// the scan.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// config is the command line.
type config struct {
	listen string
	target observe.Target
	pol    policy
}

// portList is a repeatable -port flag that also takes comma lists.
type portList []uint16

func (p *portList) String() string {
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ",")
}

func (p *portList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("port %q: want 1 to 65535", f)
		}
		*p = append(*p, uint16(n))
	}
	return nil
}

// parseFlags reads the command line. Errors are one line.
func parseFlags(args []string, usage io.Writer) (config, error) {
	var c config
	var ports portList
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9180", "serve /healthz on `addr:port`")
	c.target.AddFlags(fs)
	fs.Var(&ports, "port", "only listeners on these `ports` (repeatable, or a comma list), plus host-wide findings")
	fs.Uint64Var(&c.pol.minDrops, "min-drops", 1, "counters count as moved only if the kernel dropped at least `N` SYNs since the previous request")
	fs.Float64Var(&c.pol.fill, "fill", 1, "a listener whose accept queue holds at least this `fraction` of its capacity (Send-Q+1) is critical")
	fs.StringVar(&c.pol.owners, "owners", ownersQueued, "`when` to scan /proc for the processes holding the listeners: always, queued (when a watched accept queue is not empty) or never")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "usage: healthcheck [-listen ADDR] [-pid N | -netns PATH] [-port N[,N...]] [-min-drops N] [-fill F] [-owners WHEN]")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return c, err
	}
	switch {
	case fs.NArg() != 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case !(c.pol.fill > 0 && c.pol.fill <= 1):
		return c, fmt.Errorf("-fill %g: want a fraction in (0, 1]", c.pol.fill)
	case c.pol.owners != ownersAlways && c.pol.owners != ownersQueued && c.pol.owners != ownersNever:
		return c, fmt.Errorf("-owners %q: want always, queued or never", c.pol.owners)
	}
	c.pol.ports = ports
	return c, nil
}

// run is the program; it returns the exit status once ctx is done or the
// server fails. Every error is one line on stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v (see -h)\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	obs, err := observe.Open(c.target)
	if err != nil {
		return fail(err)
	}
	defer obs.Close()
	s, err := newServer(obs, c.pol)
	if err != nil {
		return fail(err)
	}
	if err := serve.ListenAndRun(ctx, c.listen, s.mux(), stderr, "healthcheck", "/healthz", c.target); err != nil {
		return fail(err)
	}
	return 0
}
