package netstat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// ErrParse is wrapped by every error about the content of a counters file.
var ErrParse = errors.New("netstat: malformed counters")

// ParseError describes malformed content. It wraps ErrParse.
type ParseError struct {
	File  string // file name as given to the parser, "/proc/net/netstat"
	Line  int    // 1-based line number in File
	Field int    // 1-based field number on the line (after the protocol), 0 for the whole line
	Msg   string // what is wrong
}

// Error returns "netstat: FILE:LINE: [field N: ]MSG".
func (e *ParseError) Error() string {
	if e.Field > 0 {
		return fmt.Sprintf("netstat: %s:%d: field %d: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("netstat: %s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns ErrParse.
func (e *ParseError) Unwrap() error { return ErrParse }

// layout is the part of a read that depends only on the header lines: the
// counter names in file order and an index over them. It is immutable once
// built, so snapshots with equal headers share one.
type layout struct {
	hdr    []byte // every header line + '\n', each file followed by 0
	keys   []Counter
	gauge  []bool
	index  map[Counter]int // first occurrence of each counter
	groups []group         // one per header/value line pair, in file order
	files  []int           // end of each source's groups
}

type group struct {
	proto      string
	line       []byte // the header line and its '\n', within hdr
	start, end int    // range of keys
}

// Snapshot holds every counter of one read of /proc/net/netstat and
// /proc/net/snmp, in file order, including counters this package does not
// describe. The names are kept once per distinct header layout; a Snapshot
// re-read from files whose header lines did not change reuses its storage
// and allocates nothing.
//
// The zero Snapshot is empty and ready for Reader.ReadInto or Parse. A
// Snapshot is not safe for concurrent use while it is being read into.
type Snapshot struct {
	// Time is when the files were read; zero for a Snapshot parsed from
	// text without a time.
	Time time.Time

	lay    *layout
	values []Value
}

// Len returns the number of counters, counting repeats.
func (s *Snapshot) Len() int { return len(s.values) }

// Value returns the value of c, and false if this kernel does not print c.
func (s *Snapshot) Value(c Counter) (Value, bool) {
	if s.lay == nil {
		return Value{}, false
	}
	i, ok := s.lay.index[c]
	if !ok {
		return Value{}, false
	}
	return s.values[i], true
}

// Get returns the value of counter c and true, or 0 and false if this
// kernel does not print c (or prints it negative: use Value for Tcp
// MaxConn). A counter that exists and is zero returns 0 and true.
func (s *Snapshot) Get(c Counter) (uint64, bool) {
	v, ok := s.Value(c)
	if !ok {
		return 0, false
	}
	return v.Uint64()
}

// Lookup returns the value of counter name of protocol proto, for
// counters without a constant: s.Lookup("TcpExt", "TCPAOGood").
func (s *Snapshot) Lookup(proto, name string) (Value, bool) {
	if s.lay == nil {
		return Value{}, false
	}
	return lookup(s.lay, s.values, proto, name)
}

func lookup(l *layout, values []Value, proto, name string) (Value, bool) {
	for _, g := range l.groups {
		if g.proto != proto {
			continue
		}
		for i := g.start; i < g.end; i++ {
			k := string(l.keys[i])
			if len(k) == len(proto)+1+len(name) && k[len(proto)+1:] == name {
				return values[i], true
			}
		}
	}
	return Value{}, false
}

// All yields every counter in file order: /proc/net/netstat first, then
// /proc/net/snmp. A counter printed twice is yielded twice; Get and Value
// return its first occurrence.
func (s *Snapshot) All() iter.Seq2[Counter, Value] {
	return func(yield func(Counter, Value) bool) {
		if s.lay == nil {
			return
		}
		for i, v := range s.values {
			if !yield(s.lay.keys[i], v) {
				return
			}
		}
	}
}

// Protocols returns the protocols in file order, each once.
func (s *Snapshot) Protocols() []string {
	if s.lay == nil {
		return nil
	}
	var ps []string
	for _, g := range s.lay.groups {
		if !containsString(ps, g.proto) {
			ps = append(ps, g.proto)
		}
	}
	return ps
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Clone returns a copy of s that shares nothing mutable with it.
func (s *Snapshot) Clone() *Snapshot {
	c := &Snapshot{Time: s.Time, lay: s.lay}
	c.values = append([]Value(nil), s.values...)
	return c
}

// Parse reads counters in the format of /proc/net/netstat and
// /proc/net/snmp (pairs of "Proto: names" and "Proto: values" lines) from
// r, which may hold one file or several concatenated, such as the output
// of "cat /proc/net/netstat /proc/net/snmp". Errors name the line and
// field and wrap ErrParse.
func Parse(r io.Reader) (*Snapshot, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("netstat: read: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, &ParseError{File: "input", Line: 1, Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}
	}
	s := new(Snapshot)
	if err := s.parse([]source{{name: "input", data: b}}, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// maxFileSize bounds one counters file. 6.18 prints about 4 KiB for
// /proc/net/netstat; the bound only stops a runaway input.
const maxFileSize = 1 << 20

type source struct {
	name string
	data []byte
}

// parse fills s from the sources and sets s.lay to the layout it used.
// cached is a layout to try before building one (the Reader's last). When
// the header lines are those of s's layout or of cached, parseFast reads
// the values in one pass; anything else takes the slow path.
func (s *Snapshot) parse(srcs []source, cached *layout) error {
	if s.lay != nil && parseFast(s.lay, srcs, s.values) {
		return nil
	}
	if cached != nil && cached != s.lay {
		if cap(s.values) < len(cached.keys) {
			s.values = make([]Value, len(cached.keys))
		}
		if parseFast(cached, srcs, s.values[:len(cached.keys)]) {
			s.lay, s.values = cached, s.values[:len(cached.keys)]
			return nil
		}
	}
	// The slow path: find or build the layout, then parse with line
	// numbers so that errors can name them.
	lay := s.lay
	if lay == nil || !sameHeaders(lay, srcs) {
		switch {
		case cached != nil && cached != lay && sameHeaders(cached, srcs):
			lay = cached
		default:
			var err error
			if lay, err = buildLayout(srcs); err != nil {
				s.lay, s.values = nil, s.values[:0]
				return err
			}
		}
	}
	if cap(s.values) < len(lay.keys) {
		s.values = make([]Value, len(lay.keys))
	}
	s.values = s.values[:len(lay.keys)]
	s.lay = lay
	if err := parseValues(lay, srcs, s.values); err != nil {
		s.lay, s.values = nil, s.values[:0]
		return err
	}
	return nil
}

// lines iterates over the non-blank lines of b with their 1-based numbers.
// Blank lines are skipped: 2.6 kernels print one inside IcmpMsg.
type lines struct {
	b    []byte
	n    int
	line []byte
}

func (l *lines) next() bool {
	for len(l.b) > 0 {
		l.n++
		i := bytes.IndexByte(l.b, '\n')
		if i < 0 {
			l.line, l.b = l.b, nil
		} else {
			l.line, l.b = l.b[:i], l.b[i+1:]
		}
		if len(bytes.TrimLeft(l.line, " \t\r")) > 0 {
			return true
		}
	}
	return false
}

// sameHeaders reports whether every header line of srcs equals lay's, in
// order, without allocating.
func sameHeaders(lay *layout, srcs []source) bool {
	hdr := lay.hdr
	for _, src := range srcs {
		l := lines{b: src.data}
		for odd := true; l.next(); odd = !odd {
			if !odd {
				continue
			}
			h := l.line
			if len(hdr) < len(h)+1 || !bytes.Equal(hdr[:len(h)], h) || hdr[len(h)] != '\n' {
				return false
			}
			hdr = hdr[len(h)+1:]
		}
		if len(hdr) == 0 || hdr[0] != 0 {
			return false
		}
		hdr = hdr[1:]
	}
	return len(hdr) == 0
}

// splitProto splits "Proto: rest" at the first colon.
func splitProto(line []byte) (proto, rest []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 || bytes.ContainsAny(line[:i], " \t") {
		return nil, nil, false
	}
	return line[:i], line[i+1:], true
}

// fields calls fn with each space-separated field of b.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	return b[i:j], b[j:]
}

func buildLayout(srcs []source) (*layout, error) {
	lay := &layout{index: make(map[Counter]int)}
	var keys strings.Builder
	type pending struct {
		proto      string
		start, end int // byte offsets into keys
	}
	var ks []pending
	var offs []int // of each header line in lay.hdr
	for _, src := range srcs {
		l := lines{b: src.data}
		odd := true
		pairs := 0
		for ; l.next(); odd = !odd {
			proto, rest, ok := splitProto(l.line)
			if !ok {
				return nil, &ParseError{File: src.name, Line: l.n, Msg: fmt.Sprintf("no %q prefix in %q", "Proto:", clip(l.line))}
			}
			if !odd {
				continue // value lines are checked by parseValues
			}
			pairs++
			offs = append(offs, len(lay.hdr))
			lay.hdr = append(append(lay.hdr, l.line...), '\n')
			g := group{proto: string(proto), start: len(ks)}
			for f := 1; ; f++ {
				var name []byte
				name, rest = nextField(rest)
				if len(name) == 0 {
					break
				}
				start := keys.Len()
				keys.Write(proto)
				keys.WriteByte(':')
				keys.Write(name)
				ks = append(ks, pending{proto: g.proto, start: start, end: keys.Len()})
			}
			g.end = len(ks)
			lay.groups = append(lay.groups, g)
		}
		if !odd {
			return nil, &ParseError{File: src.name, Line: l.n, Msg: "header line without a value line (odd number of lines)"}
		}
		if pairs == 0 {
			return nil, &ParseError{File: src.name, Line: 1, Msg: "no counters (empty file)"}
		}
		lay.hdr = append(lay.hdr, 0)
		lay.files = append(lay.files, len(lay.groups))
	}
	for i, off := range offs {
		end := off + bytes.IndexByte(lay.hdr[off:], '\n') + 1
		lay.groups[i].line = lay.hdr[off:end:end]
	}
	all := keys.String()
	lay.keys = make([]Counter, len(ks))
	lay.gauge = make([]bool, len(ks))
	for i, k := range ks {
		c := Counter(all[k.start:k.end])
		lay.keys[i] = c
		lay.gauge[i] = isGauge(c)
		if _, dup := lay.index[c]; !dup {
			lay.index[c] = i
		}
	}
	return lay, nil
}

func parseValues(lay *layout, srcs []source, values []Value) error {
	gi := 0
	for _, src := range srcs {
		l := lines{b: src.data}
		var hdrProto []byte
		for odd := true; l.next(); odd = !odd {
			proto, rest, ok := splitProto(l.line)
			if !ok {
				return &ParseError{File: src.name, Line: l.n, Msg: fmt.Sprintf("no %q prefix in %q", "Proto:", clip(l.line))}
			}
			if odd {
				hdrProto = proto
				continue
			}
			if !bytes.Equal(proto, hdrProto) {
				return &ParseError{File: src.name, Line: l.n, Msg: fmt.Sprintf("value line of %q follows header line of %q", proto, hdrProto)}
			}
			g := lay.groups[gi]
			gi++
			i := g.start
			for f := 1; ; f++ {
				var field []byte
				field, rest = nextField(rest)
				if len(field) == 0 {
					break
				}
				if i == g.end {
					return &ParseError{File: src.name, Line: l.n, Msg: fmt.Sprintf("%s: %d names but more values", g.proto, g.end-g.start)}
				}
				v, ok := parseValue(field)
				if !ok {
					return &ParseError{File: src.name, Line: l.n, Field: f, Msg: fmt.Sprintf("%s: %q is not a 64-bit integer", lay.keys[i], clip(field))}
				}
				values[i] = v
				i++
			}
			if i != g.end {
				return &ParseError{File: src.name, Line: l.n, Msg: fmt.Sprintf("%s: %d names but %d values", g.proto, g.end-g.start, i-g.start)}
			}
		}
	}
	return nil
}

// parseValue parses an unsigned decimal, or a negative one that fits an
// int64. It is strconv.ParseUint without the string conversion.
func parseValue(b []byte) (Value, bool) {
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 20 {
		return Value{}, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return Value{}, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return Value{}, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return Value{}, false
		}
		return Value{mag: u, neg: u != 0}, true
	}
	return Value{mag: u}, true
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
