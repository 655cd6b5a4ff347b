// This program demonstrates the PAWS evaluator on a scenario file: it
// replays the incident the file describes and prints, per event, what the
// kernel does with it and which counters move.
//
//	pawseval [-json] [-check] [-explain] FILE
//
// FILE is a scenario (see paws.ParseScenario), "-" for standard input.
// -json prints {"results": [...], "totals": {...}}; -check compares the
// results with the file's "expect" objects and exits with status 1 on a
// difference; -explain adds a sentence per event to the table.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/paws-go/paws"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("pawseval: ")
	asJSON := flag.Bool("json", false, "print JSON")
	check := flag.Bool("check", false, "compare with the file's expectations, exit 1 on a difference")
	explain := flag.Bool("explain", false, "print an explanation under each row")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: pawseval [-json] [-check] [-explain] FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ok, err := run(os.Stdout, flag.Arg(0), *asJSON, *check, *explain)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

// run evaluates the scenario in path and writes the report to w. It
// reports false when check is set and a result differs from the file.
func run(w io.Writer, path string, asJSON, check, explain bool) (bool, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return false, err
		}
		defer f.Close()
		r = f
	}
	s, err := paws.ReadScenario(r)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	res, e, err := s.Run()
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if asJSON {
		err = writeJSON(w, res, e.Totals())
	} else {
		err = writeTable(w, s, res, e.Totals(), explain)
	}
	if err != nil {
		return false, err
	}
	if !check {
		return true, nil
	}
	ms := s.Check(res)
	for _, m := range ms {
		fmt.Fprintf(w, "MISMATCH %s\n", m)
	}
	return len(ms) == 0, nil
}

type jsonResult struct {
	Index       int               `json:"index"`
	Outcome     string            `json:"outcome"`
	Reason      string            `json:"reason"`
	Counters    map[string]uint64 `json:"counters"`
	Explanation string            `json:"explanation"`
}

func writeJSON(w io.Writer, res []paws.Result, totals paws.Counters) error {
	out := struct {
		Results []jsonResult      `json:"results"`
		Totals  map[string]uint64 `json:"totals"`
	}{Results: make([]jsonResult, len(res)), Totals: totals.Map()}
	for i, r := range res {
		out.Results[i] = jsonResult{i, r.Outcome.String(), r.Reason.String(), r.Counters.Map(), r.Explain()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeTable(w io.Writer, s *paws.Scenario, res []paws.Result, totals paws.Counters, explain bool) error {
	p := s.Profile
	fmt.Fprintf(w, "kernel %s (era %s), listener %s backlog %d\n", p.Kernel, p.Era, s.Listener.Addr, s.Listener.Backlog)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTIME\tEVENT\tSOURCE\tTSVAL\tOUTCOME\tREASON\tCOUNTERS")
	start := s.Start()
	for i, r := range res {
		ev := r.Event
		ts := "-"
		if ev.HasTS {
			ts = ev.TSval.String()
		}
		src := ev.Src.String()
		if ev.Type == paws.EventAccept {
			src = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i,
			strconv.FormatFloat(ev.Time.Sub(start).Seconds(), 'f', 3, 64),
			ev.Type, src, ts, r.Outcome, r.Reason, r.Counters)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if explain {
		for i, r := range res {
			fmt.Fprintf(w, "%d: %s\n", i, r.Explain())
		}
	}
	_, err := fmt.Fprintf(w, "totals: %s\n", totals)
	return err
}
