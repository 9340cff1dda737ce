package server_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gonfs/gonfs/internal/wirecheck"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// startCapture starts a wirecheck capture of the server's port on
// loopback, skipping the test where capturing is impossible.
func startCapture(t *testing.T, ts *testServer) *wirecheck.Capture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := wirecheck.Start(ctx, "lo", int(ts.addr.Port()), t.TempDir())
	if errors.Is(err, wirecheck.ErrUnavailable) {
		t.Skipf("no packet capture: %v (needs tshark and root or CAP_NET_RAW)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWireLibnfs: tshark, capturing a whole libnfs interop run (the 64 MiB
// round trip, nfs-ls, nfs-cat), reports no malformed packet, no expert
// error, and no RPC it cannot match.
func TestWireLibnfs(t *testing.T) {
	needTools(t, "nfs-cp", "nfs-ls", "nfs-cat", "tshark")
	ts := startServer(t, false)
	c := startCapture(t, ts)
	libnfsRoundTrip(t, ts, bigFileSize)
	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	if !rep.OK() {
		t.Errorf("tshark found problems in the libnfs run: %s", rep)
	}
	// 64 MiB each way is at least 64 WRITEs and 64 READs of 1 MiB; fewer
	// calls would mean tshark did not decode the RPC traffic at all.
	if rep.Calls < 2*bigFileSize>>20 || rep.Calls != rep.Replies {
		t.Errorf("tshark saw %d calls and %d replies: %s", rep.Calls, rep.Replies, rep)
	}
}

// TestWireCheckerFails checks that the wire check can fail against this
// server: a garbage record (unknown message type, which the server answers
// by closing the connection) and a GETATTR whose file handle runs past the
// end of the call (which the server answers with GARBAGE_ARGS) must show up
// as unmatched and malformed.
func TestWireCheckerFails(t *testing.T) {
	needTools(t, "tshark")
	ts := startServer(t, false)
	c := startCapture(t, ts)

	nc, err := net.Dial("tcp", ts.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	// One record: xid, msg_type 7, some bytes.
	nc.Write([]byte{0x80, 0, 0, 16, 0, 0, 0x56, 0x78, 0, 0, 0, 7, 'j', 'u', 'n', 'k', 'j', 'u', 'n', 'k'})
	if err := waitClosed(nc); err != nil {
		t.Errorf("server kept a connection that sent an unknown message type: %v", err)
	}

	cl := dial(t, ts, "tcp")
	_, err = cl.CallRaw(context.Background(),
		sunrpc.CallHeader{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: nfs3xdr.NFSPROC3_GETATTR},
		[]byte{0, 0, 0, 40, 1, 2, 3, 4})
	wantAccept(t, err, "GETATTR with a short handle", rpcxdr.GARBAGE_ARGS)
	cl.Close()

	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", rep)
	if len(rep.Unmatched) == 0 {
		t.Errorf("the garbage record is not reported: %s", rep)
	}
	if len(rep.Malformed) == 0 {
		t.Errorf("the short GETATTR is not reported malformed: %s", rep)
	}
}
