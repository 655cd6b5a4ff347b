package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/netstat"
)

// width is the column at which explanations are wrapped.
const width = 100

// maxTWTimestamps bounds the tcp_metrics timestamps listed.
const maxTWTimestamps = 10

// write prints the report for a person.
func (r *report) write(out io.Writer, ob *observe.Observation) error {
	w := bufio.NewWriter(out)
	h := &ob.Host
	iv := "one reading"
	if h.Interval > 0 {
		iv = h.Interval.Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "diagnose: kernel %s, namespace %s, interval %s\n", r.Kernel, r.NetNS, iv)

	fmt.Fprintf(w, "\nSysctls\n")
	// What the numbers mean, for the sysctls whose numbers are modes or
	// not in the unit their name suggests.
	meaning := map[string]string{
		"net.ipv4.tcp_timestamps":        ob.TCP.Timestamps.V.String(),
		"net.ipv4.tcp_tw_reuse":          ob.TCP.TWReuse.V.String(),
		"net.ipv4.tcp_syncookies":        ob.TCP.SynCookies.V.String(),
		"net.ipv4.tcp_tw_reuse_delay":    "ms",
		"net.ipv4.tcp_invalid_ratelimit": "ms",
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, n := range r.sysctlOrder {
		v := "absent"
		switch {
		case r.Sysctl[n] != nil:
			v = fmt.Sprint(*r.Sysctl[n])
			if m, ok := meaning[n]; ok {
				v += " (" + m + ")"
			}
		case !slices.Contains(h.Absent, n) && h.Profile.HasSysctl(n):
			v = "unreadable"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", n, v)
	}
	tw.Flush()

	r.writeCounters(w, h)
	r.writeListeners(w, h)
	r.writeMetrics(w, ob)

	fmt.Fprintf(w, "\nFindings\n")
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "  none: nothing here drops SYNs now, and no setting makes it likely\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s %s", strings.ToUpper(f.Severity.String()), f.Check)
		if f.Listener.IsValid() {
			fmt.Fprintf(w, " %s", f.Listener)
		}
		fmt.Fprintln(w)
		wrap(w, "    evidence:    ", f.Evidence)
		wrap(w, "    explanation: ", f.Explanation)
		wrap(w, "    remedy:      ", f.Remedy)
	}
	return w.Flush()
}

func (r *report) writeCounters(w io.Writer, h *paws.Host) {
	if h.Interval <= 0 {
		fmt.Fprintf(w, "\nCounters: one reading, nothing compared\n")
		return
	}
	fmt.Fprintf(w, "\nCounters that moved in %s\n", h.Interval.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	moved := false
	for c := range paws.Counter(paws.NumCounters) {
		n := h.Deltas[c]
		if !h.Observed.Has(c) || n == 0 {
			continue
		}
		moved = true
		d := netstat.Describe(netstat.NewCounter(c.Group(), c.Name()), h.Profile.Kernel)
		fmt.Fprintf(tw, "  %s:%s\t+%d\t%s\n", c.Group(), c.Name(), n, d.Line(netstat.Uint64Value(n)))
	}
	if !moved {
		fmt.Fprintf(tw, "  none of the listen-path and PAWS counters moved\n")
	}
	tw.Flush()
}

func (r *report) writeListeners(w io.Writer, h *paws.Host) {
	fmt.Fprintf(w, "\nListeners\n")
	if len(h.Listeners) == 0 {
		fmt.Fprintf(w, "  none\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  ADDRESS\tRECV-Q\tSEND-Q\tFILL\tDROPS\tOWNERS (fds/limit)\n")
	for _, l := range h.Listeners {
		fill := float64(l.AcceptQueue) / (float64(l.Backlog) + 1) * 100
		drops := "-"
		if l.DropsKnown {
			drops = "+" + strconv.FormatUint(l.Drops, 10)
		}
		fmt.Fprintf(tw, "  %s\t%6d\t%6d\t%3.0f%%\t%5s\t%s\n", l.Addr, l.AcceptQueue, l.Backlog, fill, drops, ownerList(l.Owners))
	}
	tw.Flush()
}

func ownerList(ps []paws.HostProcess) string {
	if len(ps) == 0 {
		return "unknown"
	}
	var parts []string
	for _, p := range ps {
		s := fmt.Sprintf("%s (pid %d) %d/%d", p.Command, p.PID, p.OpenFiles, p.MaxOpenFiles)
		if p.AtFDLimit {
			s += " AT LIMIT"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (r *report) writeMetrics(w io.Writer, ob *observe.Observation) {
	if errors.Is(ob.MetricsErr, fs.ErrNotExist) {
		fmt.Fprintf(w, "\ntcp_metrics: not on this kernel\n")
		return
	}
	m := r.Metrics
	fmt.Fprintf(w, "\ntcp_metrics: %d entries, %d with a cached TIME_WAIT timestamp (per-host PAWS, kernels before 4.12)\n",
		m.Entries, len(m.TWTimestamps))
	for i, t := range m.TWTimestamps {
		if i == maxTWTimestamps {
			fmt.Fprintf(w, "  ... %d more\n", len(m.TWTimestamps)-i)
			break
		}
		state := "stale"
		if t.Fresh {
			state = "fresh: SYNs from this address with an older TSval are dropped"
		}
		fmt.Fprintf(w, "  %s tw_ts %d %gs ago, %s\n", t.Peer, t.TSval, t.AgeS, state)
	}
}

// wrap writes text after prefix, wrapped at width, continuation lines
// indented like the text.
func wrap(w io.Writer, prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}
