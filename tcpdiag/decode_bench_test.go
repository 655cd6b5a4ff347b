package tcpdiag

import (
	"os"
	"testing"
)

// sinkListeners keeps the compiler from optimising benchmark work away.
var sinkListeners []Listener

// BenchmarkDecodeListeners decodes the captured IPv4 dump (301 listeners,
// each with five attributes) from memory: the Go side of a dump, without
// the kernel. ReadDrops decodes it as the reply to a request for
// INET_DIAG_SKMEMINFO, which it is, so the attributes are walked; default
// as the reply to Conn's default request, for which no attribute of an
// IPv4 listener is of use.
func BenchmarkDecodeListeners(b *testing.B) {
	raw, err := os.ReadFile("testdata/listeners_inet.bin")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		ext  uint8
	}{{"default", 0}, {"ReadDrops", skMemInfoExt}} {
		b.Run(bc.name, func(b *testing.B) {
			ls := make([]Listener, 0, 400)
			decode := func(payload []byte, off int) (err error) {
				ls, err = appendListener(ls, payload, off, bc.ext)
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
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ls)), "ns/listener")
			sinkListeners = ls
		})
	}
}
