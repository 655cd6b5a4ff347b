package kernelcheck

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/netstat"
	"github.com/paws-go/paws/pcapts"
)

// evaluation is what the evaluator makes of a capture.
type evaluation struct {
	syns   []pcapts.SYN
	totals paws.Counters
	queues paws.Queues
}

// evaluate feeds the segments of the capture in r captured between from and
// to (inclusive) to a pcapts Analyzer with an Evaluator made from cfg, and
// returns every client SYN with its observed and predicted reaction, in
// time order, the predicted counter totals and the queues at to.
func evaluate(r io.Reader, cfg paws.Config, from, to time.Time) (*evaluation, error) {
	ev, err := paws.NewEvaluator(cfg)
	if err != nil {
		return nil, fmt.Errorf("evaluator: %w", err)
	}
	var syns []pcapts.SYN
	a := pcapts.NewAnalyzer(pcapts.Config{Evaluator: ev, OnSYN: func(s pcapts.SYN) { syns = append(syns, s) }})
	rd, err := pcapts.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	for rd.Next() {
		s := rd.Segment()
		if s.Time.Before(from) || s.Time.After(to) {
			continue
		}
		a.Add(s)
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	a.Flush()
	ev.Advance(paws.TimeOf(to))
	// OnSYN sees a SYN once its outcome is known; report them as sent.
	slices.SortStableFunc(syns, func(x, y pcapts.SYN) int { return x.Time.Compare(y.Time) })
	return &evaluation{syns: syns, totals: ev.Totals(), queues: ev.Queues()}, nil
}

// compareCounters pairs the predicted totals with the observed deltas of
// every counter the evaluator models that either side moved.
func compareCounters(predicted paws.Counters, observed *netstat.Delta) []CounterCheck {
	var out []CounterCheck
	for c := range paws.Counter(paws.NumCounters) {
		obs, present := observed.Get(netstat.NewCounter(c.Group(), c.Name()))
		if predicted[c] == 0 && obs == 0 {
			continue
		}
		out = append(out, CounterCheck{Counter: c, Predicted: predicted[c], Observed: obs, Present: present})
	}
	return out
}

// verdict sets r.Status from the comparison, the capture's completeness
// and unexercised, the scenario's reason why its traffic proved nothing
// ("" when it did).
func (r *Result) verdict(unexercised string) {
	switch {
	case len(r.Differences()) > 0:
		r.Status = StatusDiffers
	case r.Dropped > 0:
		r.Status, r.Note = StatusInconclusive, fmt.Sprintf("tcpdump lost %d packets", r.Dropped)
	case unexercised != "":
		r.Status, r.Note = StatusInconclusive, unexercised
	default:
		r.Status = StatusAgrees
	}
}

// observed returns the observed delta of c, 0 when the kernel lacks it.
func (r *Result) observed(c paws.Counter) uint64 {
	for _, cc := range r.Counters {
		if cc.Counter == c {
			return cc.Observed
		}
	}
	return 0
}
