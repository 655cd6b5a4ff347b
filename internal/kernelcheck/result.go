package kernelcheck

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paws-go/paws"
	"github.com/paws-go/paws/pcapts"
	"github.com/paws-go/paws/sysctl"
)

// Status is the verdict of one scenario.
type Status uint8

// Verdicts.
const (
	// StatusAgrees: every SYN got the reaction the evaluator predicted
	// and every counter moved by the predicted amount.
	StatusAgrees Status = iota + 1
	// StatusDiffers: at least one SYN or counter differs from the
	// prediction; Result.Differences lists them.
	StatusDiffers
	// StatusNotApplicable: the kernel lacks what the scenario tests
	// (Result.Note says what). It is neither a pass nor a failure.
	StatusNotApplicable
	// StatusInconclusive: the scenario ran and nothing differs, but the
	// traffic did not produce the condition the scenario tests, or the
	// capture is incomplete (Result.Note says which).
	StatusInconclusive
)

var statusNames = [...]string{"", "agrees", "differs", "not applicable", "inconclusive"}

// String returns "agrees", "differs", "not applicable" or "inconclusive".
func (s Status) String() string {
	if int(s) < len(statusNames) && s != 0 {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// CounterCheck compares one counter's predicted and observed delta.
type CounterCheck struct {
	Counter paws.Counter
	// Predicted is the evaluator's total for the capture.
	Predicted uint64
	// Observed is how far the server namespace's counter moved; Present
	// is false when the kernel does not print the counter.
	Observed uint64
	Present  bool
}

// Agrees reports whether the kernel moved the counter as predicted; a
// counter the kernel lacks agrees only with a prediction of zero.
func (c CounterCheck) Agrees() bool {
	if !c.Present {
		return c.Predicted == 0
	}
	return c.Predicted == c.Observed
}

// String formats the check as "ListenDrops predicted +3, observed +3".
func (c CounterCheck) String() string {
	obs := "absent from this kernel"
	if c.Present {
		obs = "+" + strconv.FormatUint(c.Observed, 10)
	}
	return fmt.Sprintf("%s predicted +%d, observed %s", c.Counter, c.Predicted, obs)
}

// QueueCheck compares the listener's accept queue at the end of the
// traffic, as the evaluator has it and as inet_diag reports it (ss Recv-Q).
type QueueCheck struct {
	Predicted, Observed int
}

// Result is what one scenario found.
type Result struct {
	// Scenario is the scenario's Name.
	Scenario string
	Status   Status
	// Note explains a status other than StatusAgrees or StatusDiffers.
	Note string
	// TCP are the server namespace's sysctls and kernel release; Profile
	// the evaluator's rules derived from them, or from Options.Kernel.
	TCP     sysctl.TCP
	Profile paws.Profile
	// RequestedBacklog is the backlog passed to listen(); Backlog the
	// effective one as inet_diag reports it (ss Send-Q), and
	// PredictedBacklog the evaluator's min(RequestedBacklog, somaxconn).
	RequestedBacklog, Backlog, PredictedBacklog int
	// SYNs are the client SYNs of the capture in time order, each with
	// its observed reaction and the evaluator's prediction.
	SYNs []pcapts.SYN
	// Counters compares every counter the evaluator predicts or the kernel
	// moved, among those the evaluator models.
	Counters []CounterCheck
	// Queue compares the accept queue at the end; nil when the scenario
	// has no listener to read.
	Queue *QueueCheck
	// Log holds what the clients saw and what the scenario did, one line
	// per step.
	Log []string
	// Packets and Dropped are tcpdump's captured and dropped-by-kernel
	// counts.
	Packets, Dropped uint64
	// Capture is the path of the kept capture, "" when it was removed.
	Capture string
	// Namespaces are the names of the network namespaces the scenario
	// created; none exists any more when Run returns.
	Namespaces []string
	// Duration is how long the scenario took.
	Duration time.Duration
}

func synAgrees(s pcapts.SYN) bool {
	return s.Explanation.Valid && s.Observed == s.Explanation.Predicted
}

// Differences lists every SYN and counter that differs from the
// prediction, one line each; nil when everything agrees.
func (r *Result) Differences() []string {
	var out []string
	for i, s := range r.SYNs {
		if !synAgrees(s) {
			out = append(out, "SYN "+r.describeSYN(i))
		}
	}
	for _, c := range r.Counters {
		if !c.Agrees() {
			out = append(out, "counter "+c.String())
		}
	}
	if r.PredictedBacklog != r.Backlog {
		out = append(out, fmt.Sprintf("effective backlog of listen(%d): predicted %d, observed %d", r.RequestedBacklog, r.PredictedBacklog, r.Backlog))
	}
	if q := r.Queue; q != nil && q.Predicted != q.Observed {
		out = append(out, fmt.Sprintf("accept queue at the end: predicted %d, observed %d", q.Predicted, q.Observed))
	}
	return out
}

// describeSYN formats SYN i as "#3 +1.204s 10.241.0.1:40000 > 10.241.0.2:8080
// TSval 123 (retransmission): predicted ack (timewait_paws), observed
// answered".
func (r *Result) describeSYN(i int) string {
	s := r.SYNs[i]
	var b strings.Builder
	fmt.Fprintf(&b, "#%d +%.3fs %v", i+1, s.Time.Sub(r.SYNs[0].Time).Seconds(), s.Flow)
	if s.HasTimestamp {
		fmt.Fprintf(&b, " TSval %d", s.TSval)
	} else {
		b.WriteString(" no TS")
	}
	if s.Retransmission {
		b.WriteString(" (retransmission)")
	}
	e := s.Explanation
	if !e.Valid {
		fmt.Fprintf(&b, ": not evaluated, observed %v", s.Observed)
		return b.String()
	}
	fmt.Fprintf(&b, ": predicted %v", e.Predicted)
	if e.Reason != paws.ReasonNone {
		fmt.Fprintf(&b, " (%v)", e.Reason)
	}
	fmt.Fprintf(&b, ", observed %v", s.Observed)
	return b.String()
}

// Format writes the result for a person: the verdict, the setup, a summary
// of the SYNs and counters, and every difference. With verbose set every
// SYN is listed.
func (r *Result) Format(w io.Writer, verbose bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.Scenario, r.Status)
	if r.Status == StatusNotApplicable {
		b.WriteString(" on this kernel")
	}
	if r.Note != "" {
		fmt.Fprintf(&b, ": %s", r.Note)
	}
	fmt.Fprintf(&b, " (%.1fs)\n", r.Duration.Seconds())
	if r.Backlog > 0 {
		if r.Profile.Kernel != r.TCP.Kernel {
			fmt.Fprintf(&b, "  evaluator: rules of kernel %v\n", r.Profile.Kernel)
		}
		fmt.Fprintf(&b, "  server: kernel %v, listen(%d) backlog %d, net.core.somaxconn=%s, tcp_syncookies=%s, tcp_max_syn_backlog=%s, tcp_timestamps=%s, tcp_rfc1337=%s\n",
			r.TCP.Kernel, r.RequestedBacklog, r.Backlog, value(r.TCP.SoMaxConn), value(r.TCP.SynCookies), value(r.TCP.MaxSynBacklog), value(r.TCP.Timestamps), value(r.TCP.RFC1337))
	}
	for _, l := range r.Log {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if len(r.SYNs) > 0 {
		fmt.Fprintf(&b, "  SYNs: %d captured, %d as predicted; observed %s\n", len(r.SYNs), r.agreeingSYNs(), r.outcomeSummary())
	}
	if len(r.Counters) > 0 {
		var parts []string
		for _, c := range r.Counters {
			switch {
			case c.Agrees() && c.Present:
				parts = append(parts, fmt.Sprintf("%s +%d", c.Counter, c.Observed))
			case c.Agrees():
				parts = append(parts, fmt.Sprintf("%s absent, predicted +0", c.Counter))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  counters as predicted: %s\n", strings.Join(parts, ", "))
		}
	}
	if q := r.Queue; q != nil && q.Predicted == q.Observed {
		fmt.Fprintf(&b, "  accept queue at the end as predicted: %d\n", q.Observed)
	}
	for _, d := range r.Differences() {
		fmt.Fprintf(&b, "  DIFFERS: %s\n", d)
	}
	if verbose {
		for i := range r.SYNs {
			fmt.Fprintf(&b, "    SYN %s\n", r.describeSYN(i))
		}
	}
	if r.Capture != "" {
		fmt.Fprintf(&b, "  capture: %s (%d packets)\n", r.Capture, r.Packets)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// value formats a sysctl as its file does: booleans as 0 and 1.
func value[T any](v sysctl.Value[T]) string {
	if !v.Present {
		return "absent"
	}
	if b, ok := any(v.V).(bool); ok {
		if b {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v.V)
}

func (r *Result) agreeingSYNs() int {
	n := 0
	for _, s := range r.SYNs {
		if synAgrees(s) {
			n++
		}
	}
	return n
}

// outcomeSummary counts the observed reactions: "answered 3, unanswered 6
// (accept_queue_full 6)".
func (r *Result) outcomeSummary() string {
	var parts []string
	for o := pcapts.OutcomeUnanswered; o <= pcapts.OutcomeRST; o++ {
		n := 0
		reasons := map[paws.Reason]int{}
		for _, s := range r.SYNs {
			if s.Observed == o {
				n++
				if s.Explanation.Reason != paws.ReasonNone {
					reasons[s.Explanation.Reason]++
				}
			}
		}
		if n == 0 {
			continue
		}
		p := fmt.Sprintf("%v %d", o, n)
		var rs []string
		for reason := paws.ReasonNone + 1; reason <= paws.ReasonTSecr; reason++ {
			if k := reasons[reason]; k > 0 {
				rs = append(rs, fmt.Sprintf("%v %d", reason, k))
			}
		}
		if len(rs) > 0 {
			p += " (" + strings.Join(rs, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
