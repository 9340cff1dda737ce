// Package wirecheck uses tshark, Wireshark's dissectors, as an independent
// judge of what gonfs puts on the wire: it captures the traffic of a test
// run on one server port and then reports the frames Wireshark finds
// malformed, its expert-info errors, and ONC RPC calls and replies it cannot
// pair with each other. Our own decoders cannot find a bug they share with
// our encoders; a dissector written by other people can.
//
// # Use
//
//	c, err := wirecheck.Start(ctx, "lo", port, t.TempDir())
//	if errors.Is(err, wirecheck.ErrUnavailable) {
//		t.Skip(err) // no tshark, or no permission to capture
//	}
//	... run the interop traffic against 127.0.0.1:port ...
//	rep, err := c.Stop()
//	if err != nil { t.Fatal(err) }
//	if !rep.OK() { t.Errorf("wire check: %s", rep) }
//
// API:
//
//	var ErrUnavailable error
//	func Start(ctx context.Context, iface string, port int, dir string) (*Capture, error)
//	func (c *Capture) Path() string
//	func (c *Capture) Stop() (Report, error)
//	func Analyze(ctx context.Context, file string, ports ...int) (Report, error)
//	type Report struct {
//		File                         string
//		Frames, Calls, Replies       int
//		Procs                        map[Proc]int // calls per procedure
//		Unmatched, Malformed, Errors []Problem
//		Dropped                      int // frames the kernel dropped
//	}
//	type Proc struct { Prog, Vers, Proc uint32 }
//	func (r Report) OK() bool     // no problem and nothing dropped
//	func (r Report) Err() error   // nil when OK, else String as an error
//	func (r Report) String() string
//	type Problem struct { Frame int; XID uint32; Detail string }
//
// Start runs `tshark -i IFACE -f "port P or udp port M" -B 256 -q -F pcap
// -w -` and copies the stream to DIR/capture-P.pcap. Port M belongs to a
// UDP socket of the Capture itself on 127.0.0.1, so IFACE must carry
// loopback traffic ("lo", or "any"). Start returns only once a marker
// datagram sent to M has come back through tshark, so nothing the caller
// sends afterwards is missed, and Stop sends a second marker and waits for
// it before ending tshark, so every frame sent before Stop is in the file
// (libpcap hands packets over in blocks, and ending the capture at once
// would lose the last block). The capture needs root or CAP_NET_RAW for
// dumpcap; Start returns an error wrapping ErrUnavailable when tshark is
// missing or may not capture, so that tests can skip.
//
// Analyze (which Stop calls) runs tshark once over the file with port P
// decoded as ONC RPC over both TCP and UDP (`-d tcp.port==P,rpc -d
// udp.port==P,rpc`: Wireshark only guesses RPC on well-known ports) and
// reads, per frame, the RPC xids and message types, `_ws.malformed`, the
// expert-info severities, `rpc.continuation_data`, and each message's
// program, version and procedure, from which it counts the calls per
// procedure (Procs: an account of what a client asked that shares no code
// with the server's statistics). TCP segments that arrive out of order are
// reassembled (loopback does retransmit during large transfers). A call is matched by a reply with the same xid on the
// same TCP connection or UDP conversation; a call without a reply, and a
// reply without a captured call, are Unmatched. So is RPC data the
// dissector cannot frame as a message at all: Wireshark leaves a reply
// whose call it has not seen, a call of a program it does not know, and
// garbage as "continuation data". Only programs Wireshark knows (NFS,
// MOUNT, NLM, NSM, portmap, ...) can therefore be checked, and a capture
// must start before the connections it judges. A frame with a
// `_ws.malformed` item is Malformed; other expert items of severity error
// are Errors. Warnings (resets, retransmissions) are not problems.
//
// Traffic that ends abruptly on purpose (a test that closes a connection
// with a call outstanding) shows up as Unmatched: run such tests outside a
// capture, or judge the Report accordingly.
//
// # Concurrency
//
// A Capture is used by one goroutine: Start, then Stop once. Analyze may be
// called from any goroutine. Each Capture runs one tshark process and one
// goroutine copying its output until Stop.
package wirecheck
