package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/observe"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/sysctl"
	"github.com/paws-go/paws/tcpdiag"
)

func TestMetricName(t *testing.T) {
	for c, want := range map[paws.Counter]string{
		paws.PAWSPassive:          "paws_tcpext_paws_passive_total",
		paws.PAWSTimewait:         "paws_tcpext_paws_timewait_total",
		paws.ListenOverflows:      "paws_tcpext_listen_overflows_total",
		paws.TCPReqQFullDrop:      "paws_tcpext_tcp_req_q_full_drop_total",
		paws.TCPACKSkippedSynRecv: "paws_tcpext_tcp_ack_skipped_syn_recv_total",
		paws.TSEcrRejected:        "paws_tcpext_ts_ecr_rejected_total",
		paws.TCPSYNChallenge:      "paws_tcpext_tcp_syn_challenge_total",
		paws.TW:                   "paws_tcpext_tw_total",
		paws.SyncookiesSent:       "paws_tcpext_syncookies_sent_total",
		paws.PassiveOpens:         "paws_tcp_passive_opens_total",
	} {
		if got := metricName(c); got != want {
			t.Errorf("metricName(%s) = %q, want %q", c, got, want)
		}
	}
	seen := map[string]bool{}
	for i := range paws.NumCounters {
		n := metricName(paws.Counter(i))
		if seen[n] || !model.LegacyValidation.IsValidMetricName(n) {
			t.Errorf("metric name %q is a duplicate or invalid", n)
		}
		seen[n] = true
	}
}

// fake is a collector that emits one given observation.
type fake struct {
	*collector
	ob *observe.Observation
	fs []paws.Finding
}

func (f fake) Collect(ch chan<- prometheus.Metric) { f.emit(ch, f.ob, f.fs) }

// fullObservation has every counter of paws.Counter, every exported
// sysctl, a SO_REUSEPORT group and a process with a name that is not
// UTF-8.
func fullObservation(t *testing.T) *observe.Observation {
	t.Helper()
	var names, values strings.Builder
	for i := range paws.NumCounters {
		c := paws.Counter(i)
		if c.Group() != "TcpExt" {
			continue
		}
		fmt.Fprintf(&names, " %s", c.Name())
		fmt.Fprintf(&values, " %d", 100+i)
	}
	snap, err := netstat.Parse(strings.NewReader("TcpExt:" + names.String() + "\nTcpExt:" + values.String() + "\n" +
		"Tcp: RtoAlgorithm PassiveOpens AttemptFails\nTcp: 1 7 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddrPort("10.0.0.1:443")
	b := netip.MustParseAddrPort("[::]:80")
	web := tcpdiag.Process{PID: 42, Command: "web\xff", OpenFiles: 1024, MaxOpenFiles: 1024, AtFDLimit: true}
	return &observe.Observation{
		TCP: sysctl.TCP{
			Kernel:          paws.MustParseKernelVersion("4.9.0-3-amd64"),
			TWRecycle:       sysctl.ValueOf(true),
			Timestamps:      sysctl.ValueOf(sysctl.TimestampsOn),
			TWReuse:         sysctl.ValueOf(sysctl.TWReuseOff),
			SynCookies:      sysctl.ValueOf(sysctl.SynCookiesOn),
			SoMaxConn:       sysctl.ValueOf(128),
			MaxSynBacklog:   sysctl.ValueOf(256),
			AbortOnOverflow: sysctl.ValueOf(false),
		},
		Counters: snap,
		Listeners: []tcpdiag.Owned{
			{Listener: tcpdiag.Listener{Local: a, AcceptQueue: 1, Backlog: 128}, Processes: []tcpdiag.Process{web}},
			{Listener: tcpdiag.Listener{Local: a, AcceptQueue: 129, Backlog: 128}, Processes: []tcpdiag.Process{web}},
			{Listener: tcpdiag.Listener{Local: a, AcceptQueue: 3, Backlog: 128}, Processes: []tcpdiag.Process{web}},
			{Listener: tcpdiag.Listener{Local: b, AcceptQueue: 0, Backlog: 4096}},
		},
	}
}

func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	lint(t, mfs)
	m := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		m[mf.GetName()] = mf
	}
	return m
}

// lint fails t for each problem promlint reports.
func lint(t *testing.T, mfs []*dto.MetricFamily) {
	t.Helper()
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// value returns the value of the series of family name whose labels
// include labels (name, value pairs), and whether there is one.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}) {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestEmit(t *testing.T) {
	ob := fullObservation(t)
	fs := []paws.Finding{
		{Check: paws.CheckAcceptQueueFull, Severity: paws.SeverityCritical, Listener: netip.MustParseAddrPort("10.0.0.1:443")},
		{Check: paws.CheckFDLimit, Severity: paws.SeverityCritical},
		{Check: paws.CheckFDLimit, Severity: paws.SeverityCritical},
		{Check: paws.CheckPerHostPAWSRisk, Severity: paws.SeverityWarning},
	}
	mfs := gather(t, fake{newCollector(nil, nil), ob, fs})
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"paws_listener_accept_queue", []string{"addr", "10.0.0.1:443"}, 129},
		{"paws_listener_backlog", []string{"addr", "10.0.0.1:443"}, 128},
		{"paws_listener_sockets", []string{"addr", "10.0.0.1:443"}, 3},
		{"paws_listener_accept_queue", []string{"addr", "[::]:80"}, 0},
		{"paws_listener_backlog", []string{"addr", "[::]:80"}, 4096},
		{"paws_process_open_fds", []string{"pid", "42", "command", "web\uFFFD"}, 1024},
		{"paws_process_max_fds", []string{"pid", "42"}, 1024},
		{"paws_tcpext_paws_passive_total", nil, 100 + float64(paws.PAWSPassive)},
		{"paws_tcp_passive_opens_total", nil, 7},
		{"paws_sysctl_net_ipv4_tcp_tw_recycle", nil, 1},
		{"paws_sysctl_net_core_somaxconn", nil, 128},
		{"paws_sysctl_net_ipv4_tcp_syncookies", nil, 1},
		{"paws_kernel_info", []string{"release", "4.9.0-3-amd64"}, 1},
		{"paws_findings", []string{"check", "fd-limit", "severity", "critical"}, 2},
		{"paws_findings", []string{"check", "per-host-paws-risk", "severity", "warning"}, 1},
		{"paws_scrape_partial", []string{"part", "owners"}, 0},
	} {
		if got, ok := value(mfs, tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if n := len(mfs["paws_process_open_fds"].GetMetric()); n != 1 {
		t.Errorf("%d paws_process_open_fds series for one process holding three sockets", n)
	}
	if mfs["paws_tcpext_paws_passive_total"].GetType() != dto.MetricType_COUNTER {
		t.Error("paws_tcpext_paws_passive_total is not a counter")
	}

	// A kernel without tcp_tw_recycle and PAWSPassive exports neither,
	// rather than 0.
	ob.TCP.TWRecycle = sysctl.Value[bool]{}
	ob.Counters, _ = netstat.Parse(strings.NewReader("TcpExt: ListenOverflows PAWSTimewait\nTcpExt: 5 6\n"))
	mfs = gather(t, fake{newCollector(nil, nil), ob, nil})
	for _, name := range []string{"paws_sysctl_net_ipv4_tcp_tw_recycle", "paws_tcpext_paws_passive_total", "paws_tcp_passive_opens_total", "paws_findings"} {
		if _, ok := mfs[name]; ok {
			t.Errorf("%s exported for an absent value", name)
		}
	}
	if v, _ := value(mfs, "paws_tcpext_paws_timewait_total"); v != 6 {
		t.Errorf("paws_tcpext_paws_timewait_total = %v, want 6", v)
	}
}

// TestCollectHost scrapes this host's namespace with the real collector;
// without root the owners are partial, and promlint must still be clean.
func TestCollectHost(t *testing.T) {
	obs, err := observe.Open(observe.Target{})
	if err != nil {
		t.Skipf("cannot observe this host: %v", err)
	}
	defer obs.Close()
	if _, err := obs.Observe(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	mfs := gather(t, newCollector(obs, &log))
	if v, ok := value(mfs, "paws_scrape_success"); !ok || v != 1 {
		t.Errorf("paws_scrape_success = %v, %v; log: %s", v, ok, log.String())
	}
	if _, ok := value(mfs, "paws_tcpext_listen_overflows_total"); !ok {
		t.Error("no paws_tcpext_listen_overflows_total")
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-pid", "1", "-netns", "/x"}, 1, "not both"},
		{[]string{"-pid", "-3"}, 1, "pid -3"},
		{[]string{"-bogus"}, 2, "-bogus"},
		{[]string{"extra"}, 2, "extra"},
		{[]string{"-netns", "/nonexistent/netns"}, 1, "/nonexistent/netns"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := run(ctx, tc.args, &stderr)
		cancel()
		out := stderr.String()
		if code != tc.code || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "exporter: ") || !strings.Contains(out, tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and one line naming %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}

// rules is the part of a Prometheus rule file the test reads.
type rules struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			For         string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

var (
	promqlString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlGroup  = regexp.MustCompile(`\b(?:on|ignoring|by|without|group_left|group_right)\s*\([^()]*\)`)
	promqlRange  = regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`)
	promqlToken  = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?|(\d[\w.]*)`)
	promqlWords  = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true}
	promqlFuncs  = map[string]bool{
		"rate": true, "irate": true, "increase": true, "delta": true, "deriv": true, "changes": true, "resets": true,
		"sum": true, "min": true, "max": true, "avg": true, "count": true, "topk": true, "bottomk": true,
		"abs": true, "absent": true, "clamp_min": true, "clamp_max": true, "max_over_time": true, "min_over_time": true,
		"avg_over_time": true, "count_over_time": true, "label_replace": true, "vector": true, "scalar": true,
	}
)

// exprMetrics returns the metric names of a PromQL expression. It is a
// light check, not a parser (github.com/prometheus/prometheus/promql/parser
// would bring the whole Prometheus module into go.mod): brackets must
// balance, strings, label matchers, ranges and grouping label lists are
// removed, and every remaining identifier must be an operator keyword,
// a known function followed by "(", or a metric name.
func exprMetrics(expr string) ([]string, error) {
	e := promqlString.ReplaceAllString(expr, `""`)
	var stack []rune
	for _, r := range e {
		switch r {
		case '(', '[', '{':
			stack = append(stack, r)
		case ')', ']', '}':
			open := map[rune]rune{')': '(', ']': '[', '}': '{'}[r]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Errorf("unbalanced %q", r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	e = promqlRange.ReplaceAllString(e, " ")
	e = promqlGroup.ReplaceAllString(e, " ")
	var names []string
	for _, m := range promqlToken.FindAllStringSubmatch(e, -1) {
		id := m[1]
		switch {
		case m[3] != "":
			if _, err := strconv.ParseFloat(m[3], 64); err != nil {
				return nil, fmt.Errorf("stray %q: a duration outside a range, or not a number", m[3])
			}
		case promqlWords[id]:
		case m[2] != "":
			if !promqlFuncs[id] {
				return nil, fmt.Errorf("unknown function %q", id)
			}
		default:
			names = append(names, id)
		}
	}
	return names, nil
}

func TestExprMetrics(t *testing.T) {
	got, err := exprMetrics(`rate(a_total[5m]) > 0 or (rate(b{x="y)"}[1m]) > 0.8 unless on (job, instance) c) and sum by (k) (d)`)
	if err != nil || !slices.Equal(got, []string{"a_total", "b", "c", "d"}) {
		t.Errorf("exprMetrics = %q, %v", got, err)
	}
	for _, bad := range []string{`rate(a[5m]`, `a)`, `rat(a[5m])`, `a{x="1"]`, `a > 5m`} {
		if _, err := exprMetrics(bad); err == nil {
			t.Errorf("exprMetrics(%q): no error", bad)
		}
	}
}

// TestAlertRules checks alerts.yml: a valid rule file whose expressions
// name only metrics this exporter emits.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f rules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	emitted := map[string]bool{"paws_scrape_success": true, "paws_scrape_duration_seconds": true}
	for name := range gather(t, fake{newCollector(nil, nil), fullObservation(t), []paws.Finding{{Check: paws.CheckFDLimit, Severity: paws.SeverityCritical}}}) {
		emitted[name] = true
	}
	alerts := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || alerts[r.Alert] {
				t.Errorf("alerts.yml: rule without a name or a duplicate name %q", r.Alert)
			}
			alerts[r.Alert] = true
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("alerts.yml: %s: for %q: %v", r.Alert, r.For, err)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alerts.yml: %s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alerts.yml: %s: summary or description missing", r.Alert)
			}
			names, err := exprMetrics(r.Expr)
			if err != nil || len(names) == 0 {
				t.Errorf("alerts.yml: %s: expr %q: %v", r.Alert, r.Expr, err)
			}
			for _, n := range names {
				if !emitted[n] {
					t.Errorf("alerts.yml: %s: metric %q is not emitted by the exporter", r.Alert, n)
				}
			}
		}
	}
	if len(alerts) < 6 {
		t.Errorf("alerts.yml has %d rules", len(alerts))
	}
}
