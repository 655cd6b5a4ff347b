package pcapts

import (
	"strconv"

	"github.com/paws-go/paws"
)

// Cause is the most likely reason for a SYN's outcome, from the
// comparison of what the capture shows with what the evaluator predicts.
type Cause uint8

// Causes.
const (
	// CauseNone: the SYN was answered, or nothing needs explaining.
	CauseNone Cause = iota
	// CausePerHostPAWS: dropped by the per-host timestamp check of
	// tcp_tw_recycle (kernels up to 4.11): an older TSval than the one
	// cached for the address (Explanation.Cached).
	CausePerHostPAWS
	// CauseTimeWaitPAWS: the 4-tuple is in TIME_WAIT on the server and the
	// SYN's TSval is older than the TIME_WAIT's ts_recent
	// (Explanation.Cached): answered by a bare ACK.
	CauseTimeWaitPAWS
	// CauseTimeWait: answered by a bare ACK from a TIME_WAIT socket for its
	// sequence number, without a timestamp check.
	CauseTimeWait
	// CauseAcceptQueueFull: dropped because the accept queue was full.
	CauseAcceptQueueFull
	// CauseSYNQueueFull: dropped because the SYN queue was full and SYN
	// cookies were off.
	CauseSYNQueueFull
	// CauseUnprovenPeer: dropped in the last quarter of
	// tcp_max_syn_backlog, the peer not proven.
	CauseUnprovenPeer
	// CauseNotExplained: the server's rules predict an answer, so the SYN
	// was lost outside the server (network, firewall, conntrack), or the
	// model lacks state the capture does not show.
	CauseNotExplained
)

var causeNames = [...]string{"", "per-host-paws", "timewait-paws", "timewait", "accept-queue-full", "syn-queue-full", "unproven-peer", "not-explained"}

// String returns the cause's name, e.g. "per-host-paws"; "" for CauseNone.
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "Cause(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Explanation is the evaluator's prediction for one SYN.
type Explanation struct {
	// Valid reports that the SYN was evaluated.
	Valid bool
	// Predicted is the predicted reaction.
	Predicted Outcome
	// Reason is the rule that decided the prediction.
	Reason paws.Reason
	// Cause explains the observed outcome; set when the SYN's outcome is
	// known.
	Cause Cause
	// Cached is, for per-host and TIME_WAIT PAWS, the TSval the SYN's TSval was
	// compared with, when HasCached.
	Cached    paws.Timestamp
	HasCached bool
	// Text is the evaluator's sentence for a SYN not predicted to be
	// answered; "" otherwise.
	Text string
}

func predicted(o paws.Outcome) Outcome {
	switch o {
	case paws.OutcomeAnswer, paws.OutcomeAnswerCookie, paws.OutcomeAccept:
		return OutcomeAnswered
	case paws.OutcomeACK:
		return OutcomeACK
	case paws.OutcomeRST:
		return OutcomeRST
	}
	return OutcomeUnanswered
}

// cause compares an observed outcome with the prediction.
func cause(observed Outcome, e Explanation) Cause {
	if !e.Valid {
		return CauseNone
	}
	switch observed {
	case OutcomeUnanswered:
		if e.Predicted != OutcomeUnanswered {
			return CauseNotExplained
		}
		switch e.Reason {
		case paws.ReasonPerHostPAWS:
			return CausePerHostPAWS
		case paws.ReasonSynqFull:
			return CauseSYNQueueFull
		case paws.ReasonAcceptqFull:
			return CauseAcceptQueueFull
		case paws.ReasonUnprovenPeer:
			return CauseUnprovenPeer
		}
		return CauseNotExplained
	case OutcomeACK:
		if e.Predicted != OutcomeACK {
			return CauseNotExplained
		}
		if e.Reason == paws.ReasonTimewaitPAWS {
			return CauseTimeWaitPAWS
		}
		return CauseTimeWait
	}
	return CauseNone
}

// The methods below feed the evaluator, in capture order, the events it
// models: SYNs, third ACKs, accept() (inferred from the server's first
// payload or FIN), closes and client resets.

func (a *Analyzer) explainSYN(s *Segment, t int64) Explanation {
	ev := paws.Event{
		Time: paws.Time(t), Type: paws.EventSYN, Src: s.Flow.Src, Dst: s.Flow.Dst,
		HasTS: s.HasTimestamp, TSval: paws.Timestamp(s.TSval), Seq: s.Seq, HasSeq: true,
	}
	r := a.cfg.Evaluator.Step(ev)
	e := Explanation{Valid: true, Predicted: predicted(r.Outcome), Reason: r.Reason}
	switch r.Reason {
	case paws.ReasonPerHostPAWS:
		if c, ok := a.cfg.Evaluator.Cache(s.Flow.Dst.Addr(), s.Flow.Src.Addr()); ok {
			e.Cached, e.HasCached = c.TSval, true
		}
	case paws.ReasonTimewaitPAWS:
		if tw, ok := a.cfg.Evaluator.TimeWait(s.Flow.Dst, s.Flow.Src); ok {
			e.Cached, e.HasCached = tw.TSRecent, tw.HasTS
		}
	}
	if e.Predicted != OutcomeAnswered {
		e.Text = r.Explain()
	}
	return e
}

func (a *Analyzer) explainThirdACK(f *flowState, s *Segment, t int64) {
	a.cfg.Evaluator.Step(paws.Event{
		Time: paws.Time(t), Type: paws.EventACK, Src: f.flow.Src, Dst: f.flow.Dst,
		HasTS: s.HasTimestamp, TSval: paws.Timestamp(s.TSval), Seq: s.Seq, HasSeq: true,
	})
}

func (a *Analyzer) explainAccept(f *flowState, t int64) {
	if f.accepted || !f.estab {
		return
	}
	f.accepted = true
	a.cfg.Evaluator.Step(paws.Event{Time: paws.Time(t), Type: paws.EventAccept})
}

func (a *Analyzer) explainClose(f *flowState, by side, t int64) {
	ev := paws.Event{Time: paws.Time(t), Src: f.flow.Src, Dst: f.flow.Dst}
	if by == closerServer {
		ev.Type = paws.EventServerClose
		ev.HasTS, ev.TSval, ev.TSvalAt = f.hasTS, paws.Timestamp(f.lastTS), paws.Time(f.lastTST)
		ev.Seq, ev.HasSeq = f.rcvNxt, true
	} else {
		ev.Type = paws.EventClientClose
	}
	a.cfg.Evaluator.Step(ev)
}

func (a *Analyzer) explainClientRST(f *flowState, s *Segment, t int64) {
	a.cfg.Evaluator.Step(paws.Event{
		Time: paws.Time(t), Type: paws.EventClientRST, Src: f.flow.Src, Dst: f.flow.Dst, Seq: s.Seq, HasSeq: true,
	})
}
