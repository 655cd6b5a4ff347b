// This program demonstrates paws as a Prometheus exporter: at every scrape
// of /metrics it reads one network namespace (sysctls, /proc/net/netstat
// and snmp, the listeners over inet_diag and their owners), runs
// paws.Diagnose on it and exports:
//
//   - per listener address: paws_listener_accept_queue,
//     paws_listener_backlog and paws_listener_sockets (ss -ltn's Recv-Q,
//     Send-Q, and the SO_REUSEPORT group size);
//   - per process holding a listener: paws_process_open_fds and
//     paws_process_max_fds;
//   - the kernel counters of the listen path as counters, named after the
//     kernel's: paws_tcpext_paws_passive_total (TcpExt:PAWSPassive),
//     paws_tcpext_listen_overflows_total, paws_tcpext_paws_timewait_total,
//     paws_tcpext_tcp_req_q_full_drop_total, ... A counter this kernel
//     does not have (PAWSPassive after 4.11, PAWSTimewait before 6.16)
//     is not exported, rather than exported as 0;
//   - sysctls as gauges (paws_sysctl_net_ipv4_tcp_tw_recycle, ...), also
//     only when present, and paws_kernel_info{release};
//   - paws_findings{check,severity}: the number of findings of each check;
//   - paws_scrape_success, paws_scrape_duration_seconds and
//     paws_scrape_partial{part}.
//
// The counter deltas that Diagnose reads are those since the previous
// scrape. Concurrent scrapes share one reading; two Prometheus servers
// scraping in turn each see the deltas since the other's scrape, which
// changes nothing for the counters themselves (rate() is computed by
// Prometheus) but halves the interval of paws_findings.
//
// alerts.yml beside this file holds alerting rules for these metrics.
//
// Usage:
//
//	exporter [-listen ADDR] [-pid N | -netns PATH]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
}

// parseFlags reads the command line. Errors are one line.
func parseFlags(args []string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("exporter", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.listen, "listen", ":9181", "serve /metrics on `addr:port`")
	c.target.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "usage: exporter [-listen ADDR] [-pid N | -netns PATH]")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return c, err
	}
	if fs.NArg() != 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// handler serves /metrics from a registry holding only col.
func handler(col prometheus.Collector, errlog io.Writer) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(col); err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:       lineLogger{errlog},
		ErrorHandling:  promhttp.ContinueOnError,
		CoalesceGather: true,
	}))
	return m, nil
}

// lineLogger writes promhttp's errors to w, one line each.
type lineLogger struct{ w io.Writer }

func (l lineLogger) Println(v ...any) {
	fmt.Fprintf(l.w, "exporter: %s\n", fmt.Sprint(v...))
}

// run is the program; it returns the exit status once ctx is done or the
// server fails. Every error is one line on stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "exporter: %v (see -h)\n", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "exporter: %v\n", err)
		return 1
	}
	obs, err := observe.Open(c.target)
	if err != nil {
		return fail(err)
	}
	defer obs.Close()
	if _, err := obs.Observe(); err != nil {
		return fail(err)
	}
	h, err := handler(newCollector(obs, stderr), stderr)
	if err != nil {
		return fail(err)
	}
	if err := serve.ListenAndRun(ctx, c.listen, h, stderr, "exporter", "/metrics", c.target); err != nil {
		return fail(err)
	}
	return 0
}
