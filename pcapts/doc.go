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
// Next does not allocate. On a generated 10-million-packet pcap (snap
// length 128, 1 GB, in the page cache) BenchmarkRead measured, on a
// 2-core AMD EPYC virtual machine:
//
//	pcapts                                       16.3 M packets/s  (61 ns)
//	pcapgo reader + DecodePacket                  9.0 M packets/s (111 ns)
//	pcapgo + gopacket DecodingLayerParser         4.2 M packets/s (239 ns)
//	tshark -T fields (1 M packets)               0.03 M packets/s
//
// With the same packet decoder, gopacket's pcapgo reader takes 111 ns per
// packet against 61 ns for this package's, so the file formats are read by
// hand rather than through pcapgo; the decoders are hand-written for the
// same reason (the DecodingLayerParser pipeline takes 239 ns per packet). A
// memory-mapped variant of the reader was measured at the same speed as
// read(2) into a 1 MiB buffer and was not kept.
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
