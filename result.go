package paws

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Outcome is what the kernel sends back, or does, for an event.
type Outcome uint8

// Outcomes.
const (
	OutcomeNone         Outcome = iota // the event decides nothing visible
	OutcomeAnswer                      // a SYN-ACK is sent
	OutcomeAnswerCookie                // a SYN-ACK carrying a SYN cookie is sent
	OutcomeDrop                        // discarded, nothing sent
	OutcomeACK                         // a bare ACK is sent (TIME_WAIT, challenge ACK, duplicate ACK)
	OutcomeRST                         // a RST is sent
	OutcomeAccept                      // accepted: a child socket, a segment, connect() or accept() succeeds
	OutcomeRefuse                      // connect() fails with EADDRNOTAVAIL, accept() with EAGAIN
)

var outcomeNames = [...]string{"none", "answer", "answer_cookie", "drop", "ack", "rst", "accept", "refuse"}

// String returns the scenario name, e.g. "drop".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// ParseOutcome parses a name returned by Outcome.String.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return 0, false
}

// Reason is the rule that decided an outcome other than the normal one.
type Reason uint8

// Reasons.
const (
	ReasonNone         Reason = iota // no rule stood in the way
	ReasonPerHostPAWS                // per-host PAWS (tcp_tw_recycle, ≤ 4.11)
	ReasonUnprovenPeer               // last quarter of tcp_max_syn_backlog, peer not proven
	ReasonSynqFull                   // SYN queue full, no cookies
	ReasonAcceptqFull                // accept queue full
	ReasonTimewaitPAWS               // PAWS against a TIME_WAIT socket of the same 4-tuple
	ReasonPAWSEstab                  // PAWS on an established connection or a request
	ReasonTSecr                      // third ACK's TSecr outside the SYN-ACKs sent (6.15+)
)

var reasonNames = [...]string{"none", "per_host_paws", "unproven_peer", "synq_full", "acceptq_full", "timewait_paws", "paws_estab", "tsecr"}

// String returns the scenario name, e.g. "per_host_paws".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// ParseReason parses a name returned by Reason.String.
func ParseReason(s string) (Reason, bool) {
	for i, n := range reasonNames {
		if n == s {
			return Reason(i), true
		}
	}
	return 0, false
}

// note selects the explanation sentence.
type note uint8

const (
	noteNone note = iota
	noteNewRequest
	noteSynRetransmit
	noteCookie
	noteCookieAlways
	notePerHost
	noteUnproven
	noteSynqFull
	noteAcceptqSYN
	noteAcceptqAck
	noteAcceptqAckAbort
	noteAcceptqCookie
	noteTWPAWS
	noteTWPAWSLimited
	noteTWNotNewer
	noteTWNotNewerLimited
	noteTWSyn
	noteTWKilled
	noteTWRstIgnored
	noteTWAck
	noteTWFin
	noteTWFW2Rst
	noteTWFW2Ack
	noteServerClose
	noteServerCloseNoTW
	noteClientClose
	noteConnReset
	noteRequestReset
	noteEmbryonic
	noteChild
	noteCookieChild
	noteCookieFailed
	noteNoSocket
	noteSynReqSynRecv
	noteReqPAWS
	noteReqPAWSLimited
	noteTSecr
	noteTSecrLimited
	noteEstabChallenge
	noteEstabAbort
	noteEstabPAWS
	noteEstabPAWSLimited
	noteEstabOldAck
	noteEstabAccept
	noteAccept
	noteAcceptEmpty
	noteConnectNoTW
	noteConnectReuse
	noteConnectRefused
	noteNoState
)

// Writers of the per-host cache entry, for explanations.
const (
	writerNone uint8 = iota
	writerServerClose
	writerFIN
	writerSeed
)

// Result is the Evaluator's prediction for one event. It is a comparable
// value and building it does not allocate.
type Result struct {
	// Event is the event as evaluated: Dst filled in, Time clamped,
	// IPv4-mapped addresses unmapped.
	Event Event
	// Outcome is what the kernel does.
	Outcome Outcome
	// Reason is the rule that decided it.
	Reason Reason

	// The details of the explanation, packed next to the small fields.
	note   note
	writer uint8     // of the per-host entry of Event.Src.Addr()
	cached Timestamp // per-host P, or ts_recent of the socket involved

	// Counters are the counter deltas this event causes.
	Counters Deltas

	stamp int64 // per-host S, or ts_recent_stamp
	qlen  int32
	limit int32
}

// String returns Explain.
func (r Result) String() string { return r.Explain() }

// Explain returns a sentence an operator understands, such as
// "SYN 172.16.0.13:40001 dropped: per-host PAWS — TSval 271344470 is
// older than 2088983950, cached 1 s ago when this server closed a
// connection from 172.16.0.13".
func (r Result) Explain() string {
	ev := &r.Event
	var b strings.Builder
	switch ev.Type {
	case EventSYN:
		b.WriteString("SYN ")
	case EventACK:
		b.WriteString("ACK ")
	case EventClientRST:
		b.WriteString("RST ")
	case EventServerClose:
		b.WriteString("server close of ")
	case EventClientClose:
		b.WriteString("client close of ")
	case EventSegment:
		b.WriteString("segment [" + segFlags(ev.Flags).String() + "] ")
	case EventConnect:
		b.WriteString("connect() ")
	case EventAccept:
		b.WriteString("accept()")
	}
	if ev.Type == EventConnect {
		fmt.Fprintf(&b, "%s -> %s", ev.Src, ev.Dst)
	} else if ev.Type != EventAccept {
		b.WriteString(ev.Src.String())
	}
	age := ev.Time.Seconds() - r.stamp
	src := ev.Src.Addr()
	ts := func() string {
		if !ev.HasTS {
			return "carries no timestamp"
		}
		return "TSval " + ev.TSval.String()
	}
	switch r.note {
	case noteNewRequest:
		fmt.Fprintf(&b, " answered: SYN-ACK sent, request queued (%d in the SYN queue)", r.qlen)
	case noteSynRetransmit:
		b.WriteString(" answered: retransmission of a pending request, SYN-ACK sent again")
	case noteCookie:
		fmt.Fprintf(&b, " answered with a SYN cookie: the SYN queue is full (%d requests, limit %d); no per-host PAWS check for cookies", r.qlen, r.limit)
	case noteCookieAlways:
		b.WriteString(" answered with a SYN cookie: tcp_syncookies=2 sends cookies always")
	case notePerHost:
		if ev.HasTS {
			fmt.Fprintf(&b, " dropped: per-host PAWS — TSval %d is older than %d, cached %d s ago %s", ev.TSval, r.cached, age, writerText(r.writer, src))
		} else {
			fmt.Fprintf(&b, " dropped: per-host PAWS — it carries no timestamp while the entry %d, cached %d s ago %s, is fresh", r.cached, age, writerText(r.writer, src))
		}
	case noteUnproven:
		fmt.Fprintf(&b, " dropped: unproven peer — %d requests leave fewer than a quarter of tcp_max_syn_backlog %d free, syncookies off, and no RTT is cached for %s", r.qlen, r.limit, ev.Src.Addr())
	case noteSynqFull:
		fmt.Fprintf(&b, " dropped: SYN queue full (%d requests, limit %d) and tcp_syncookies=0", r.qlen, r.limit)
	case noteAcceptqSYN:
		fmt.Fprintf(&b, " dropped: accept queue full (%d connections waiting for accept(), backlog %d)", r.qlen, r.limit)
	case noteAcceptqAck:
		fmt.Fprintf(&b, " dropped: accept queue full (%d waiting, backlog %d); the request stays and the SYN-ACK is retransmitted", r.qlen, r.limit)
	case noteAcceptqAckAbort:
		fmt.Fprintf(&b, " reset: accept queue full (%d waiting, backlog %d) and tcp_abort_on_overflow=1", r.qlen, r.limit)
	case noteAcceptqCookie:
		fmt.Fprintf(&b, " dropped: valid SYN cookie but the accept queue is full (%d waiting, backlog %d); the client believes it is connected", r.qlen, r.limit)
	case noteTWPAWS, noteTWPAWSLimited:
		fmt.Fprintf(&b, " hit a TIME_WAIT socket of the same 4-tuple: PAWS — %s is older than its ts_recent %d (stored %d s ago)", ts(), r.cached, age)
		if r.note == noteTWPAWS {
			b.WriteString("; answered with a bare ACK for the old connection, TIME_WAIT re-armed for 60 s")
		} else {
			b.WriteString("; the ACK is rate-limited (tcp_invalid_ratelimit), nothing sent")
		}
	case noteTWNotNewer, noteTWNotNewerLimited:
		fmt.Fprintf(&b, " hit a TIME_WAIT socket of the same 4-tuple: neither its sequence number is after rcv_nxt nor its timestamp newer than %d", r.cached)
		if r.note == noteTWNotNewer {
			b.WriteString("; answered with a bare ACK for the old connection")
		} else {
			b.WriteString("; the ACK is rate-limited, nothing sent")
		}
	case noteTWKilled:
		b.WriteString(": TIME_WAIT socket killed (tcp_rfc1337=0)")
	case noteTWRstIgnored:
		b.WriteString(": ignored by the TIME_WAIT socket (tcp_rfc1337=1)")
	case noteTWAck:
		b.WriteString(": in-window segment on a TIME_WAIT socket, timer re-armed")
	case noteTWFin:
		b.WriteString(": FIN reaches the FIN_WAIT2 timewait socket, which enters TIME_WAIT and ACKs it")
		if r.writer != writerNone {
			fmt.Fprintf(&b, "; per-host cache of %s is %d, stamped %d s ago", src, r.cached, age)
		}
	case noteTWFW2Rst:
		b.WriteString(" reset: new SYN on a FIN_WAIT2 timewait socket, which is killed")
	case noteTWFW2Ack:
		b.WriteString(": out-of-window segment on a FIN_WAIT2 timewait socket")
	case noteServerClose, noteServerCloseNoTW:
		if r.note == noteServerClose {
			if r.limit > 0 && r.limit < 4000 {
				fmt.Fprintf(&b, ": TIME_WAIT for %d ms (tcp_tw_recycle)", r.limit)
			} else {
				b.WriteString(": TIME_WAIT for 60 s")
			}
		} else {
			b.WriteString(": no TIME_WAIT socket, tcp_max_tw_buckets reached")
		}
		if r.writer != writerNone {
			fmt.Fprintf(&b, "; the per-host cache of %s now holds TSval %d stamped %d s ago", src, r.cached, age)
		}
	case noteClientClose:
		b.WriteString(": the peer closed first, no TIME_WAIT here and no per-host cache write")
	case noteConnReset:
		b.WriteString(": connection reset")
	case noteRequestReset:
		b.WriteString(": pending request reset")
	case noteEmbryonic:
		b.WriteString(" reset: a SYN with another sequence number for a pending request resets it")
	case noteChild:
		fmt.Fprintf(&b, " accepted: connection established, %d waiting for accept()", r.qlen)
	case noteCookieChild:
		fmt.Fprintf(&b, " accepted: valid SYN cookie, connection established, %d waiting for accept()", r.qlen)
	case noteCookieFailed:
		b.WriteString(" reset: no request and no valid SYN cookie")
	case noteNoSocket:
		b.WriteString(" reset: no request and no connection for this 4-tuple")
	case noteSynReqSynRecv:
		b.WriteString(" answered: retransmitted SYN for a pending request")
	case noteReqPAWS, noteReqPAWSLimited:
		fmt.Fprintf(&b, " rejected in SYN_RECV: PAWS — %s is older than the SYN's %d", ts(), r.cached)
	case noteTSecr, noteTSecrLimited:
		fmt.Fprintf(&b, " rejected in SYN_RECV: TSecr %d is not one of the SYN-ACKs' TSvals [%d, %d]", ev.TSecr, r.cached, uint32(r.stamp))
	case noteEstabChallenge:
		b.WriteString(": SYN on an established connection, challenge ACK sent")
	case noteEstabAbort:
		b.WriteString(": SYN in window aborts the established connection")
	case noteEstabPAWS, noteEstabPAWSLimited:
		fmt.Fprintf(&b, " dropped: PAWS on an established connection — %s is older than ts_recent %d", ts(), r.cached)
		if r.note == noteEstabPAWS {
			b.WriteString("; duplicate ACK sent")
		}
	case noteEstabOldAck:
		fmt.Fprintf(&b, " dropped silently: old ACK failing PAWS (%s, ts_recent %d)", ts(), r.cached)
	case noteEstabAccept:
		b.WriteString(" accepted on the established connection")
	case noteAccept:
		fmt.Fprintf(&b, " returns a connection, %d left", r.qlen)
	case noteAcceptEmpty:
		b.WriteString(" finds the accept queue empty (EAGAIN)")
	case noteConnectNoTW:
		b.WriteString(": no TIME_WAIT socket holds this 4-tuple")
	case noteConnectReuse:
		b.WriteString(" takes over this host's TIME_WAIT socket (tcp_tw_reuse)")
	case noteConnectRefused:
		b.WriteString(" refused: the 4-tuple is held by this host's TIME_WAIT socket and tcp_tw_reuse does not allow taking it over (EADDRNOTAVAIL)")
	case noteNoState:
		b.WriteString(": no socket for this 4-tuple")
	}
	return b.String()
}

func writerText(w uint8, addr netip.Addr) string {
	switch w {
	case writerServerClose:
		return "when this server closed a connection from " + addr.String()
	case writerFIN:
		return "when a connection from " + addr.String() + " that this server closed sent its FIN"
	case writerSeed:
		return "(entry of " + addr.String() + " given as initial state)"
	}
	return ""
}

func segFlags(f Flags) Flags {
	if f == 0 {
		return FlagACK
	}
	return f
}
