package netstat

import "bytes"

// parseFast is the steady state of a Reader: it fills values from srcs
// when every header line is lay's, byte for byte, and every value line is
// well formed, in one pass without splitting lines or tokenising names.
// It reports false otherwise, having perhaps written some values; the
// caller then takes the slow path, which finds or builds the layout and
// names the line and field of any error. Whatever parseFast accepts, the
// slow path accepts with the same values.
func parseFast(lay *layout, srcs []source, values []Value) bool {
	if len(srcs) != len(lay.files) || len(values) != len(lay.keys) {
		return false
	}
	g := 0
	for f, src := range srcs {
		b := src.data
		for ; g < lay.files[f]; g++ {
			gr := &lay.groups[g]
			b = skipBlankLines(b)
			if !bytes.HasPrefix(b, gr.line) {
				return false
			}
			b = skipBlankLines(b[len(gr.line):])
			// The value line starts with the header's "Proto:".
			p := len(gr.proto) + 1
			if len(b) < p || string(b[:p]) != string(gr.line[:p]) {
				return false
			}
			var ok bool
			if b, ok = parseValueLine(b[p:], values[gr.start:gr.end]); !ok {
				return false
			}
		}
		if len(skipBlankLines(b)) != 0 {
			return false
		}
	}
	return true
}

// Byte classes of a value line.
const (
	sepMask = 1<<' ' | 1<<'\t' | 1<<'\r' // field separators
	endMask = sepMask | 1<<'\n'          // what may follow a value
)

// in reports whether c is in mask, a set of bytes below 64.
func in(mask uint64, c byte) bool { return c < 64 && mask>>c&1 != 0 }

// skipBlankLines returns b after its leading lines made only of spaces,
// tabs and carriage returns, as lines.next skips them.
func skipBlankLines(b []byte) []byte {
	for len(b) > 0 && in(endMask, b[0]) {
		i := 0
		for i < len(b) && in(sepMask, b[i]) {
			i++
		}
		switch {
		case i == len(b):
			return b[i:]
		case b[i] != '\n':
			return b // a line that starts with blanks: not blank
		}
		b = b[i+1:]
	}
	return b
}

// parseValueLine parses the values of one line, after its "Proto:", into
// vals, which it must fill exactly, and returns the rest of b after the
// line's '\n'. It expects the kernel's format, one space before each
// value and '\n' after the last, and hands anything else (several spaces,
// tabs, no final newline) to parseFields.
func parseValueLine(b []byte, vals []Value) ([]byte, bool) {
	i := 0
	for n := range vals {
		if i >= len(b) || b[i] != ' ' {
			return parseFields(b, vals)
		}
		i++
		start := i
		var u uint64
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			u = u*10 + uint64(d)
		}
		if uint(i-start-1) > 18 {
			// A sign, 20 digits or no digit at all.
			for i = start; i < len(b) && !in(endMask, b[i]); i++ {
			}
			if i == start {
				return parseFields(b, vals)
			}
			v, ok := parseValue(b[start:i])
			if !ok {
				return nil, false
			}
			vals[n] = v
			continue
		}
		vals[n] = Value{mag: u} // at most 19 digits: no overflow
	}
	if i < len(b) && b[i] == '\n' {
		return b[i+1:], true
	}
	return parseFields(b, vals)
}

// parseFields is parseValueLine for any separators the slow path
// accepts: runs of spaces, tabs and carriage returns, and the end of b in
// place of the final '\n'.
func parseFields(b []byte, vals []Value) ([]byte, bool) {
	n, i := 0, 0
	for {
		for i < len(b) && in(sepMask, b[i]) {
			i++
		}
		if i == len(b) {
			break
		}
		if b[i] == '\n' {
			i++
			break
		}
		if n == len(vals) {
			return nil, false
		}
		start := i
		for i < len(b) && !in(endMask, b[i]) {
			i++
		}
		v, ok := parseValue(b[start:i])
		if !ok {
			return nil, false
		}
		vals[n] = v
		n++
	}
	return b[i:], n == len(vals)
}
