package pcapts

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/paws-go/paws/internal/capgen"
)

// Sinks keep the compiler from removing the benchmarked work.
var (
	sinkAddr netip.Addr
	sinkTS   uint32
	sinkN    int
)

// cpuTime returns the process's user and system CPU time. On a shared
// machine packets per CPU second is steadier than per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// genFile writes a generated capture of n packets under dir.
func genFile(b *testing.B, dir string, n int, format capgen.Format) string {
	b.Helper()
	name := filepath.Join(dir, "bench.cap")
	genFileAt(b, name, n, format)
	return name
}

// genFileAt writes a generated capture of n packets to name.
func genFileAt(b *testing.B, name string, n int, format capgen.Format) {
	b.Helper()
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := capgen.Write(f, capgen.Config{Seed: 7, Addresses: 2000, Packets: n, Format: format, IPv6Share: 0.2}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// readPcapts is the measured path: this package's reader and the
// extraction of the source address and TSval of every segment, through
// Current.
func readPcapts(b *testing.B, name string) int { return readPcaptsWith(b, name, false) }

// readPcaptsCopy is readPcapts through Segment, which copies each segment.
func readPcaptsCopy(b *testing.B, name string) int { return readPcaptsWith(b, name, true) }

func readPcaptsWith(b *testing.B, name string, copySegment bool) int {
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	if copySegment {
		for r.Next() {
			s := r.Segment()
			sinkAddr, sinkTS = s.Flow.Src.Addr(), s.TSval
			n++
		}
	} else {
		for r.Next() {
			s := r.Current()
			sinkAddr, sinkTS = s.Flow.Src.Addr(), s.TSval
			n++
		}
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// readPcapgoDecode uses gopacket's pcapgo reader for the file format and
// this package's decoder for the packets.
func readPcapgoDecode(b *testing.B, name string) int {
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		if s, _, ok := DecodePacket(LinkType(r.LinkType()), data, ci.Length); ok {
			sinkAddr, sinkTS = s.Flow.Src.Addr(), s.TSval
			n++
		}
	}
}

// readGopacket is the gopacket pipeline: pcapgo reader,
// ZeroCopyReadPacketData and a DecodingLayerParser with Ethernet, IPv4,
// IPv6 and TCP layers, extracting the same two fields.
func readGopacket(b *testing.B, name string) int {
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		decoded = make([]gopacket.LayerType, 0, 4)
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	p.IgnoreUnsupported = true
	n := 0
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := p.DecodeLayers(data, &decoded); err != nil {
			continue // truncated payloads of snaplen-cut packets
		}
		var src netip.Addr
		for _, lt := range decoded {
			switch lt {
			case layers.LayerTypeIPv4:
				src, _ = netip.AddrFromSlice(ip4.SrcIP)
			case layers.LayerTypeIPv6:
				src, _ = netip.AddrFromSlice(ip6.SrcIP)
			case layers.LayerTypeTCP:
				for _, o := range tcp.Options {
					if o.OptionType == layers.TCPOptionKindTimestamps && len(o.OptionData) == 8 {
						sinkTS = binary.BigEndian.Uint32(o.OptionData)
					}
				}
				sinkAddr = src
				n++
			}
		}
	}
}

// BenchmarkRead compares, in one run, this package's reader with
// gopacket's reader and decoder, and with tshark, on a generated pcap of
// 10 million packets (snap length 128). Each sub-benchmark reports
// packets per second. Skipped with -short.
//
// The capture is generated in a temporary directory at every run (about
// 7 s). With PCAPTS_BENCH_FILE set, the named file is read instead, and
// generated there first if it does not exist, so that -count runs and
// profiles share one file; remove it afterwards.
func BenchmarkRead(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping: generates a 10-million-packet capture (1.2 GB)")
	}
	const packets = 10_000_000
	name := os.Getenv("PCAPTS_BENCH_FILE")
	if name == "" {
		name = genFile(b, b.TempDir(), packets, capgen.PcapMicro)
	} else if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		genFileAt(b, name, packets, capgen.PcapMicro)
	}
	for _, bm := range []struct {
		name string
		read func(*testing.B, string) int
	}{
		{"pcapts", readPcapts},
		{"pcapts-Segment", readPcaptsCopy},
		{"pcapgo+DecodePacket", readPcapgoDecode},
		{"gopacket-DecodingLayerParser", readGopacket},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var total int
			cpu0 := cpuTime()
			for b.Loop() {
				n := bm.read(b, name)
				if n < packets*9/10 {
					b.Fatalf("%d segments of %d packets", n, packets)
				}
				total += n
			}
			sinkN = total
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "pkts/s")
			b.ReportMetric(float64(total)/(cpuTime()-cpu0).Seconds(), "pkts/cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
	b.Run("tshark-1M", func(b *testing.B) {
		if _, err := exec.LookPath("tshark"); err != nil {
			b.Skip("tshark not installed")
		}
		small := genFile(b, b.TempDir(), 1_000_000, capgen.PcapMicro)
		b.ReportAllocs()
		var total int
		for b.Loop() {
			out, err := exec.Command("tshark", "-r", small, "-T", "fields", "-e", "ip.src", "-e", "tcp.options.timestamp.tsval").Output()
			if err != nil {
				b.Fatal(err)
			}
			total += bytes.Count(out, []byte{'\n'})
		}
		sinkN = total
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "pkts/s")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkFormats compares pcap and pcapng on an in-memory capture of
// 200,000 packets, without disk or page-cache effects.
func BenchmarkFormats(b *testing.B) {
	for _, f := range []struct {
		name   string
		format capgen.Format
	}{{"pcap", capgen.PcapMicro}, {"pcap-ns", capgen.PcapNano}, {"pcapng", capgen.PcapNG}} {
		var buf bytes.Buffer
		if _, err := capgen.Write(&buf, capgen.Config{Seed: 9, Addresses: 500, Packets: 200_000, Format: f.format}); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var total int
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
					sinkTS = r.Segment().TSval
					total++
				}
			}
			sinkN = total
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// BenchmarkAnalyzer measures the per-segment cost of the Analyzer.
func BenchmarkAnalyzer(b *testing.B) {
	var buf bytes.Buffer
	if _, err := capgen.Write(&buf, capgen.Config{Seed: 10, Addresses: 1000, Packets: 500_000}); err != nil {
		b.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	var segs []Segment
	for r.Next() {
		segs = append(segs, r.Segment())
	}
	b.ReportAllocs()
	var total int
	for b.Loop() {
		a := NewAnalyzer(Config{})
		for _, s := range segs {
			a.Add(s)
		}
		sinkN = len(a.Report().Hosts)
		total += len(segs)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "pkts/s")
}
