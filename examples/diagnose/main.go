// This program demonstrates paws.Diagnose on a live system: it reads a
// network namespace twice, an interval apart, and says why SYNs are being
// ignored there, or could be.
//
//	diagnose [-pid N | -netns PATH] [-interval D] [-json]
//
// Without -pid or -netns it reads the namespace of the program itself.
// -pid reads the namespace of a process (a container), -netns that of a
// namespace file such as /run/netns/NAME; both need CAP_SYS_ADMIN.
// -interval (default 3s) is the time between the two readings over which
// counters are compared; 0 takes one reading and reports only the current
// state (queues, sysctls, descriptor limits). The program only reads: it
// changes nothing on the system.
//
// The report gives the kernel, the sysctls that decide the fate of a SYN
// ("absent" for those the kernel or namespace does not have), the paws
// counters that moved with the sentence netstat -s prints for them, the
// listening sockets with their queue fill, their drops over the interval
// and their owners' descriptors, the tcp_metrics cache, and the findings,
// most severe first.
//
// -json prints one object:
//
//	{"kernel": "6.18.44", "netns": "host" | "pid N" | PATH, "interval_s": 3,
//	 "sysctl": {"net.ipv4.tcp_tw_recycle": null, "net.ipv4.tcp_timestamps": 1, ...},
//	 "counters": {"ListenOverflows": 75, "PAWSTimewait": 0, ...},
//	 "listeners": [{"addr": "127.0.0.1:8080", "accept_queue": 5, "backlog": 4, "drops": 75,
//	                "owners": [{"pid": 12, "comm": "pawsd", "fds": 9, "fd_limit": 1024}]}],
//	 "tcp_metrics": {"entries": 2, "tw_timestamps": [{"peer": "10.0.0.7", "tsval": 123, "age_s": 4}]},
//	 "findings": [{"check": "accept-queue-full", "severity": "critical", "listener": "127.0.0.1:8080",
//	               "evidence": "...", "explanation": "...", "remedy": "..."}]}
//
// Sysctl names are the dotted /proc/sys names of paws.SysctlNames, with
// the value as /proc/sys prints it, or null when the sysctl is absent or
// could not be read. Counter names are the bare kernel names of the paws
// counter set (paws.Counter.Name: "ListenOverflows" for TcpExt,
// "PassiveOpens" for Tcp), as in /proc/net/netstat and /proc/net/snmp
// without the "TcpExt:" or "Tcp:" prefix; the value is the increase over
// the interval. Only counters this kernel has are listed, so a missing
// name means absent, not zero; with -interval 0 the object is empty.
// A listener's "drops" is how many SYNs and handshake ACKs the kernel
// dropped on its behalf over the interval (the rise of its sk_drops, "ss
// -ltnm" d<N>); it is left out when unknown: with -interval 0, and on
// kernels before 4.9, which may not count it.
//
// Exit status: 0 when no finding is critical, 1 when one is, 2 on a usage
// error or when the namespace cannot be read (one line on standard error).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/sysctl"
	"github.com/paws-go/paws/tcpdiag"
)

const usage = "usage: diagnose [-pid N | -netns PATH] [-interval D] [-json]"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	target   observe.Target
	interval time.Duration
	json     bool
}

// parse reads the command line. The error is one line.
func parse(args []string) (options, error) {
	var o options
	fl := flag.NewFlagSet("diagnose", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	o.target.AddFlags(fl)
	fl.DurationVar(&o.interval, "interval", 3*time.Second, "compare counters over `D`; 0 for one reading")
	fl.BoolVar(&o.json, "json", false, "print JSON")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b strings.Builder
			fl.SetOutput(&b)
			fl.PrintDefaults()
			return o, fmt.Errorf("%w\n%s\n%s", err, usage, b.String())
		}
		return o, err
	}
	switch {
	case fl.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	case o.target.PID < 0:
		return o, fmt.Errorf("-pid %d: not a process id", o.target.PID)
	case o.target.PID != 0 && o.target.NetNS != "":
		return o, errors.New("-pid and -netns name two namespaces; give one")
	case o.interval < 0:
		return o, fmt.Errorf("-interval %v is negative", o.interval)
	}
	return o, nil
}

// run is the program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		_, msg, _ := strings.Cut(err.Error(), "\n")
		fmt.Fprint(stdout, msg)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "diagnose: %s (%s)\n", oneLine(err), usage)
		return 2
	}
	ob, err := watch(o.target, o.interval, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "diagnose: %s\n", oneLine(err))
		return 2
	}
	r := newReport(ob)
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep "accept queue 5 > backlog 4" readable
		err = enc.Encode(r)
	} else {
		err = r.write(stdout, ob)
	}
	if err != nil {
		fmt.Fprintf(stderr, "diagnose: %s\n", oneLine(err))
		return 2
	}
	for _, f := range r.Findings {
		if f.Severity == paws.SeverityCritical {
			return 1
		}
	}
	return 0
}

// watch observes t twice, interval apart (once for a zero interval), and
// returns the last Observation. Partial failures are warned about on
// stderr.
func watch(t observe.Target, interval time.Duration, stderr io.Writer) (*observe.Observation, error) {
	obs, err := observe.Open(t)
	if err != nil {
		return nil, err
	}
	defer obs.Close()
	ob, err := obs.Observe()
	if err == nil && interval > 0 {
		time.Sleep(interval)
		ob, err = obs.Observe()
	}
	if err != nil {
		return nil, err
	}
	errs := []error{ob.SysctlErr, ob.DeltaErr, ob.OwnersErr}
	if !errors.Is(ob.MetricsErr, fs.ErrNotExist) { // no tcp_metrics before 3.7: not worth a warning
		errs = append(errs, ob.MetricsErr)
	}
	for _, e := range errs {
		if e != nil {
			fmt.Fprintf(stderr, "diagnose: warning: %s\n", oneLine(e))
		}
	}
	return ob, nil
}

// oneLine joins the lines of err's message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// unreadable returns the sysctls that exist but could not be read: the
// *sysctl.Error values in the tree of err.
func unreadable(err error) map[string]bool {
	out := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *sysctl.Error:
			out[string(e.Name)] = true
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		default:
			walk(errors.Unwrap(err))
		}
	}
	walk(err)
	return out
}

// report is the JSON output.
type report struct {
	Kernel    string            `json:"kernel"`
	NetNS     string            `json:"netns"`
	IntervalS float64           `json:"interval_s"`
	Sysctl    map[string]*int   `json:"sysctl"`
	Counters  map[string]uint64 `json:"counters"`
	Listeners []listener        `json:"listeners"`
	Metrics   metrics           `json:"tcp_metrics"`
	Findings  []paws.Finding    `json:"findings"`

	sysctlOrder []string
}

type listener struct {
	Addr        string  `json:"addr"`
	AcceptQueue uint32  `json:"accept_queue"`
	Backlog     uint32  `json:"backlog"`
	Drops       *uint64 `json:"drops,omitempty"`
	Owners      []owner `json:"owners"`
}

type owner struct {
	PID     int    `json:"pid"`
	Comm    string `json:"comm"`
	FDs     int    `json:"fds"`
	FDLimit uint64 `json:"fd_limit"`
}

type metrics struct {
	Entries      int           `json:"entries"`
	TWTimestamps []twTimestamp `json:"tw_timestamps"`
}

// twTimestamp is a per-peer TSval cached for per-host PAWS (3.7 to 4.11).
type twTimestamp struct {
	Peer  string  `json:"peer"`
	TSval uint32  `json:"tsval"`
	AgeS  float64 `json:"age_s"`
	Fresh bool    `json:"fresh"`
}

func newReport(ob *observe.Observation) *report {
	h := &ob.Host
	r := &report{
		Kernel:    h.Profile.Kernel.String(),
		NetNS:     ob.Target.String(),
		IntervalS: h.Interval.Seconds(),
		Sysctl:    map[string]*int{},
		Counters:  map[string]uint64{},
		Listeners: []listener{},
		Findings:  paws.Diagnose(*h),
	}
	if r.Findings == nil {
		r.Findings = []paws.Finding{}
	}
	bad := unreadable(ob.SysctlErr)
	for _, n := range paws.SysctlNames() {
		r.sysctlOrder = append(r.sysctlOrder, n)
		r.Sysctl[n] = nil
		if v, ok := h.Settings.Sysctl(n); ok && h.Profile.HasSysctl(n) && !slices.Contains(h.Absent, n) && !bad[n] {
			r.Sysctl[n] = &v
		}
	}
	if h.Interval > 0 {
		for c := range paws.Counter(paws.NumCounters) {
			if h.Observed.Has(c) {
				r.Counters[c.Name()] = h.Deltas[c]
			}
		}
	}
	for _, l := range h.Listeners {
		jl := listener{Addr: l.Addr.String(), AcceptQueue: l.AcceptQueue, Backlog: l.Backlog, Owners: []owner{}}
		if l.DropsKnown {
			jl.Drops = &l.Drops
		}
		for _, p := range l.Owners {
			jl.Owners = append(jl.Owners, owner{PID: p.PID, Comm: p.Command, FDs: p.OpenFiles, FDLimit: p.MaxOpenFiles})
		}
		r.Listeners = append(r.Listeners, jl)
	}
	r.Metrics = metrics{Entries: len(ob.Metrics), TWTimestamps: []twTimestamp{}}
	for _, m := range ob.Metrics {
		if m.Has(tcpdiag.FieldTWTimestamp) && m.TWTSVal != 0 {
			r.Metrics.TWTimestamps = append(r.Metrics.TWTimestamps, twTimestamp{
				Peer: m.Peer.String(), TSval: m.TWTSVal, AgeS: m.TWTSValAge.Seconds(), Fresh: m.TWTimestampFresh()})
		}
	}
	return r
}
