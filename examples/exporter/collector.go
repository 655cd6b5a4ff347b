package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/sysctl"
)

// collector is a prometheus.Collector that observes one network namespace
// at every scrape. Counter deltas handed to paws.Diagnose are those since
// the previous scrape (the first scrape compares with the reading run
// takes at start).
type collector struct {
	mu     sync.Mutex
	obs    *observe.Observer
	errlog io.Writer

	success, duration, partial *prometheus.Desc
	kernel, findings           *prometheus.Desc
	queue, backlog, sockets    *prometheus.Desc
	openFDs, maxFDs            *prometheus.Desc
	counters                   [paws.NumCounters]*prometheus.Desc
	sysctls                    []sysctlGauge
}

// sysctlGauge exports one sysctl; value reports false when the sysctl is
// absent, and then nothing is exported.
type sysctlGauge struct {
	desc  *prometheus.Desc
	value func(sysctl.TCP) (float64, bool)
}

func gauge[T any](f func(sysctl.TCP) sysctl.Value[T], num func(T) float64) func(sysctl.TCP) (float64, bool) {
	return func(t sysctl.TCP) (float64, bool) {
		v, ok := f(t).Get()
		return num(v), ok
	}
}

func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func intNum[T ~int | ~int32](v T) float64 { return float64(v) }

// metricName returns the exported name of a kernel counter:
// "paws_tcpext_paws_passive_total" for TcpExt:PAWSPassive.
func metricName(c paws.Counter) string {
	return "paws_" + strings.ToLower(c.Group()) + "_" + snake(c.Name()) + "_total"
}

// acronyms splits the kernel's names that run two acronyms together.
var acronyms = strings.NewReplacer("TCPACK", "TcpAck", "TCPSYN", "TcpSyn")

// snake turns a kernel counter name into snake case, keeping acronyms
// whole: "TCPReqQFullDrop" → "tcp_req_q_full_drop", "PAWSTimewait" →
// "paws_timewait", "TCPACKSkippedPAWS" → "tcp_ack_skipped_paws".
func snake(s string) string {
	r := []rune(acronyms.Replace(s))
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// newCollector returns a collector of obs. The caller takes a first
// reading of obs, the baseline of the first scrape's deltas. Collection
// errors are written to errlog, one line each.
func newCollector(obs *observe.Observer, errlog io.Writer) *collector {
	c := &collector{
		obs:      obs,
		errlog:   errlog,
		success:  prometheus.NewDesc("paws_scrape_success", "Whether the last scrape could read the namespace's counters and listeners (1) or not (0).", nil, nil),
		duration: prometheus.NewDesc("paws_scrape_duration_seconds", "How long reading and diagnosing the namespace took.", nil, nil),
		partial:  prometheus.NewDesc("paws_scrape_partial", "1 when part of the namespace could not be read: sysctls, or the owners of listeners (fd-limit findings need root).", []string{"part"}, nil),
		kernel:   prometheus.NewDesc("paws_kernel_info", "The kernel release (kernel.osrelease), value 1.", []string{"release"}, nil),
		findings: prometheus.NewDesc("paws_findings", "Number of findings of paws.Diagnose, by check and severity, over the interval since the previous scrape.", []string{"check", "severity"}, nil),
		queue:    prometheus.NewDesc("paws_listener_accept_queue", "Connections waiting for accept() on the listener (ss -ltn Recv-Q); with SO_REUSEPORT, on its fullest socket.", []string{"addr"}, nil),
		backlog:  prometheus.NewDesc("paws_listener_backlog", "Effective listen backlog (ss -ltn Send-Q) of the socket paws_listener_accept_queue reports; the queue is full, and SYNs are dropped, when it holds backlog+1.", []string{"addr"}, nil),
		sockets:  prometheus.NewDesc("paws_listener_sockets", "Listening sockets bound to the address (more than 1 with SO_REUSEPORT).", []string{"addr"}, nil),
		openFDs:  prometheus.NewDesc("paws_process_open_fds", "Open file descriptors of a process holding a listener.", []string{"pid", "command"}, nil),
		maxFDs:   prometheus.NewDesc("paws_process_max_fds", "Soft RLIMIT_NOFILE of a process holding a listener; at the limit accept() fails with EMFILE.", []string{"pid", "command"}, nil),
	}
	for i := range paws.NumCounters {
		k := paws.Counter(i)
		file := "netstat"
		if k.Group() == "Tcp" {
			file = "snmp"
		}
		c.counters[k] = prometheus.NewDesc(metricName(k), fmt.Sprintf("Kernel counter %s:%s of /proc/net/%s; exported only when the kernel has it.", k.Group(), k.Name(), file), nil, nil)
	}
	sys := func(name sysctl.Name, v func(sysctl.TCP) (float64, bool)) {
		c.sysctls = append(c.sysctls, sysctlGauge{
			desc:  prometheus.NewDesc("paws_sysctl_"+strings.ReplaceAll(string(name), ".", "_"), "Value of the sysctl "+string(name)+" in the namespace; not exported when the kernel does not have it.", nil, nil),
			value: v,
		})
	}
	sys(sysctl.NetIPv4TCPTWRecycle, gauge(func(t sysctl.TCP) sysctl.Value[bool] { return t.TWRecycle }, boolNum))
	sys(sysctl.NetIPv4TCPTimestamps, gauge(func(t sysctl.TCP) sysctl.Value[sysctl.TimestampsMode] { return t.Timestamps }, intNum))
	sys(sysctl.NetIPv4TCPTWReuse, gauge(func(t sysctl.TCP) sysctl.Value[sysctl.TWReuseMode] { return t.TWReuse }, intNum))
	sys(sysctl.NetIPv4TCPSynCookies, gauge(func(t sysctl.TCP) sysctl.Value[sysctl.SynCookiesMode] { return t.SynCookies }, intNum))
	sys(sysctl.NetCoreSoMaxConn, gauge(func(t sysctl.TCP) sysctl.Value[int] { return t.SoMaxConn }, intNum))
	sys(sysctl.NetIPv4TCPMaxSynBacklog, gauge(func(t sysctl.TCP) sysctl.Value[int] { return t.MaxSynBacklog }, intNum))
	sys(sysctl.NetIPv4TCPAbortOnOverflow, gauge(func(t sysctl.TCP) sysctl.Value[bool] { return t.AbortOnOverflow }, boolNum))
	return c
}

// descs returns every Desc the collector may emit.
func (c *collector) descs() []*prometheus.Desc {
	d := []*prometheus.Desc{c.success, c.duration, c.partial, c.kernel, c.findings, c.queue, c.backlog, c.sockets, c.openFDs, c.maxFDs}
	d = append(d, c.counters[:]...)
	for _, s := range c.sysctls {
		d = append(d, s.desc)
	}
	return d
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it observes the namespace,
// diagnoses it and emits the metrics. Scrapes are serialised.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	start := time.Now()
	c.mu.Lock()
	ob, err := c.obs.Observe()
	if err == nil {
		c.emit(ch, ob, paws.Diagnose(ob.Host))
	}
	c.mu.Unlock()
	ok := 1.0
	if err != nil {
		ok = 0
		fmt.Fprintf(c.errlog, "exporter: %v\n", err)
	}
	ch <- metric(c.success, prometheus.GaugeValue, ok)
	ch <- metric(c.duration, prometheus.GaugeValue, time.Since(start).Seconds())
}

// metric is prometheus.NewConstMetric that turns an error (a label value
// that is not UTF-8) into an invalid metric, which fails the scrape
// instead of the program.
func metric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// emit sends the metrics of one observation and its findings.
func (c *collector) emit(ch chan<- prometheus.Metric, ob *observe.Observation, fs []paws.Finding) {
	ch <- metric(c.partial, prometheus.GaugeValue, boolNum(ob.SysctlErr != nil), "sysctl")
	ch <- metric(c.partial, prometheus.GaugeValue, boolNum(ob.OwnersErr != nil), "owners")
	if !ob.TCP.Kernel.IsZero() {
		ch <- metric(c.kernel, prometheus.GaugeValue, 1, ob.TCP.Kernel.String())
	}
	for _, s := range c.sysctls {
		if v, ok := s.value(ob.TCP); ok {
			ch <- metric(s.desc, prometheus.GaugeValue, v)
		}
	}
	for i, d := range c.counters {
		k := paws.Counter(i)
		if v, ok := ob.Counters.Get(netstat.NewCounter(k.Group(), k.Name())); ok {
			ch <- metric(d, prometheus.CounterValue, float64(v))
		}
	}

	// One series per address: SO_REUSEPORT groups report their fullest
	// socket, so an alert on queue/backlog fires when any socket fills.
	type group struct {
		queue, backlog uint32
		sockets        int
	}
	groups := make(map[string]*group, len(ob.Listeners))
	seen := make(map[int]bool)
	for _, o := range ob.Listeners {
		l := o.Listener
		addr := l.Local.String()
		g := groups[addr]
		if g == nil {
			g = &group{queue: l.AcceptQueue, backlog: l.Backlog}
			groups[addr] = g
		} else if l.FillRatio() > float64(g.queue)/(float64(g.backlog)+1) {
			g.queue, g.backlog = l.AcceptQueue, l.Backlog
		}
		g.sockets++
		for _, p := range o.Processes {
			if seen[p.PID] {
				continue
			}
			seen[p.PID] = true
			pid, cmd := strconv.Itoa(p.PID), strings.ToValidUTF8(p.Command, "\uFFFD")
			ch <- metric(c.openFDs, prometheus.GaugeValue, float64(p.OpenFiles), pid, cmd)
			ch <- metric(c.maxFDs, prometheus.GaugeValue, float64(p.MaxOpenFiles), pid, cmd)
		}
	}
	for addr, g := range groups {
		ch <- metric(c.queue, prometheus.GaugeValue, float64(g.queue), addr)
		ch <- metric(c.backlog, prometheus.GaugeValue, float64(g.backlog), addr)
		ch <- metric(c.sockets, prometheus.GaugeValue, float64(g.sockets), addr)
	}

	type key struct {
		check    paws.Check
		severity paws.Severity
	}
	counts := make(map[key]int)
	for _, f := range fs {
		counts[key{f.Check, f.Severity}]++
	}
	for k, n := range counts {
		ch <- metric(c.findings, prometheus.GaugeValue, float64(n), string(k.check), k.severity.String())
	}
}
