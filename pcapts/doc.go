// Package pcapts provides a streaming reader of TCP segments from pcap and
// pcapng captures and an analyser that tells, per client address, which
// SYNs a server answered and how many hosts with unrelated TSval clocks
// hide behind the address.
//
// # Reading
//
// NewReader detects pcap (either byte order, microsecond or nanosecond
// time stamps), pcapng (several sections and interfaces, enhanced, simple
// and obsolete packet blocks, if_tsresol and if_tsoffset) and gzip
// compression. Next, Segment and Err iterate with a sticky error:
//
//	r, err := pcapts.NewReader(f)
//	...
//	for r.Next() {
//		s := r.Segment() // a value; nothing refers to the reader's buffer
//	}
//	if err := r.Err(); err != nil { ... } // an *Error with the byte offset
//
// The link types are Ethernet (with 802.1Q, 802.1ad and 0x9100 tags),
// Linux cooked captures v1 and v2 (tcpdump -i any), raw IP (101, 12, 14,
// 228, 229), BSD NULL and OpenBSD LOOP. IPv4 options and IPv6 extension
// headers are skipped; fragments, non-TCP packets and headers cut by the
// snap length are counted in Stats by SkipReason. A TCP option cut by the
// snap length is not reported; the options before it are.
//
// # Errors and limits
//
// Errors are *Error values that name the byte offset and the record or
// block, and wrap ErrFormat (invalid content), io.ErrUnexpectedEOF (a file
// cut short) or the underlying reader's error. The segments before the
// error are delivered. A record longer than MaxPacketLength, a pcapng
// block longer than MaxBlockLength, or more than MaxInterfaces interfaces
// is rejected before anything is allocated for it: a Reader never holds
// more than 1 MiB of buffer.
//
// # Allocation and speed
//
// Next does not allocate, and a Reader holds one buffer of at most 1 MiB:
// memory does not grow with the capture (a program reading 0.1, 1 and 10
// million packets peaked at 3.5 MB of RSS each time). Segment copies the
// 128-byte segment; Current returns a pointer to the Reader's own, for
// loops that look at a few fields of every segment.
//
// The common layouts take fast paths with constant offsets: pcap records
// and pcapng enhanced packet blocks wholly in the buffer; Ethernet, then
// IPv4 without options or IPv6 without extension headers, then TCP with no
// options or the option layouts of Linux (NOP, NOP, timestamp; MSS, SACK
// permitted, timestamp, NOP, window scale). Everything else takes the
// general decoder, with the same results (the fuzz targets compare them).
//
// BenchmarkRead reads a generated 10-million-packet pcap (snap length 128,
// 105 bytes a packet, 1.05 GB in the page cache) and takes the source
// address and TSval of every segment. Medians of 6 runs on a 2-core Intel
// Xeon (Sapphire Rapids) virtual machine shared with other jobs:
//
//	pcapts, Next and Current                  32.4 M packets/s  (31 ns)
//	pcapts, Next and Segment                  30.4 M packets/s  (33 ns)
//	pcapgo reader + DecodePacket              15.9 M packets/s  (63 ns)
//	pcapgo + gopacket DecodingLayerParser      7.7 M packets/s (130 ns)
//	tshark -T fields (1 M packets)            0.06 M packets/s
//
// When the machine was quieter the first and fourth lines were 37.4 and
// 8.0 M packets/s. Reading the file bounds the speed: read(2) copies the
// page cache at 6.5 GB/s under that load (dd, 1 MiB blocks; 8.8 GB/s on
// the quiet machine), 16 ns a packet, and merely walking the records of
// the file read that way takes 20 ns a packet (16 ns quiet); decoding
// adds about 11 ns. Walking a memory-mapped file was slower than read(2)
// into a 1 MiB buffer (18 against 16 ns a packet: page faults), and read
// sizes from 32 KiB to 1 MiB made no difference. From memory
// (BenchmarkFormats), pcap takes 20 ns a packet and pcapng 25 ns.
//
// # Analysis
//
// An Analyzer is fed segments in capture order. For each address that
// sends SYNs it counts SYNs, retransmissions (same 4-tuple and sequence
// number), SYNs answered by a SYN-ACK, by a bare ACK (a TIME_WAIT socket
// rejecting the SYN), by a reset, or never answered, and TSval regressions
// between successive SYNs. It groups the TSvals of each address's
// connections into clocks (TSval ≈ offset + rate·t at 100, 250, 300, 1000
// Hz or 1 MHz) and classifies the address (Regime): one clock, several
// clocks each followed by several connections (hosts behind NAT), a fresh
// clock for every connection (senders with per-connection TSval offsets:
// Linux 4.10.0, 7.0 and later, 6.12.94 and later), no timestamps, or a
// mix. Memory is proportional to the open connections and the addresses,
// with the caps of Config; a clock keeps a least-squares summary, not its
// samples.
//
// With Config.Evaluator set to a model of the server's kernel
// (github.com/paws-go/paws), every SYN also gets the predicted reaction and
// the most likely cause of what was observed (Cause): per-host PAWS with
// the cached TSval, TIME_WAIT PAWS, a full accept or SYN queue, or a loss
// the server's rules do not explain.
package pcapts
