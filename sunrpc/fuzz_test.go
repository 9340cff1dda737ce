package sunrpc

import (
	"github.com/gonfs/gonfs/proto/rpcxdr"

	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
)

// FuzzReadRecord checks record marking against arbitrary streams: no
// panic, no record over the limit, and a record read back unchanged once
// framed again as one fragment.
func FuzzReadRecord(f *testing.F) {
	f.Add(frame(nullCall(1)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 2, 1, 2, 0x80, 0, 0, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 12
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			rec, started, err := readRecord(br, nil, limit)
			if len(rec) > limit {
				t.Fatalf("record of %d bytes passed the limit", len(rec))
			}
			if err != nil {
				if err == io.EOF && started {
					t.Fatalf("clean EOF inside a record")
				}
				return
			}
			again, _, err := readRecord(bufio.NewReader(bytes.NewReader(frame(rec))), nil, limit)
			if err != nil || !bytes.Equal(again, rec) {
				t.Fatalf("reframed record %x read back as %x, %v", rec, again, err)
			}
		}
	})
}

// FuzzCallHeader feeds arbitrary messages to the server's admission path
// (header decode, authentication, dispatch choice, DRC) and checks that any
// answer it sends is a well-formed reply to the message's xid.
func FuzzCallHeader(f *testing.F) {
	sys := authSysBody(rpcxdr.AuthsysParms{Stamp: 1, Machinename: "host", Uid: 1, Gid: 1, Gids: []uint32{1, 2}})
	f.Add(nullCall(1))
	f.Add(encodeCall(2, 2, testProg, testLow, procCountOnce, rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: sys}, rpcxdr.OpaqueAuth{}, []byte{0, 0, 0, 1}))
	f.Add(encodeCall(3, 3, testProg, testLow, procNull, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil))
	f.Add(encodeCall(4, 2, testProg, 9, procNull, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil))
	f.Add(encodeCall(5, 2, 1, 1, 0, rpcxdr.OpaqueAuth{Flavor: 99}, rpcxdr.OpaqueAuth{}, nil))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1})
	s := NewServer(Options{})
	s.Register(testProg, testLow, newTestHandler())
	var in interner
	f.Fuzz(func(t *testing.T, data []byte) {
		req := getRequest()
		defer putRequest(req)
		req.rec = append(req.rec[:0], data...)
		req.call.Remote = netip.MustParseAddrPort("192.0.2.1:700")
		switch s.admit(req, &in) {
		case vClose:
			return
		case vDispatch:
			if req.drc {
				s.drc.abort(req.key)
			}
			if req.call.Cred.Flavor == rpcxdr.AUTH_SYS && len(req.call.Cred.Sys.Gids) > maxAuthSysGids {
				t.Fatalf("%d gids", len(req.call.Cred.Sys.Gids))
			}
			return
		}
		reply := req.w.Buf[req.start:]
		if len(reply) == 0 {
			return // a dropped REPLY or in-progress duplicate
		}
		if !bytes.Equal(reply[:4], data[:4]) {
			t.Fatalf("reply xid %x, call xid %x", reply[:4], data[:4])
		}
		_, err := parseReply(reply)
		var ae *AcceptError
		var re *RejectError
		if !errors.As(err, &ae) && !errors.As(err, &re) {
			t.Fatalf("reply %x decodes as %v, want an RPC error", reply, err)
		}
	})
}
