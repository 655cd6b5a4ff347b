package netstat

import (
	"errors"
	"fmt"
	"iter"
	"time"
)

// ErrReset is wrapped by the error of Delta.Compute when the two snapshots
// cannot come from one run of the same counters: the namespace was
// re-created, the machine rebooted, or the snapshots were swapped.
var ErrReset = errors.New("netstat: counters were reset")

// Delta is how far every counter moved between two snapshots.
//
// Event counters are unsigned and only grow in the kernel; their delta is
// cur - prev modulo 2^64, so a counter that went from 2^64-5 to 3 moved by
// 8. A few fields are levels or settings (Tcp CurrEstab, MaxConn, RtoMin,
// Ip Forwarding, DefaultTTL, MPTcpExt MPCurrEstab) and any field printed
// negative is treated the same: their delta is the signed difference.
//
// The reset rule (Compute fails with ErrReset):
//   - a counter of prev is missing from cur, or cur has a counter prev
//     lacks outside IcmpMsg (IcmpMsg prints a type only once it is
//     non-zero, so a new IcmpMsg counter moved from 0);
//   - an event counter went backwards: cur - prev modulo 2^64 is 2^63 or
//     more. No event counter moves by 2^63 between two reads, and none
//     decreases while the namespace lives (per-CPU parts of offline CPUs
//     still count), so one backwards counter proves the source changed;
//   - cur was read before prev.
//
// The zero Delta is empty. A Delta reused with Compute allocates nothing
// once it has held a delta of the same layout.
type Delta struct {
	// Start and End are the times of the two snapshots.
	Start, End time.Time

	lay    *layout
	values []Value
}

// Sub returns the delta from prev to s. See Delta for the reset rule.
func (s *Snapshot) Sub(prev *Snapshot) (*Delta, error) {
	d := new(Delta)
	if err := d.Compute(prev, s); err != nil {
		return nil, err
	}
	return d, nil
}

// Compute sets d to the delta from prev to cur, reusing d's storage. On
// error d is left empty. See Delta for the reset rule.
func (d *Delta) Compute(prev, cur *Snapshot) error {
	d.lay, d.values = nil, d.values[:0]
	d.Start, d.End = time.Time{}, time.Time{}
	if prev.lay == nil || cur.lay == nil {
		return fmt.Errorf("netstat: delta of an empty snapshot")
	}
	if !prev.Time.IsZero() && !cur.Time.IsZero() && cur.Time.Before(prev.Time) {
		return fmt.Errorf("%w: snapshot read at %s is older than the one it is compared to (%s)",
			ErrReset, cur.Time.Format(time.RFC3339Nano), prev.Time.Format(time.RFC3339Nano))
	}
	if cap(d.values) < len(cur.values) {
		d.values = make([]Value, 0, len(cur.values))
	}
	values := d.values[:len(cur.values)]
	if prev.lay == cur.lay {
		for i := range values {
			v, err := move(cur.lay, i, prev.values[i], cur.values[i])
			if err != nil {
				return err
			}
			values[i] = v
		}
	} else {
		if err := diffLayouts(prev, cur, values); err != nil {
			return err
		}
	}
	d.lay, d.values = cur.lay, values
	d.Start, d.End = prev.Time, cur.Time
	return nil
}

func move(lay *layout, i int, prev, cur Value) (Value, error) {
	if lay.gauge[i] || prev.neg || cur.neg {
		v, ok := cur.sub(prev)
		if !ok {
			return Value{}, fmt.Errorf("%w: %s changed from %s to %s", ErrReset, lay.keys[i], prev, cur)
		}
		return v, nil
	}
	m := cur.mag - prev.mag // modulo 2^64
	if m >= 1<<63 {
		return Value{}, fmt.Errorf("%w: %s went back from %d to %d", ErrReset, lay.keys[i], prev.mag, cur.mag)
	}
	return Value{mag: m}, nil
}

// diffLayouts computes a delta between snapshots of different headers.
func diffLayouts(prev, cur *Snapshot, values []Value) error {
	for c := range prev.lay.index {
		if _, ok := cur.lay.index[c]; !ok {
			return fmt.Errorf("%w: %s disappeared", ErrReset, c)
		}
	}
	for i, c := range cur.lay.keys {
		var pv Value
		if j, ok := prev.lay.index[c]; ok {
			pv = prev.values[j]
		} else if c.Proto() != "IcmpMsg" {
			return fmt.Errorf("%w: %s appeared", ErrReset, c)
		}
		v, err := move(cur.lay, i, pv, cur.values[i])
		if err != nil {
			return err
		}
		values[i] = v
	}
	return nil
}

// Interval returns End - Start, or 0 if either time is unknown.
func (d *Delta) Interval() time.Duration {
	if d.Start.IsZero() || d.End.IsZero() {
		return 0
	}
	return d.End.Sub(d.Start)
}

// Len returns the number of counters.
func (d *Delta) Len() int { return len(d.values) }

// Value returns how far c moved, signed for levels, and false if c is not
// in the snapshots.
func (d *Delta) Value(c Counter) (Value, bool) {
	if d.lay == nil {
		return Value{}, false
	}
	i, ok := d.lay.index[c]
	if !ok {
		return Value{}, false
	}
	return d.values[i], true
}

// Get returns how far event counter c moved, and false if c is not in the
// snapshots (or is a level that went down: use Value).
func (d *Delta) Get(c Counter) (uint64, bool) {
	v, ok := d.Value(c)
	if !ok {
		return 0, false
	}
	return v.Uint64()
}

// Lookup is Value by protocol and name.
func (d *Delta) Lookup(proto, name string) (Value, bool) {
	if d.lay == nil {
		return Value{}, false
	}
	return lookup(d.lay, d.values, proto, name)
}

// Rate returns how fast c moved, per second, and false if c is absent or
// the interval is unknown or not positive.
func (d *Delta) Rate(c Counter) (float64, bool) {
	v, ok := d.Value(c)
	iv := d.Interval()
	if !ok || iv <= 0 {
		return 0, false
	}
	f := float64(v.mag)
	if v.neg {
		f = -f
	}
	return f / iv.Seconds(), true
}

// All yields every counter's delta in file order.
func (d *Delta) All() iter.Seq2[Counter, Value] {
	return func(yield func(Counter, Value) bool) {
		if d.lay == nil {
			return
		}
		for i, v := range d.values {
			if !yield(d.lay.keys[i], v) {
				return
			}
		}
	}
}
