package sunrpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// FuzzClientReceive feeds the client's reading goroutine arbitrary bytes
// as the server's side of the stream while a call with a Sink and a
// pooled buffer waits; the first record's xid is made the call's. Whatever
// comes, the call must end (in an error or a reply), nothing may panic,
// and what the sink reports must fit its buffer and match the stream
// when it reports data.
func FuzzClientReceive(f *testing.F) {
	reply := successReply(7, framedResults(0, bulkData(1000), 9))
	f.Add(fragments(reply), uint16(1000))
	f.Add(fragments(reply, 3), uint16(1000))
	f.Add(fragments(reply, 100), uint16(999))
	f.Add(fragments(successReply(7, framedResults(0, bulkData(10), 9))[:30]), uint16(100))
	f.Add(append(fragments(nullCall(1)), fragments(reply)...), uint16(1000))
	f.Add([]byte{0x80, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 1}, uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, bufLen uint16) {
		cliEnd, srvEnd := net.Pipe()
		c := NewClient(cliEnd, ClientOptions{MaxRecordSize: 1 << 16})
		defer c.Close()
		if xid, ok := firstXID(stream); ok {
			c.xid.Store(xid - 1)
		}
		go func() {
			defer srvEnd.Close()
			br := bufio.NewReader(srvEnd)
			if _, _, err := readRecord(br, nil, 1<<20); err != nil {
				return
			}
			go io.Copy(io.Discard, br) // replies to calls in the stream
			srvEnd.Write(stream)
		}()
		p := make([]byte, bufLen)
		var res framedRes
		sunk, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, nil, &res,
			&CallOptions{Transient: true, Sink: &Sink{Buf: p, Locate: locateFramed}})
		if err != nil {
			return
		}
		if sunk > len(p) {
			t.Fatalf("sunk %d into %d bytes", sunk, len(p))
		}
		if sunk > 0 && !bytes.Contains(stream, p[:min(sunk, 8)]) {
			t.Fatalf("sunk bytes %x are not in the stream", p[:min(sunk, 8)])
		}
	})
}

// firstXID returns the xid of the first record of a stream.
func firstXID(stream []byte) (uint32, bool) {
	if len(stream) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint32(stream[4:]), true
}
