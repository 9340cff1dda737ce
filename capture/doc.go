// Package capture writes a server's own RPC traffic to a pcapng file, for
// `gonfs ctl capture start FILE`: no tcpdump, no capture privileges, and the
// traffic is seen as the server read and wrote it (after any TLS, with no
// loss to a full kernel buffer).
//
// The server's sunrpc layer hands every record it reads or writes to a
// sunrpc.Tap. A Writer is such a tap: it wraps each record in synthesized
// Ethernet, IPv4 or IPv6 and TCP or UDP headers (for TCP with a
// single-fragment record mark, RFC 5531 §11, and sequence numbers that run
// on per connection and direction) so that Wireshark, tshark and
// `gonfs trace` decode the file as if it had been captured on the wire. A
// record too large for one IP packet is cut into several TCP segments. The
// file is bounded: when the next frame would take it beyond MaxSize it is
// started afresh (a ring of one file, as dumpcap's "-b files:1"), so it
// always holds the most recent traffic.
//
// A Switch is the tap the server installs once: it forwards to the Writer
// started by an operator, if any, and costs one atomic load per record when
// no capture runs.
//
// Concurrency: Writer and Switch methods are safe for concurrent use; a
// Writer serializes frames under one mutex, so frames of one connection
// appear in the order the server's tap calls came, which sunrpc makes the
// wire order.
package capture
