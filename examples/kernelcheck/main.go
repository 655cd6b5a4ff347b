// This program demonstrates package internal/kernelcheck: it plays each
// scenario (accept-queue overflow, SYN queue without cookies, TIME_WAIT
// PAWS behind a port-reusing NAT with tcp_rfc1337 0 and 1, per-host PAWS)
// on the running kernel, in network namespaces it creates and removes,
// and says per scenario whether the kernel did what the evaluator
// predicts, SYN by SYN and counter by counter.
//
// Usage:
//
//	kernelcheck [-run REGEXP] [-keep DIR] [-kernel RELEASE] [-v]
//
// With -kernel the evaluator applies the rules of another release, which
// shows the rules in which that release and the running kernel differ.
//
// It exits 0 when every scenario agrees or does not apply, 1 when one
// differs or is inconclusive, and 2 with one line when it cannot run (not
// root, a tool missing).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/internal/kernelcheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the program with the command-line arguments args and returns
// its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kernelcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runRE := fs.String("run", "", "run only the scenarios whose name matches `regexp`")
	keep := fs.String("keep", "", "keep each scenario's capture as `dir`/NAME.pcap")
	verbose := fs.Bool("v", false, "list every SYN")
	kernel := fs.String("kernel", "", "evaluate with the rules of kernel `release` (e.g. 6.12.0) instead of the running kernel's")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	re, err := regexp.Compile(*runRE)
	if err != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: kernelcheck [-run regexp] [-keep dir] [-kernel release] [-v]")
		return 2
	}
	opts := kernelcheck.Options{Dir: *keep}
	if *kernel != "" {
		if opts.Kernel, err = paws.ParseKernelVersion(*kernel); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	if err := kernelcheck.Available(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	code := 0
	for _, sc := range kernelcheck.Scenarios() {
		if !re.MatchString(sc.Name) {
			continue
		}
		r, err := sc.Run(context.Background(), opts)
		if errors.Is(err, kernelcheck.ErrUnavailable) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: error: %v\n", sc.Name, err)
			code = 1
			continue
		}
		if err := r.Format(stdout, *verbose); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if r.Status == kernelcheck.StatusDiffers || r.Status == kernelcheck.StatusInconclusive {
			code = 1
		}
	}
	return code
}
