// Package trace reads packet captures (pcap and pcapng, as tcpdump, tshark
// and dumpcap write them) and explains the ONC RPC traffic in them: every
// call and reply of portmap/rpcbind, MOUNT, NFSv3, NLM, NSM, NFSv4.0–4.2
// (COMPOUND op by op) and the NFSv4 callback program (CB_COMPOUND), one
// line each like Wireshark's Info column, and then FINDINGS: the problems
// an operator would otherwise spend days on (two clients sharing one NFSv4
// client owner, retransmissions, calls never answered, slow operations,
// error hot spots, grace and stale-handle storms, a damaged capture).
// It is what `gonfs trace FILE` prints.
//
// # Pipeline
//
//	capture.go   pcap / pcapng frames → link layer (Ethernet, Linux cooked
//	             SLL and SLL2, BSD loopback, raw IP) → IPv4 (defragmented)
//	             or IPv6 → TCP segment or UDP datagram (gopacket, no cgo)
//	stream.go    per TCP direction: segments put in sequence order,
//	             duplicates dropped, gaps skipped; then RPC record marking
//	             (RFC 5531 §11), fragments joined into records, and
//	             resynchronisation at the next plausible record mark
//	             after a gap or when the capture starts mid-connection
//	rpc.go       RPC message header (RFC 5531 §9), call/reply matching by
//	             xid on the same conversation, retransmission detection
//	progs.go     argument and result decoding with the generated XDR types
//	             of proto/..., NFSv4 COMPOUND decoded one op at a time so
//	             that an op we cannot decode still leaves the ops before it
//	findings.go  the diagnosis
//	output.go    text and JSON
//
// RPC is recognised by structure, not by port: a TCP stream or UDP
// datagram whose data starts with a call header (RPC version 2, a known
// program: 100000, 100003, 100005, 100021, 100024, or a callback program
// a client announced) is followed wherever it is. Replies are recognised
// by matching the xid of a call seen on the same conversation.
//
// A capture that ends in the middle of a frame or a record, or that
// contains garbage, yields everything decoded up to that point and a note
// saying where it stopped; Analyze returns an error only when the input is
// not a capture at all.
//
// # Concurrency
//
// Analyze is a pure function of its input: it keeps all its state in the
// call and may run concurrently with itself. A Report is plain data.
package trace
