package paws

import (
	"encoding/binary"
	"os"
	"testing"
)

// encodeScenario turns a scenario's events into streamGen bytes, to seed
// FuzzEvaluator from the test vectors.
func encodeScenario(s *Scenario) []byte {
	b := []byte{0, 1, 200, 64, 5, 128, 0, 0, 0, 0}
	for i, k := range fuzzKernels {
		if MustParseKernelVersion(k) == s.Profile.Kernel {
			b[0] = byte(i)
		}
	}
	last := s.Start()
	for _, ev := range s.Events {
		dt := (ev.Time - last) / 10e6
		last = ev.Time
		c := byte(ev.Type-1) & 7
		if ev.HasTS {
			c |= 8
		}
		b = append(b, c, byte(min(dt, 255)), byte(ev.Src.Port()&0xf8)|byte(ev.Src.Addr().As16()[15]&7))
		b = binary.LittleEndian.AppendUint32(b, uint32(ev.TSval))
		x := byte(0)
		if ev.HasSeq {
			x |= 1
		}
		b = append(b, x, byte(ev.Seq/100))
		b = append(b, byte(ev.TSval-ev.TSecr))
		if ev.Type == EventServerClose {
			b = append(b, byte((ev.Time-ev.TSvalAt)/1e6))
		}
	}
	return b
}

func FuzzEvaluator(f *testing.F) {
	for _, path := range scenarioFiles(f) {
		f.Add(encodeScenario(loadScenario(f, path)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		g := &streamGen{b: data}
		e := g.evaluator(t, -1)
		var sum Counters
		now := e.Now()
		for steps := 0; len(g.b) > 0 && steps < 4096; steps++ {
			ev := g.next(now)
			now = ev.Time
			sum.Add(e.Advance(ev.Time))
			r := e.Step(ev)
			if r.Outcome > OutcomeRefuse || r.Reason > ReasonTSecr {
				t.Fatalf("bad result %+v", r)
			}
			for c, v := range r.Counters {
				if v > 2 {
					t.Fatalf("%s moved by %d in one event: %s", Counter(c), v, r.Explain())
				}
				if v != 0 && !e.p.Counters.Has(Counter(c)) {
					t.Fatalf("%s does not exist on %s", Counter(c), e.p.Kernel)
				}
			}
			_ = r.Explain()
			sum.AddDeltas(r.Counters)
			checkInvariants(t, e)
		}
		if sum != e.Totals() {
			t.Fatalf("totals %v, sum of deltas %v", e.Totals(), sum)
		}
	})
}

func FuzzParseScenario(f *testing.F) {
	for _, path := range scenarioFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"kernel":"6.18.44","listener":{"addr":"[::1]:80","backlog":0},"wall_start":0,"events":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScenario(data)
		if err != nil {
			if s != nil {
				t.Fatal("scenario with an error")
			}
			return
		}
		res, e, err := s.Run()
		if err != nil {
			t.Fatalf("parsed scenario does not run: %v", err)
		}
		if len(res) != len(s.Events) {
			t.Fatal("results and events differ in number")
		}
		for _, r := range res {
			_ = r.Explain()
		}
		_ = s.Check(res)
		checkInvariants(t, e)
	})
}
