package tcpdiag

import (
	"os"
	"testing"
)

// sinkListeners keeps the compiler from optimising benchmark work away.
var sinkListeners []Listener

// BenchmarkDecodeListeners decodes the captured IPv4 dump (301 listeners)
// from memory: the Go side of a dump, without the kernel.
func BenchmarkDecodeListeners(b *testing.B) {
	raw, err := os.ReadFile("testdata/listeners_inet.bin")
	if err != nil {
		b.Fatal(err)
	}
	ls := make([]Listener, 0, 400)
	decode := func(payload []byte, off int) error {
		ls = append(ls, Listener{})
		ok, err := decodeListener(payload, off, &ls[len(ls)-1])
		if !ok {
			ls = ls[:len(ls)-1]
		}
		return err
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		ls = ls[:0]
		d := dump{op: "bench", seq: captureSeq}
		if err := d.datagram(raw, decode); err != nil || !d.done {
			b.Fatal(err)
		}
	}
	if len(ls) != captureV4Count+1 {
		b.Fatalf("decoded %d listeners", len(ls))
	}
	sinkListeners = ls
}
