// This program demonstrates package pcapts: it reads a pcap or pcapng
// capture (optionally gzip-compressed) and reports, per client address,
// the SYNs sent and how the server reacted, the TSval clocks found behind
// the address (hosts behind NAT, per-connection offsets), and with
// -kernel, for every SYN the reaction the kernel's rules predict and the
// most likely cause of each unanswered one.
//
// Usage:
//
//	pcapaudit FILE [-kernel VERSION] [-sysctl name=value ...] [-listen ADDR:PORT] [-backlog N] [-json] [-all-syns]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/pcapts"
)

type sysctlFlags []string

func (s *sysctlFlags) String() string     { return strings.Join(*s, ",") }
func (s *sysctlFlags) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	file     string
	kernel   string
	sysctls  sysctlFlags
	listen   string
	backlog  int
	json     bool
	allSYNs  bool
	maxSYNs  int
	progress bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("pcapaudit: ")
	var o options
	fs := flag.NewFlagSet("pcapaudit", flag.ExitOnError)
	fs.StringVar(&o.kernel, "kernel", "", "server kernel release (e.g. 3.10.0-1160.el7, 6.18.44): predict each SYN's fate")
	fs.Var(&o.sysctls, "sysctl", "server sysctl `name=value` (repeatable), e.g. net.ipv4.tcp_tw_recycle=1")
	fs.StringVar(&o.listen, "listen", "", "server listener `addr:port` (default: destination of the first SYN)")
	fs.IntVar(&o.backlog, "backlog", 4096, "listen() backlog of the server (clamped by net.core.somaxconn)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.allSYNs, "all-syns", false, "list every SYN, not only those not answered or not predicted")
	fs.IntVar(&o.maxSYNs, "max-syns", 10000, "list at most this many SYNs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pcapaudit FILE [flags]\n")
		fs.PrintDefaults()
	}
	// Accept the file before or after the flags.
	args := os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.file, args = args[0], args[1:]
	}
	fs.Parse(args)
	if o.file == "" && fs.NArg() == 1 {
		o.file = fs.Arg(0)
	} else if o.file == "" || fs.NArg() != 0 {
		fs.Usage()
		os.Exit(2)
	}
	o.progress = isTerminal(os.Stderr)
	rep, err := run(o)
	if rep != nil {
		if o.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", " ")
			if err := enc.Encode(rep); err != nil {
				log.Fatalf("writing JSON: %v", err)
			}
		} else {
			rep.print(os.Stdout)
		}
	}
	if err != nil {
		log.Fatalf("%v", err)
	}
}

// report is the JSON form of the audit.
type report struct {
	Packets   uint64            `json:"packets"`
	TCP       uint64            `json:"tcp"`
	SYN       int               `json:"syn"`
	Skipped   map[string]uint64 `json:"skipped"`
	Hosts     []host            `json:"hosts"`
	SYNs      []synRow          `json:"syns"`
	Omitted   int               `json:"syns_omitted,omitempty"`
	Kernel    string            `json:"kernel,omitempty"`
	Listener  string            `json:"listener,omitempty"`
	Evicted   uint64            `json:"evicted_flows,omitempty"`
	Untracked uint64            `json:"untracked_syns,omitempty"`
	Error     string            `json:"error,omitempty"`
}

type host struct {
	Addr          netip.Addr `json:"addr"`
	SYN           int        `json:"syn"`
	SYNRetrans    int        `json:"syn_retrans"`
	Answered      int        `json:"answered"`
	ACKAnswered   int        `json:"ack_answered"`
	RSTAnswered   int        `json:"rst_answered"`
	Unanswered    int        `json:"unanswered"`
	TSRegressions int        `json:"ts_regressions"`
	NoTS          int        `json:"no_timestamp_syns"`
	Regime        string     `json:"regime"`
	Clocks        int        `json:"clocks"`
	MinHosts      int        `json:"min_hosts"`
	ClockDetail   []clock    `json:"clock_detail"`
}

type clock struct {
	Hz     float64 `json:"hz"`
	Offset uint32  `json:"offset"`
	SYNs   int     `json:"syns"`
	Flows  int     `json:"flows"`
}

type synRow struct {
	Time      time.Time      `json:"time"`
	Src       netip.AddrPort `json:"src"`
	Dst       netip.AddrPort `json:"dst"`
	TSval     *uint32        `json:"tsval"`
	Retrans   bool           `json:"retransmission"`
	Observed  string         `json:"observed"`
	Predicted string         `json:"predicted,omitempty"`
	Cause     string         `json:"cause,omitempty"`
	Cached    *uint32        `json:"cached_tsval,omitempty"`
	Detail    string         `json:"detail,omitempty"`
}

func run(o options) (*report, error) {
	f, err := os.Open(o.file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep := &report{}
	cfg := pcapts.Config{}
	if o.kernel != "" {
		ev, listener, err := evaluator(o)
		if err != nil {
			return nil, err
		}
		cfg.Evaluator = ev
		rep.Kernel, rep.Listener = o.kernel, listener.String()
	}
	cfg.OnSYN = func(s pcapts.SYN) {
		e := s.Explanation
		interesting := s.Observed != pcapts.OutcomeAnswered || (e.Valid && e.Predicted != s.Observed)
		if !o.allSYNs && !interesting {
			return
		}
		if len(rep.SYNs) >= o.maxSYNs {
			rep.Omitted++
			return
		}
		row := synRow{Time: s.Time.UTC(), Src: s.Flow.Src, Dst: s.Flow.Dst, Retrans: s.Retransmission, Observed: s.Observed.String()}
		if s.HasTimestamp {
			v := s.TSval
			row.TSval = &v
		}
		if e.Valid {
			row.Predicted, row.Cause, row.Detail = e.Predicted.String(), e.Cause.String(), e.Text
			if e.HasCached {
				v := uint32(e.Cached)
				row.Cached = &v
			}
		}
		rep.SYNs = append(rep.SYNs, row)
	}
	st, _ := f.Stat()
	var in io.Reader = f
	var pr *progressReader
	if o.progress && st != nil && st.Size() > 32<<20 {
		pr = &progressReader{r: f, total: st.Size(), out: os.Stderr}
		in = pr
	}
	r, err := pcapts.NewReader(in)
	if err != nil {
		return nil, err
	}
	a := pcapts.NewAnalyzer(cfg)
	for r.Next() {
		a.Add(r.Segment())
	}
	a.Flush()
	if pr != nil {
		pr.done()
	}
	stats := r.Stats()
	ar := a.Report()
	rep.Packets, rep.TCP, rep.Skipped = stats.Packets, stats.TCP, stats.SkippedByReason()
	rep.Evicted, rep.Untracked = ar.EvictedFlows, ar.UntrackedSYNs
	sort.SliceStable(rep.SYNs, func(i, j int) bool { return rep.SYNs[i].Time.Before(rep.SYNs[j].Time) })
	for _, h := range ar.Hosts {
		rep.SYN += h.SYNs
		out := host{
			Addr: h.Addr, SYN: h.SYNs, SYNRetrans: h.Retransmissions, Answered: h.Answered, ACKAnswered: h.ACKAnswered,
			RSTAnswered: h.RSTAnswered, Unanswered: h.Unanswered, TSRegressions: h.TSRegressions, NoTS: h.NoTimestampSYNs,
			Regime: h.Regime.String(), Clocks: h.ClockCount, MinHosts: h.MinHosts, ClockDetail: []clock{},
		}
		for _, c := range h.Clocks {
			out.ClockDetail = append(out.ClockDetail, clock{Hz: c.Hz, Offset: c.Offset, SYNs: c.SYNs, Flows: c.Flows})
		}
		rep.Hosts = append(rep.Hosts, out)
	}
	if rep.SYNs == nil {
		rep.SYNs = []synRow{}
	}
	if err := r.Err(); err != nil {
		rep.Error = err.Error()
		return rep, err
	}
	return rep, nil
}

// evaluator builds the kernel model from the flags; the listener defaults
// to the destination of the capture's first SYN, and the model's clock
// starts at the first packet.
func evaluator(o options) (*paws.Evaluator, netip.AddrPort, error) {
	v, err := paws.ParseKernelVersion(o.kernel)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	p := paws.ProfileFor(v)
	s := paws.DefaultSettings(p)
	for _, kv := range o.sysctls {
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(val)
		if !ok || err != nil {
			return nil, netip.AddrPort{}, fmt.Errorf("-sysctl %q: want name=integer", kv)
		}
		if err := s.SetSysctl(name, n); err != nil {
			return nil, netip.AddrPort{}, err
		}
	}
	start, first, err := firstSYN(o.file)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	listener := first
	if o.listen != "" {
		if listener, err = netip.ParseAddrPort(o.listen); err != nil {
			return nil, netip.AddrPort{}, fmt.Errorf("-listen: %w", err)
		}
	}
	ev, err := paws.NewEvaluator(paws.Config{
		Profile: p, Settings: s, Start: paws.TimeOf(start),
		Listener: paws.Listener{Addr: listener, Backlog: o.backlog},
	})
	return ev, listener, err
}

// firstSYN returns the time of the first segment and the destination of
// the first SYN.
func firstSYN(name string) (time.Time, netip.AddrPort, error) {
	f, err := os.Open(name)
	if err != nil {
		return time.Time{}, netip.AddrPort{}, err
	}
	defer f.Close()
	r, err := pcapts.NewReader(f)
	if err != nil {
		return time.Time{}, netip.AddrPort{}, err
	}
	var start time.Time
	for r.Next() {
		s := r.Segment()
		if start.IsZero() {
			start = s.Time
		}
		if s.Flags&(pcapts.FlagSYN|pcapts.FlagACK) == pcapts.FlagSYN {
			return start, s.Flow.Dst, nil
		}
	}
	if err := r.Err(); err != nil {
		return time.Time{}, netip.AddrPort{}, err
	}
	return time.Time{}, netip.AddrPort{}, errors.New("no SYN in the capture: give -listen")
}

func (rep *report) print(w io.Writer) {
	fmt.Fprintf(w, "%d packets, %d TCP segments, %d SYNs", rep.Packets, rep.TCP, rep.SYN)
	if len(rep.Skipped) > 0 {
		var parts []string
		for k, v := range rep.Skipped {
			parts = append(parts, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "; skipped: %s", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if rep.Kernel != "" {
		fmt.Fprintf(w, "predictions for kernel %s, listener %s\n", rep.Kernel, rep.Listener)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSYN\tRETRANS\tANSWERED\tACK\tRST\tUNANSWERED\tTS-REGR\tNO-TS\tREGIME\tCLOCKS\tHOSTS≥")
	for _, h := range rep.Hosts {
		fmt.Fprintf(tw, "%v\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\n", h.Addr, h.SYN, h.SYNRetrans, h.Answered, h.ACKAnswered,
			h.RSTAnswered, h.Unanswered, h.TSRegressions, h.NoTS, h.Regime, h.Clocks, h.MinHosts)
	}
	tw.Flush()
	for _, h := range rep.Hosts {
		if h.Regime != "multiple-clocks" && h.Regime != "mixed" {
			continue
		}
		for i, c := range h.ClockDetail {
			if c.Flows > 1 {
				fmt.Fprintf(w, "  %v clock %d: %g Hz, TSval %d at capture start, %d SYNs in %d connections\n", h.Addr, i+1, c.Hz, c.Offset, c.SYNs, c.Flows)
			}
		}
	}
	if len(rep.SYNs) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTIME\tSOURCE\tTSVAL\tOBSERVED\tPREDICTED\tCAUSE")
	for i, s := range rep.SYNs {
		ts := "-"
		if s.TSval != nil {
			ts = strconv.FormatUint(uint64(*s.TSval), 10)
		}
		cause := s.Cause
		if s.Cached != nil {
			cause += fmt.Sprintf(" (cached TSval %d)", *s.Cached)
		}
		fmt.Fprintf(tw, "%d\t%s\t%v\t%s\t%s\t%s\t%s\n", i+1, s.Time.Format("15:04:05.000000"), s.Src, ts, s.Observed, s.Predicted, cause)
	}
	tw.Flush()
	if rep.Omitted > 0 {
		fmt.Fprintf(w, "(%d more SYNs not listed; -max-syns)\n", rep.Omitted)
	}
}

// progressReader counts the bytes read and redraws a progress bar on a
// terminal at most every 200 ms, from the reading goroutine.
type progressReader struct {
	r     io.Reader
	n     int64
	total int64
	out   io.Writer
	last  time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		p.draw()
	}
	return n, err
}

func (p *progressReader) draw() {
	const width = 40
	frac := float64(p.n) / float64(p.total)
	full := int(frac * width)
	full = min(max(full, 0), width)
	fmt.Fprintf(p.out, "\r[%s%s] %5.1f%% %d/%d MiB", strings.Repeat("#", full), strings.Repeat(".", width-full), frac*100, p.n>>20, p.total>>20)
}

func (p *progressReader) done() {
	p.draw()
	fmt.Fprintln(p.out)
}
