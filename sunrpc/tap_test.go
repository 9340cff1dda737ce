package sunrpc

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
)

// tapRecord is one record a Tap saw.
type tapRecord struct {
	local, remote netip.AddrPort
	proto         string
	inbound       bool
	data          []byte
}

type recordingTap struct {
	mu   sync.Mutex
	recs []tapRecord
}

func (r *recordingTap) Record(local, remote netip.AddrPort, proto string, inbound bool, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, tapRecord{local, remote, proto, inbound, bytes.Clone(data)})
}

// TestTap checks that a Tap sees each call record as read and each reply
// record as written, without TCP record marks, on both transports.
func TestTap(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			tap := &recordingTap{}
			ts := startServer(t, Options{Tap: tap}, nil)
			addr := ts.tcp
			if network == "udp" {
				addr = ts.udp
			}
			c := dialT(t, network, addr, ClientOptions{})
			if err := c.Call(context.Background(), testProg, testLow, procNull, nil, nil); err != nil {
				t.Fatal(err)
			}
			ts.stop(t)
			tap.mu.Lock()
			defer tap.mu.Unlock()
			if len(tap.recs) != 2 {
				t.Fatalf("tap saw %d records, want a call and a reply", len(tap.recs))
			}
			call, reply := tap.recs[0], tap.recs[1]
			if !call.inbound || reply.inbound || call.proto != network || reply.proto != network {
				t.Fatalf("records %+v, %+v: want an inbound then an outbound %s record", call, reply, network)
			}
			server := netip.MustParseAddrPort(addr)
			if call.local != server || reply.local != server || call.remote != reply.remote || !call.remote.IsValid() {
				t.Fatalf("addresses: call %v→%v, reply %v→%v; server %v", call.remote, call.local, reply.local, reply.remote, server)
			}
			// The call header: xid, CALL (0); the reply: same xid, REPLY (1).
			if len(call.data) < 8 || len(reply.data) < 8 || !bytes.Equal(call.data[:4], reply.data[:4]) ||
				call.data[7] != 0 || reply.data[7] != 1 {
				t.Fatalf("call %x, reply %x: want a call and its reply without record marks", call.data, reply.data)
			}
		})
	}
}

// TestTapGarbage checks that records are seen before they are judged: a
// garbage header reaches the tap even though the connection is closed.
func TestTapGarbage(t *testing.T) {
	tap := &recordingTap{}
	ts := startServer(t, Options{Tap: tap}, nil)
	r := dialRaw(t, ts.tcp)
	junk := []byte("not an rpc call header")
	r.write(frame(junk))
	r.closed()
	ts.stop(t)
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if len(tap.recs) != 1 || !bytes.Equal(tap.recs[0].data, junk) {
		t.Fatalf("tap saw %+v, want only the garbage record", tap.recs)
	}
}
