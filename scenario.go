package paws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ErrScenario is wrapped by every error about a scenario file. The
// message names the field, e.g.
// `paws: scenario: events[3].src: "1.2.3.4" is not ip:port`.
var ErrScenario = errors.New("paws: scenario")

// MaxScenarioEvents bounds the events of a scenario file.
const MaxScenarioEvents = 1 << 20

// Scenario is an incident: a kernel, its settings, a listener, initial
// state and a list of events, with optional expectations per event. See
// ParseScenario for the file format.
type Scenario struct {
	// Name and Description are free text.
	Name, Description string
	// Profile is ProfileFor(kernel) with the file's overrides.
	Profile Profile
	// Settings are the kernel's defaults with the file's sysctls.
	Settings Settings
	// Listener is the listening socket.
	Listener Listener
	// WallStart is the wall clock at t = 0, in whole seconds.
	WallStart int64
	// ServerTSval is this host's TSval clock at t = 0.
	ServerTSval Timestamp
	// RTO is the RTO of closed connections (zero: 200 ms).
	RTO time.Duration
	// Cache, TimeWait and Established are the initial state.
	Cache       []CacheEntry
	TimeWait    []TimeWait
	Established []Established
	// Events are the events in time order.
	Events []Event
	// Expect holds the expectation of each event, nil where none is given.
	Expect []*Expect
}

// Expect is what a scenario file says an event must produce.
type Expect struct {
	Outcome  Outcome
	Reason   Reason
	Counters Counters
}

// Start returns the Time of t = 0.
func (s *Scenario) Start() Time { return Time(s.WallStart * 1e9) }

// NewEvaluator returns an Evaluator with the scenario's configuration and
// initial state.
func (s *Scenario) NewEvaluator() (*Evaluator, error) {
	e, err := NewEvaluator(Config{
		Profile: s.Profile, Settings: s.Settings, Listener: s.Listener,
		Start: s.Start(), ServerTSval: s.ServerTSval, RTO: s.RTO,
	})
	if err != nil {
		return nil, err
	}
	for _, c := range s.Cache {
		if err := e.SeedCache(c); err != nil {
			return nil, err
		}
	}
	for _, t := range s.TimeWait {
		if err := e.SeedTimeWait(t); err != nil {
			return nil, err
		}
	}
	for _, c := range s.Established {
		if err := e.SeedEstablished(c); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Run evaluates every event and returns the results, one per event, and
// the Evaluator in its final state.
func (s *Scenario) Run() ([]Result, *Evaluator, error) {
	e, err := s.NewEvaluator()
	if err != nil {
		return nil, nil, err
	}
	res := make([]Result, len(s.Events))
	for i, ev := range s.Events {
		res[i] = e.Step(ev)
	}
	return res, e, nil
}

// Mismatch is a difference between a result and its expectation.
type Mismatch struct {
	Index int    // event index
	Field string // "outcome", "reason" or "counters"
	Want  string
	Got   string
}

// String formats the mismatch as "events[3].outcome: want drop, got answer".
func (m Mismatch) String() string {
	return fmt.Sprintf("events[%d].%s: want %s, got %s", m.Index, m.Field, m.Want, m.Got)
}

// Check compares results (from Run) with the expectations of the file.
func (s *Scenario) Check(results []Result) []Mismatch {
	var ms []Mismatch
	for i, x := range s.Expect {
		if x == nil || i >= len(results) {
			continue
		}
		r := results[i]
		if r.Outcome != x.Outcome {
			ms = append(ms, Mismatch{i, "outcome", x.Outcome.String(), r.Outcome.String()})
		}
		if r.Reason != x.Reason {
			ms = append(ms, Mismatch{i, "reason", x.Reason.String(), r.Reason.String()})
		}
		if r.Counters.Counters() != x.Counters {
			ms = append(ms, Mismatch{i, "counters", x.Counters.String(), r.Counters.String()})
		}
	}
	return ms
}

type scenarioFile struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Kernel      *string           `json:"kernel"`
	Profile     json.RawMessage   `json:"profile"`
	Sysctl      map[string]int    `json:"sysctl"`
	Listener    json.RawMessage   `json:"listener"`
	WallStart   *int64            `json:"wall_start"`
	ServerTSval *uint32           `json:"server_tsval"`
	RTO         *float64          `json:"rto"`
	State       json.RawMessage   `json:"state"`
	Events      []json.RawMessage `json:"events"`
}

type profileFile struct {
	TWRecycle           *bool   `json:"tw_recycle"`
	AcceptQueueYoung    *bool   `json:"accept_queue_young"`
	SynQueue            *string `json:"synq"`
	TimeWaitCounter     *string `json:"timewait_counter"`
	TSEcrCheck          *bool   `json:"tsecr_check"`
	PAWSOldAck          *bool   `json:"paws_old_ack"`
	ListenCountersOnSYN *bool   `json:"listen_counters_on_syn"`
	HZ                  *int    `json:"hz"`
}

type listenerFile struct {
	Addr    *string `json:"addr"`
	Backlog *int    `json:"backlog"`
	QLen    int     `json:"qlen"`
	Young   int     `json:"young"`
	AcceptQ int     `json:"acceptq"`
}

type stateFile struct {
	Cache []struct {
		Remote string   `json:"remote"`
		Local  string   `json:"local"`
		TSval  *uint32  `json:"tsval"`
		At     *float64 `json:"at"`
		RTT    bool     `json:"rtt"`
	} `json:"cache"`
	RTTCached []string `json:"rtt_cached"`
	TimeWait  []struct {
		Src        string   `json:"src"`
		Dst        string   `json:"dst"`
		TSRecent   *uint32  `json:"ts_recent"`
		TSRecentAt *float64 `json:"ts_recent_at"`
		RcvNxt     *uint32  `json:"rcv_nxt"`
		At         float64  `json:"at"`
		Expires    *float64 `json:"expires"`
		FinWait2   bool     `json:"fin_wait2"`
	} `json:"timewait"`
	Established []struct {
		Src        string   `json:"src"`
		Dst        string   `json:"dst"`
		TSRecent   *uint32  `json:"ts_recent"`
		TSRecentAt *float64 `json:"ts_recent_at"`
		RcvNxt     *uint32  `json:"rcv_nxt"`
	} `json:"established"`
}

type eventFile struct {
	T           *float64    `json:"t"`
	Type        string      `json:"type"`
	Src         string      `json:"src"`
	Dst         string      `json:"dst"`
	TSval       *uint32     `json:"tsval"`
	TSecr       *uint32     `json:"tsecr"`
	Seq         *uint32     `json:"seq"`
	Len         *uint32     `json:"len"`
	Flags       string      `json:"flags"`
	LastTSval   *uint32     `json:"last_tsval"`
	LastTSvalAt *float64    `json:"last_tsval_at"`
	RcvNxt      *uint32     `json:"rcv_nxt"`
	FinWait2    bool        `json:"fin_wait2"`
	Bind        bool        `json:"bind"`
	Note        string      `json:"note"`
	Expect      *expectFile `json:"expect"`
}

type expectFile struct {
	Outcome  *string           `json:"outcome"`
	Reason   string            `json:"reason"`
	Counters map[string]uint64 `json:"counters"`
}

// ReadScenario reads a scenario file from r; see ParseScenario.
func ReadScenario(r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	if len(data) > 64<<20 {
		return nil, fmt.Errorf("%w: larger than 64 MiB", ErrScenario)
	}
	return ParseScenario(data)
}

// ParseScenario parses a scenario file: a JSON object describing an
// incident.
//
// # Format
//
// Top-level fields (unknown fields are an error everywhere):
//
//   - "kernel" (required): the release, e.g. "3.10.0-1160.el7.x86_64";
//     it selects ProfileFor.
//   - "profile": overrides of the profile: "tw_recycle" (bool: the sysctl
//     exists), "accept_queue_young" (bool), "synq" ("pow2", "backlog",
//     "backlog_strict"), "timewait_counter" ("PAWSEstab", "PAWSTimewait"),
//     "tsecr_check", "paws_old_ack", "listen_counters_on_syn" (bool),
//     "hz" (int).
//   - "sysctl": sysctl values by dotted name, e.g.
//     {"net.ipv4.tcp_tw_recycle": 1}; one left out takes the kernel's
//     default. A sysctl the kernel lacks is an error wrapping
//     fs.ErrNotExist.
//   - "listener" (required): "addr" ("ip:port"), "backlog" (as passed to
//     listen()), and optionally the initial "qlen", "young" (requests in
//     the SYN queue, young ones not yet retransmitted) and "acceptq"
//     (connections waiting for accept()).
//   - "wall_start" (required): the wall clock at t = 0, whole seconds.
//   - "server_tsval": this host's TSval clock at t = 0 (TSecr checks).
//   - "rto": RTO in seconds of closed connections (default 0.2), which
//     sets the TIME_WAIT length under tcp_tw_recycle (3.5 × RTO).
//   - "state": initial state. "cache": per-host entries {"remote": ip,
//     "local": ip (default: the listener's), "tsval": P, "at": S in
//     seconds relative to t = 0, "rtt": bool}. "rtt_cached": peer
//     addresses with a cached RTT (proven). "timewait": TIME_WAIT sockets
//     {"src": peer ip:port, "dst": local ip:port (default listener),
//     "ts_recent", "ts_recent_at" (absent ts_recent: no timestamps),
//     "rcv_nxt", "at" (entry time), "expires" (default at + 60),
//     "fin_wait2"}. "established": connections {"src", "dst",
//     "ts_recent", "ts_recent_at", "rcv_nxt"}.
//   - "events" (required): in time order. Each has "t" (seconds since
//     wall_start, required), "type" and the fields of its type:
//     "syn": "src" (peer "ip:port"), "dst" (default: the listener),
//     "tsval" (absent: no timestamp option), "seq".
//     "server_close": this host closes first; "src", "last_tsval" (the
//     peer's last TSval; absent: no timestamps), "last_tsval_at" (when it
//     arrived, default t), "rcv_nxt", "fin_wait2" (the peer's FIN comes
//     later as a client_close).
//     "client_close": the peer closes first, or sends the FIN a
//     fin_wait2 socket waits for; "src", "tsval".
//     "client_rst": "src", "seq", "tsval".
//     "ack": the third ACK; "src", "tsval", "tsecr".
//     "accept": no fields.
//     "connect": this host connects from "src" (its own ip:port) to "dst";
//     "bind": the port was bound explicitly.
//     "segment": "src", "flags" (tcpdump letters: "." ACK, "S", "F", "R",
//     "P"; default "."), "seq", "len", "tsval".
//     Any event may carry "note" (free text) and "expect": {"outcome",
//     "reason" (default "none"), "counters" (name: delta; counters left
//     out must not move)}, which Scenario.Check compares.
//
// Errors wrap ErrScenario and name the field, e.g.
// `paws: scenario: events[3].src: "1.2.3.4" is not ip:port`.
func ParseScenario(data []byte) (*Scenario, error) {
	var f scenarioFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, jsonError("", err)
	}
	if f.Kernel == nil {
		return nil, fmt.Errorf("%w: kernel: missing", ErrScenario)
	}
	v, err := ParseKernelVersion(*f.Kernel)
	if err != nil {
		return nil, fmt.Errorf("%w: kernel: %w", ErrScenario, err)
	}
	s := &Scenario{Name: f.Name, Description: f.Description, Profile: ProfileFor(v)}
	if len(f.Profile) > 0 {
		if err := parseProfile(f.Profile, &s.Profile); err != nil {
			return nil, err
		}
	}
	s.Settings = DefaultSettings(s.Profile)
	names := make([]string, 0, len(f.Sysctl))
	for n := range f.Sysctl {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, ok := sysctlIndex(n); ok && !s.Profile.HasSysctl(n) {
			return nil, fmt.Errorf("%w: sysctl.%s: does not exist on %s: %w", ErrScenario, n, v, fs.ErrNotExist)
		}
		if err := s.Settings.SetSysctl(n, f.Sysctl[n]); err != nil {
			return nil, fmt.Errorf("%w: sysctl.%s: %w", ErrScenario, n, err)
		}
	}
	if f.WallStart == nil {
		return nil, fmt.Errorf("%w: wall_start: missing", ErrScenario)
	}
	if *f.WallStart < 0 || *f.WallStart > 1<<32 {
		return nil, fmt.Errorf("%w: wall_start: %d out of range [0, 2^32]", ErrScenario, *f.WallStart)
	}
	s.WallStart = *f.WallStart
	if f.ServerTSval != nil {
		s.ServerTSval = Timestamp(*f.ServerTSval)
	}
	if f.RTO != nil {
		if !(*f.RTO > 0 && *f.RTO <= 120) {
			return nil, fmt.Errorf("%w: rto: %v out of range (0, 120]", ErrScenario, *f.RTO)
		}
		s.RTO = time.Duration(math.Round(*f.RTO * 1e9))
	}
	if len(f.Listener) == 0 {
		return nil, fmt.Errorf("%w: listener: missing", ErrScenario)
	}
	if err := s.parseListener(f.Listener); err != nil {
		return nil, err
	}
	if len(f.State) > 0 {
		if err := s.parseState(f.State); err != nil {
			return nil, err
		}
	}
	if f.Events == nil {
		return nil, fmt.Errorf("%w: events: missing", ErrScenario)
	}
	if len(f.Events) > MaxScenarioEvents {
		return nil, fmt.Errorf("%w: events: %d events, more than %d", ErrScenario, len(f.Events), MaxScenarioEvents)
	}
	s.Events = make([]Event, len(f.Events))
	s.Expect = make([]*Expect, len(f.Events))
	last := math.Inf(-1)
	for i, raw := range f.Events {
		if err := s.parseEvent(i, raw, &last); err != nil {
			return nil, err
		}
	}
	if _, err := s.NewEvaluator(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return s, nil
}

func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value at offset %d", d.InputOffset())
	}
	return nil
}

// jsonError names the field of a decoding error under prefix.
func jsonError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if prefix != "" {
			field = prefix + "." + field
		}
		return fmt.Errorf("%w: %s: %s is not a valid %s", ErrScenario, field, te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Errorf("%w: %soffset %d: %v", ErrScenario, prefixColon(prefix), se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %struncated JSON", ErrScenario, prefixColon(prefix))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return fmt.Errorf("%w: %s%s", ErrScenario, prefixColon(prefix), msg)
}

func prefixColon(p string) string {
	if p == "" {
		return ""
	}
	return p + ": "
}

func parseProfile(raw json.RawMessage, p *Profile) error {
	var f profileFile
	if err := decodeStrict(raw, &f); err != nil {
		return jsonError("profile", err)
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setBool(&p.HasTWRecycle, f.TWRecycle)
	setBool(&p.AcceptQueueYoung, f.AcceptQueueYoung)
	setBool(&p.TSEcrCheck, f.TSEcrCheck)
	setBool(&p.PAWSOldAck, f.PAWSOldAck)
	setBool(&p.ListenCountersOnSYN, f.ListenCountersOnSYN)
	if p.HasTWRecycle {
		p.Counters = p.Counters.With(PAWSPassive)
		if p.Era == EraNoRecycle {
			return fmt.Errorf("%w: profile.tw_recycle: %s has no per-host PAWS check", ErrScenario, p.Kernel)
		}
	} else {
		p.Counters = p.Counters.Without(PAWSPassive)
	}
	if p.TSEcrCheck {
		p.Counters = p.Counters.With(TSEcrRejected)
	}
	if p.PAWSOldAck {
		p.Counters = p.Counters.With(PAWSOldAck)
	}
	if f.SynQueue != nil {
		switch *f.SynQueue {
		case "pow2":
			p.SynQueue = SynQueuePow2
		case "backlog":
			p.SynQueue = SynQueueBacklog
		case "backlog_strict":
			p.SynQueue = SynQueueBacklogStrict
		default:
			return fmt.Errorf("%w: profile.synq: %q is not pow2, backlog or backlog_strict", ErrScenario, *f.SynQueue)
		}
	}
	if f.TimeWaitCounter != nil {
		switch *f.TimeWaitCounter {
		case "PAWSEstab":
			p.TimeWaitPAWSCounter = PAWSEstab
		case "PAWSTimewait":
			p.TimeWaitPAWSCounter = PAWSTimewait
			p.Counters = p.Counters.With(PAWSTimewait)
		default:
			return fmt.Errorf("%w: profile.timewait_counter: %q is not PAWSEstab or PAWSTimewait", ErrScenario, *f.TimeWaitCounter)
		}
	}
	if f.HZ != nil {
		if *f.HZ < 1 || *f.HZ > 100000 {
			return fmt.Errorf("%w: profile.hz: %d out of range [1, 100000]", ErrScenario, *f.HZ)
		}
		if p.TSClockHz == p.HZ {
			p.TSClockHz = *f.HZ
		}
		p.HZ = *f.HZ
	}
	return nil
}

func (s *Scenario) parseListener(raw json.RawMessage) error {
	var f listenerFile
	if err := decodeStrict(raw, &f); err != nil {
		return jsonError("listener", err)
	}
	if f.Addr == nil {
		return fmt.Errorf("%w: listener.addr: missing", ErrScenario)
	}
	a, err := parseAddrPort("listener.addr", *f.Addr)
	if err != nil {
		return err
	}
	if f.Backlog == nil {
		return fmt.Errorf("%w: listener.backlog: missing", ErrScenario)
	}
	for _, x := range []struct {
		name string
		v    int
	}{{"backlog", *f.Backlog}, {"qlen", f.QLen}, {"young", f.Young}, {"acceptq", f.AcceptQ}} {
		if x.v < 0 || x.v > 1<<30 {
			return fmt.Errorf("%w: listener.%s: %d out of range [0, 2^30]", ErrScenario, x.name, x.v)
		}
	}
	if f.Young > f.QLen {
		return fmt.Errorf("%w: listener.young: %d is more than qlen %d", ErrScenario, f.Young, f.QLen)
	}
	s.Listener = Listener{Addr: a, Backlog: *f.Backlog, QLen: f.QLen, Young: f.Young, AcceptQ: f.AcceptQ}
	return nil
}

func parseAddrPort(field, v string) (netip.AddrPort, error) {
	a, err := netip.ParseAddrPort(v)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %s: %q is not ip:port", ErrScenario, field, v)
	}
	return a, nil
}

func parseAddr(field, v string) (netip.Addr, error) {
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: %s: %q is not an IP address", ErrScenario, field, v)
	}
	return a, nil
}

// maxT bounds event times: about 115 days.
const maxT = 1e7

func (s *Scenario) time(field string, t float64) (Time, error) {
	if math.IsNaN(t) || t < -maxT || t > maxT {
		return 0, fmt.Errorf("%w: %s: %v out of range [-1e7, 1e7]", ErrScenario, field, t)
	}
	return s.Start() + Time(math.Round(t*1e9)), nil
}

func (s *Scenario) parseState(raw json.RawMessage) error {
	var f stateFile
	if err := decodeStrict(raw, &f); err != nil {
		return jsonError("state", err)
	}
	for i, c := range f.Cache {
		field := fmt.Sprintf("state.cache[%d]", i)
		r, err := parseAddr(field+".remote", c.Remote)
		if err != nil {
			return err
		}
		var l netip.Addr
		if c.Local != "" {
			if l, err = parseAddr(field+".local", c.Local); err != nil {
				return err
			}
		}
		e := CacheEntry{Local: l, Remote: r, RTT: c.RTT}
		if c.TSval != nil {
			if c.At == nil {
				return fmt.Errorf("%w: %s.at: missing with tsval", ErrScenario, field)
			}
			at, err := s.time(field+".at", *c.At)
			if err != nil {
				return err
			}
			e.TSval, e.Stamp = Timestamp(*c.TSval), at.Seconds()
		}
		s.Cache = append(s.Cache, e)
	}
	for i, a := range f.RTTCached {
		r, err := parseAddr(fmt.Sprintf("state.rtt_cached[%d]", i), a)
		if err != nil {
			return err
		}
		s.Cache = append(s.Cache, CacheEntry{Remote: r, RTT: true})
	}
	for i, t := range f.TimeWait {
		field := fmt.Sprintf("state.timewait[%d]", i)
		tw := TimeWait{FinWait2: t.FinWait2}
		var err error
		if tw.Remote, err = parseAddrPort(field+".src", t.Src); err != nil {
			return err
		}
		if t.Dst != "" {
			if tw.Local, err = parseAddrPort(field+".dst", t.Dst); err != nil {
				return err
			}
		}
		if tw.Entered, err = s.time(field+".at", t.At); err != nil {
			return err
		}
		if t.TSRecent != nil {
			tw.HasTS, tw.TSRecent, tw.TSRecentAt = true, Timestamp(*t.TSRecent), tw.Entered
			if t.TSRecentAt != nil {
				if tw.TSRecentAt, err = s.time(field+".ts_recent_at", *t.TSRecentAt); err != nil {
					return err
				}
			}
		}
		if t.RcvNxt != nil {
			tw.RcvNxt, tw.HasRcvNxt = *t.RcvNxt, true
		}
		if t.Expires != nil {
			if tw.Expires, err = s.time(field+".expires", *t.Expires); err != nil {
				return err
			}
			if tw.Expires <= tw.Entered {
				return fmt.Errorf("%w: %s.expires: not after at", ErrScenario, field)
			}
		}
		s.TimeWait = append(s.TimeWait, tw)
	}
	for i, c := range f.Established {
		field := fmt.Sprintf("state.established[%d]", i)
		es := Established{}
		var err error
		if es.Remote, err = parseAddrPort(field+".src", c.Src); err != nil {
			return err
		}
		if c.Dst != "" {
			if es.Local, err = parseAddrPort(field+".dst", c.Dst); err != nil {
				return err
			}
		}
		if c.TSRecent != nil {
			es.HasTS, es.TSRecent, es.TSRecentAt = true, Timestamp(*c.TSRecent), s.Start()
			if c.TSRecentAt != nil {
				if es.TSRecentAt, err = s.time(field+".ts_recent_at", *c.TSRecentAt); err != nil {
					return err
				}
			}
		}
		if c.RcvNxt != nil {
			es.RcvNxt, es.HasRcvNxt = *c.RcvNxt, true
		}
		s.Established = append(s.Established, es)
	}
	return nil
}

// eventFields lists the optional fields each event type accepts.
var eventFields = map[EventType][]string{
	EventSYN:         {"src", "dst", "tsval", "seq"},
	EventServerClose: {"src", "dst", "last_tsval", "last_tsval_at", "rcv_nxt", "fin_wait2"},
	EventClientClose: {"src", "dst", "tsval"},
	EventClientRST:   {"src", "dst", "seq", "tsval"},
	EventACK:         {"src", "dst", "tsval", "tsecr"},
	EventAccept:      {},
	EventConnect:     {"src", "dst", "bind"},
	EventSegment:     {"src", "dst", "flags", "seq", "len", "tsval"},
}

func (s *Scenario) parseEvent(i int, raw json.RawMessage, last *float64) error {
	var f eventFile
	field := fmt.Sprintf("events[%d]", i)
	if err := decodeStrict(raw, &f); err != nil {
		return jsonError(field, err)
	}
	if f.T == nil {
		return fmt.Errorf("%w: %s.t: missing", ErrScenario, field)
	}
	if *f.T < 0 {
		return fmt.Errorf("%w: %s.t: %v is negative", ErrScenario, field, *f.T)
	}
	if *f.T < *last {
		return fmt.Errorf("%w: %s.t: %v is before the previous event's %v", ErrScenario, field, *f.T, *last)
	}
	*last = *f.T
	ev := Event{}
	var err error
	if ev.Time, err = s.time(field+".t", *f.T); err != nil {
		return err
	}
	typ, ok := ParseEventType(f.Type)
	if !ok {
		return fmt.Errorf("%w: %s.type: %q is not one of syn, server_close, client_close, client_rst, ack, accept, connect, segment", ErrScenario, field, f.Type)
	}
	ev.Type = typ
	present := map[string]bool{
		"src": f.Src != "", "dst": f.Dst != "", "tsval": f.TSval != nil, "tsecr": f.TSecr != nil,
		"seq": f.Seq != nil, "len": f.Len != nil, "flags": f.Flags != "", "last_tsval": f.LastTSval != nil,
		"last_tsval_at": f.LastTSvalAt != nil, "rcv_nxt": f.RcvNxt != nil, "fin_wait2": f.FinWait2, "bind": f.Bind,
	}
	allowed := eventFields[typ]
	for _, name := range []string{"src", "dst", "tsval", "tsecr", "seq", "len", "flags", "last_tsval", "last_tsval_at", "rcv_nxt", "fin_wait2", "bind"} {
		if present[name] && !slices.Contains(allowed, name) {
			return fmt.Errorf("%w: %s.%s: not a field of a %s event", ErrScenario, field, name, typ)
		}
	}
	if slices.Contains(allowed, "src") {
		if f.Src == "" {
			return fmt.Errorf("%w: %s.src: missing", ErrScenario, field)
		}
		if ev.Src, err = parseAddrPort(field+".src", f.Src); err != nil {
			return err
		}
	}
	if f.Dst != "" {
		if ev.Dst, err = parseAddrPort(field+".dst", f.Dst); err != nil {
			return err
		}
	} else if typ == EventConnect {
		return fmt.Errorf("%w: %s.dst: missing (the remote address of connect())", ErrScenario, field)
	}
	if ev.Src.IsValid() && ev.Dst.IsValid() && ev.Src.Addr().Unmap().Is4() != ev.Dst.Addr().Unmap().Is4() {
		return fmt.Errorf("%w: %s.dst: %s and src %s are of different families", ErrScenario, field, ev.Dst, ev.Src)
	}
	if f.TSval != nil {
		ev.HasTS, ev.TSval = true, Timestamp(*f.TSval)
	}
	if f.TSecr != nil {
		ev.HasTSecr, ev.TSecr = true, Timestamp(*f.TSecr)
	}
	if f.Seq != nil {
		ev.HasSeq, ev.Seq = true, *f.Seq
	}
	if f.Len != nil {
		ev.Len = *f.Len
	}
	if f.Flags != "" {
		for _, c := range f.Flags {
			switch c {
			case '.', 'A':
				ev.Flags |= FlagACK
			case 'S':
				ev.Flags |= FlagSYN
			case 'F':
				ev.Flags |= FlagFIN
			case 'R':
				ev.Flags |= FlagRST
			case 'P':
				ev.Flags |= FlagPSH
			default:
				return fmt.Errorf("%w: %s.flags: %q is not a flag letter (. S F R P)", ErrScenario, field, c)
			}
		}
	}
	if f.LastTSval != nil {
		ev.HasTS, ev.TSval = true, Timestamp(*f.LastTSval)
	}
	if f.LastTSvalAt != nil {
		if f.LastTSval == nil {
			return fmt.Errorf("%w: %s.last_tsval_at: given without last_tsval", ErrScenario, field)
		}
		if *f.LastTSvalAt > *f.T {
			return fmt.Errorf("%w: %s.last_tsval_at: %v is after t %v", ErrScenario, field, *f.LastTSvalAt, *f.T)
		}
		if ev.TSvalAt, err = s.time(field+".last_tsval_at", *f.LastTSvalAt); err != nil {
			return err
		}
	}
	if f.RcvNxt != nil {
		ev.HasSeq, ev.Seq = true, *f.RcvNxt
	}
	ev.FinWait2, ev.Bound = f.FinWait2, f.Bind
	s.Events[i] = ev
	if f.Expect != nil {
		x, err := parseExpect(field+".expect", f.Expect)
		if err != nil {
			return err
		}
		s.Expect[i] = x
	}
	return nil
}

func parseExpect(field string, f *expectFile) (*Expect, error) {
	x := &Expect{}
	if f.Outcome == nil {
		return nil, fmt.Errorf("%w: %s.outcome: missing", ErrScenario, field)
	}
	o, ok := ParseOutcome(*f.Outcome)
	if !ok {
		return nil, fmt.Errorf("%w: %s.outcome: %q is not one of %s", ErrScenario, field, *f.Outcome, strings.Join(outcomeNames[:], ", "))
	}
	x.Outcome = o
	if f.Reason != "" {
		r, ok := ParseReason(f.Reason)
		if !ok {
			return nil, fmt.Errorf("%w: %s.reason: %q is not one of %s", ErrScenario, field, f.Reason, strings.Join(reasonNames[:], ", "))
		}
		x.Reason = r
	}
	for name, v := range f.Counters {
		c, ok := CounterByName(name)
		if !ok {
			return nil, fmt.Errorf("%w: %s.counters.%s: not a modelled counter", ErrScenario, field, name)
		}
		x.Counters[c] = v
	}
	return x, nil
}
