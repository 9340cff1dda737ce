package server_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// Acceptance 5: a request with a garbage body, a truncated record, a 4 GiB
// record-length claim, an unknown program or procedure, or a forged handle
// each get the right RPC/NFS error; the server stays up and its memory
// stays bounded.

// closeWait bounds how long a test waits for the server to close a
// connection it must close; it turns a hang into a failure, it does not
// measure speed.
const closeWait = 30 * time.Second

// sysCred is the AUTH_SYS credential the tests call with.
var sysCred = &rpcxdr.AuthsysParms{Machinename: "robust-test", Uid: 1000, Gid: 1000}

// dial connects a client to the server over network ("tcp" or "udp").
func dial(t *testing.T, ts *testServer, network string) *sunrpc.Client {
	t.Helper()
	c, err := sunrpc.Dial(context.Background(), network, ts.addr.String(), sunrpc.ClientOptions{
		Auth:          sysCred,
		RetryInterval: 200 * time.Millisecond,
		MaxAttempts:   10,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkAlive makes NULL calls to NFS and MOUNT over TCP and UDP on new
// connections: the server is still up and serving.
func checkAlive(t *testing.T, ts *testServer) {
	t.Helper()
	for _, network := range []string{"tcp", "udp"} {
		c := dial(t, ts, network)
		for _, p := range []struct{ prog, vers uint32 }{
			{nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3},
			{mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3},
		} {
			if err := c.Call(context.Background(), p.prog, p.vers, 0, nil, nil); err != nil {
				t.Fatalf("server no longer answers NULL of program %d over %s: %v", p.prog, network, err)
			}
		}
		c.Close()
	}
}

// wantAccept checks that err is an accepted reply with status stat.
func wantAccept(t *testing.T, err error, what string, stat rpcxdr.AcceptStat) *sunrpc.AcceptError {
	t.Helper()
	var ae *sunrpc.AcceptError
	if !errors.As(err, &ae) || ae.Stat != stat {
		t.Errorf("%s: got %v, want %v", what, err, stat)
		return nil
	}
	return ae
}

// waitClosed reads nc until the server closes it and reports an error if
// it does not within closeWait. Whatever the server sends first is
// discarded.
func waitClosed(nc net.Conn) error {
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(closeWait))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("connection still open after %v", closeWait)
	}
	return nil // EOF (io.Copy's nil) or a reset: closed
}

type rpcCase struct {
	name string
	h    sunrpc.CallHeader
	body []byte
	// check judges the error of CallRaw.
	check func(t *testing.T, err error)
}

func acceptIs(stat rpcxdr.AcceptStat) func(*testing.T, error) {
	return func(t *testing.T, err error) { wantAccept(t, err, "reply", stat) }
}

func progMismatch(low, high uint32) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		if ae := wantAccept(t, err, "reply", rpcxdr.PROG_MISMATCH); ae != nil && (ae.Low != low || ae.High != high) {
			t.Errorf("PROG_MISMATCH range %d-%d, want %d-%d", ae.Low, ae.High, low, high)
		}
	}
}

func rejectIs(stat rpcxdr.RejectStat, auth rpcxdr.AuthStat) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var re *sunrpc.RejectError
		if !errors.As(err, &re) || re.Stat != stat {
			t.Fatalf("got %v, want MSG_DENIED %v", err, stat)
		}
		switch stat {
		case rpcxdr.RPC_MISMATCH:
			// RFC 5531 §9: the server names the versions it has: 2.
			if re.Low != 2 || re.High != 2 {
				t.Errorf("RPC_MISMATCH range %d-%d, want 2-2", re.Low, re.High)
			}
		case rpcxdr.AUTH_ERROR:
			if re.Auth != auth {
				t.Errorf("AUTH_ERROR %v, want %v", re.Auth, auth)
			}
		}
	}
}

func encode(v xdr.Marshaler) []byte { return xdr.Marshal(nil, v) }

func authSys(p rpcxdr.AuthsysParms) *rpcxdr.OpaqueAuth {
	return &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: encode(&p)}
}

// rpcCases are calls the server must refuse with a precise RPC error.
func rpcCases() []rpcCase {
	nfs := func(proc uint32) sunrpc.CallHeader {
		return sunrpc.CallHeader{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: proc}
	}
	mnt := func(proc uint32) sunrpc.CallHeader {
		return sunrpc.CallHeader{Prog: mountxdr.MOUNT_PROGRAM, Vers: mountxdr.MOUNT_V3, Proc: proc}
	}
	with := func(h sunrpc.CallHeader, f func(*sunrpc.CallHeader)) sunrpc.CallHeader { f(&h); return h }
	goodSys := encode(sysCred)
	seventeen := *sysCred
	seventeen.Gids = make([]uint32, 17)
	longName := *sysCred
	longName.Machinename = string(make([]byte, 256))
	return []rpcCase{
		// Garbage bodies (RFC 5531 §9 GARBAGE_ARGS).
		{"GETATTR handle length 2^32-1", nfs(nfs3xdr.NFSPROC3_GETATTR), []byte{0xff, 0xff, 0xff, 0xff}, acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"GETATTR handle past the end", nfs(nfs3xdr.NFSPROC3_GETATTR), []byte{0, 0, 0, 40, 1, 2, 3, 4}, acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"GETATTR handle of 65 bytes", nfs(nfs3xdr.NFSPROC3_GETATTR), encode(&nfs3xdr.GETATTR3args{Object: nfs3xdr.NfsFh3{Data: make([]byte, 65)}}), acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"GETATTR trailing bytes", nfs(nfs3xdr.NFSPROC3_GETATTR), append(encode(&nfs3xdr.GETATTR3args{Object: nfs3xdr.NfsFh3{Data: make([]byte, 8)}}), 0, 0, 0, 0), acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"GETATTR no arguments", nfs(nfs3xdr.NFSPROC3_GETATTR), nil, acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"WRITE data length past the end", nfs(nfs3xdr.NFSPROC3_WRITE), append(encode(&nfs3xdr.GETATTR3args{Object: nfs3xdr.NfsFh3{Data: make([]byte, 8)}}),
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x10, 0), acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"LOOKUP name length 2^31", nfs(nfs3xdr.NFSPROC3_LOOKUP), append(encode(&nfs3xdr.GETATTR3args{Object: nfs3xdr.NfsFh3{Data: make([]byte, 8)}}), 0x80, 0, 0, 0), acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"MNT path length 2^32-1", mnt(mountxdr.MOUNTPROC3_MNT), []byte{0xff, 0xff, 0xff, 0xff, '/'}, acceptIs(rpcxdr.GARBAGE_ARGS)},
		{"MNT path over MNTPATHLEN", mnt(mountxdr.MOUNTPROC3_MNT), encode(ptr(mountxdr.Dirpath(make([]byte, 1025)))), acceptIs(rpcxdr.GARBAGE_ARGS)},

		// Unknown program, version, procedure (RFC 5531 §9).
		{"unknown program", sunrpc.CallHeader{Prog: 0x20000999, Vers: 1}, nil, acceptIs(rpcxdr.PROG_UNAVAIL)},
		{"NFS version 2", with(nfs(0), func(h *sunrpc.CallHeader) { h.Vers = 2 }), nil, progMismatch(3, 4)},
		{"NFS version 5", with(nfs(0), func(h *sunrpc.CallHeader) { h.Vers = 5 }), nil, progMismatch(3, 4)},
		{"MOUNT version 4", with(mnt(0), func(h *sunrpc.CallHeader) { h.Vers = 4 }), nil, progMismatch(3, 3)},
		{"NFS procedure 22", nfs(22), nil, acceptIs(rpcxdr.PROC_UNAVAIL)},
		{"NFS procedure 2^32-1", nfs(0xffffffff), nil, acceptIs(rpcxdr.PROC_UNAVAIL)},
		{"MOUNT procedure 6", mnt(6), nil, acceptIs(rpcxdr.PROC_UNAVAIL)},

		// RPC version (RFC 5531 §9 RPC_MISMATCH).
		{"rpcvers 3", with(nfs(0), func(h *sunrpc.CallHeader) { h.RPCVers = 3 }), nil, rejectIs(rpcxdr.RPC_MISMATCH, 0)},
		{"rpcvers 1", with(nfs(0), func(h *sunrpc.CallHeader) { h.RPCVers = 1 }), nil, rejectIs(rpcxdr.RPC_MISMATCH, 0)},

		// Credentials and verifiers (RFC 5531 §9 AUTH_ERROR).
		{"AUTH_SYS body cut short", with(nfs(0), func(h *sunrpc.CallHeader) {
			h.Cred = &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: goodSys[:len(goodSys)-4]}
		}), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"AUTH_SYS trailing bytes", with(nfs(0), func(h *sunrpc.CallHeader) {
			h.Cred = &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: append(append([]byte(nil), goodSys...), 0, 0, 0, 0)}
		}), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"AUTH_SYS with 17 groups", with(nfs(0), func(h *sunrpc.CallHeader) { h.Cred = authSys(seventeen) }), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"AUTH_SYS machine name of 256 bytes", with(nfs(0), func(h *sunrpc.CallHeader) { h.Cred = authSys(longName) }), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"AUTH_NONE with a body", with(nfs(0), func(h *sunrpc.CallHeader) {
			h.Cred = &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_NONE, Body: []byte{1, 2, 3, 4}}
		}), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"unknown flavor", with(nfs(0), func(h *sunrpc.CallHeader) {
			h.Cred = &rpcxdr.OpaqueAuth{Flavor: 390}
		}), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADCRED)},
		{"AUTH_SYS verifier", with(nfs(0), func(h *sunrpc.CallHeader) {
			h.Verf = authSys(*sysCred)
		}), nil, rejectIs(rpcxdr.AUTH_ERROR, rpcxdr.AUTH_BADVERF)},
	}
}

func ptr[T any](v T) *T { return &v }

// TestRPCErrors sends every rpcCase over TCP and UDP, then checks that the
// server still serves.
func TestRPCErrors(t *testing.T) {
	ts := startServer(t, false)
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			c := dial(t, ts, network)
			for _, tc := range rpcCases() {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.CallRaw(context.Background(), tc.h, tc.body)
					tc.check(t, err)
				})
			}
			// The connection that carried the errors still works.
			if err := c.Call(context.Background(), nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, 0, nil, nil); err != nil {
				t.Errorf("NULL after the errors on the same %s client: %v", network, err)
			}
		})
	}
	checkAlive(t, ts)
}

// rawCall encodes a call message: xid, CALL, then words.
func rawCall(xid uint32, words ...uint32) []byte {
	var w xdr.Writer
	w.Uint32(xid)
	w.Uint32(uint32(rpcxdr.CALL))
	for _, v := range words {
		w.Uint32(v)
	}
	return w.Buf
}

// nullCall is a complete NFS NULL call with AUTH_NONE.
func nullCall(xid uint32) []byte {
	return rawCall(xid, 2, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, 0, 0, 0, 0, 0)
}

// frame wraps msg in one last fragment (RFC 5531 §11).
func frame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, 1<<31|uint32(len(msg))), msg...)
}

// acceptStat parses a reply message and returns its xid and, for an
// accepted reply, its accept_stat (-1 for a denied one).
func acceptStat(t *testing.T, msg []byte) (uint32, int) {
	t.Helper()
	var r xdr.Reader
	r.Reset(msg)
	xid := r.Uint32()
	if rpcxdr.MsgType(r.Uint32()) != rpcxdr.REPLY {
		t.Fatalf("not a reply: % x", msg)
	}
	if rpcxdr.ReplyStat(r.Uint32()) != rpcxdr.MSG_ACCEPTED {
		return xid, -1
	}
	r.Uint32()    // verifier flavor
	r.Opaque(400) // verifier body
	st := r.Uint32()
	if err := r.Err(); err != nil {
		t.Fatalf("reply % x: %v", msg, err)
	}
	return xid, int(st)
}

// readReply reads one record (a single fragment, as our server sends).
func readReply(t *testing.T, br *bufio.Reader) []byte {
	t.Helper()
	var mark [4]byte
	if _, err := io.ReadFull(br, mark[:]); err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	n := binary.BigEndian.Uint32(mark[:])
	if n&(1<<31) == 0 || n&^(1<<31) > 1<<20 {
		t.Fatalf("reply record mark %#x", n)
	}
	msg := make([]byte, n&^(1<<31))
	if _, err := io.ReadFull(br, msg); err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return msg
}

// TestRawHeaders sends what the client cannot express: call headers cut
// short and messages that are not calls, over TCP and UDP.
func TestRawHeaders(t *testing.T) {
	ts := startServer(t, false)
	tests := []struct {
		name string
		msg  []byte
		// want: accept_stat of the reply; -2 for no reply (the server
		// drops a datagram, or closes a TCP connection).
		want int
	}{
		{"header ends after rpcvers", rawCall(1, 2), int(rpcxdr.GARBAGE_ARGS)},
		{"header ends after prog", rawCall(2, 2, nfs3xdr.NFS_PROGRAM), int(rpcxdr.GARBAGE_ARGS)},
		{"header ends after proc", rawCall(3, 2, nfs3xdr.NFS_PROGRAM, 3, 0), -1}, // credential missing: AUTH_BADCRED
		{"credential length past the end", rawCall(4, 2, nfs3xdr.NFS_PROGRAM, 3, 0, 1, 1000), -1},
		{"message type 7", []byte{0, 0, 0, 5, 0, 0, 0, 7, 1, 2, 3, 4}, -2},
		{"four bytes", []byte{1, 2, 3, 4}, -2},
		{"empty", nil, -2},
	}
	t.Run("tcp", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				nc, err := net.Dial("tcp", ts.addr.String())
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				// The bad record, then a good one on the same
				// connection: it is answered unless the server had
				// to close the connection.
				nc.Write(append(frame(tt.msg), frame(nullCall(99))...))
				if tt.want == -2 {
					if err := waitClosed(nc); err != nil {
						t.Error(err)
					}
					return
				}
				br := bufio.NewReader(nc)
				xid, st := acceptStat(t, readReply(t, br))
				if st != tt.want || xid != binary.BigEndian.Uint32(tt.msg) {
					t.Errorf("reply xid %d stat %d, want xid %d stat %d", xid, st, binary.BigEndian.Uint32(tt.msg), tt.want)
				}
				if xid, st := acceptStat(t, readReply(t, br)); xid != 99 || st != int(rpcxdr.SUCCESS) {
					t.Errorf("NULL after it: xid %d stat %d", xid, st)
				}
			})
		}
	})
	t.Run("udp", func(t *testing.T) {
		nc, err := net.Dial("udp", ts.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		buf := make([]byte, 65536)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				nc.Write(tt.msg)
				// A NULL follows each datagram; the replies come in
				// order of handling, so read until the NULL's.
				null := uint32(1000 + i)
				nc.Write(nullCall(null))
				var got []int
				nc.SetReadDeadline(time.Now().Add(closeWait))
				for {
					n, err := nc.Read(buf)
					if err != nil {
						t.Fatalf("no reply to the NULL after it: %v", err)
					}
					xid, st := acceptStat(t, buf[:n])
					if xid == null {
						break
					}
					got = append(got, st)
				}
				switch {
				case tt.want == -2 && len(got) != 0:
					t.Errorf("server answered a datagram it should drop: %v", got)
				case tt.want != -2 && (len(got) != 1 || got[0] != tt.want):
					t.Errorf("replies %v, want [%d]", got, tt.want)
				}
			})
		}
	})
	checkAlive(t, ts)
}

// TestTruncatedRecords: a connection that ends, or stalls, inside a record
// costs the server that connection only.
func TestTruncatedRecords(t *testing.T) {
	ts := startServer(t, false)
	call := frame(nullCall(7))
	for _, cut := range []int{1, 3, 4, 10, len(call) - 1} {
		nc, err := net.Dial("tcp", ts.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(call[:cut])
		nc.(*net.TCPConn).CloseWrite()
		if err := waitClosed(nc); err != nil {
			t.Errorf("record cut after %d bytes: %v", cut, err)
		}
	}
	// Stalled connections, each inside a record, while others are
	// served: the server reads connections independently.
	var stalled []net.Conn
	for i := range 8 {
		nc, err := net.Dial("tcp", ts.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write(call[:4+i])
		stalled = append(stalled, nc)
	}
	checkAlive(t, ts)
	for _, nc := range stalled {
		nc.Close()
	}
	checkAlive(t, ts)
}

// TestHugeRecordClaims: record marks that claim more than the server's
// record limit close the connection before anything of that size is
// allocated, and the server keeps serving.
func TestHugeRecordClaims(t *testing.T) {
	ts := startServer(t, false)
	marks := func(m uint32, n int) []byte {
		var b []byte
		for range n {
			b = binary.BigEndian.AppendUint32(b, m)
		}
		return b
	}
	mib := make([]byte, 1<<20)
	var sumPast []byte // non-final 1 MiB fragments adding up to 5 MiB
	for range 5 {
		sumPast = append(sumPast, marks(1<<20, 1)...)
		sumPast = append(sumPast, mib...)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"last fragment of 2 GiB-1 (0xFFFFFFFF)", append(marks(0xffffffff, 1), nullCall(1)...)},
		{"fragment of 2 GiB-1, not last (0x7FFFFFFF)", append(marks(0x7fffffff, 1), nullCall(1)...)},
		{"two fragments of 2 GiB-1: a 4 GiB record", marks(0x7fffffff, 2)},
		{"a thousand fragments of 2 GiB-1", marks(0x7fffffff, 1000)},
		{"fragments summing past the limit", sumPast},
		{"endless empty fragments", marks(0, 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Several at once, so that a server allocating what is
			// claimed would need gigabytes.
			const conns = 4
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			errs := make(chan error, conns)
			for range conns {
				go func() {
					nc, err := net.Dial("tcp", ts.addr.String())
					if err != nil {
						errs <- err
						return
					}
					nc.Write(tt.b) // fails once the server closes: fine
					errs <- waitClosed(nc)
				}()
			}
			for range conns {
				if err := <-errs; err != nil {
					t.Errorf("server kept the connection: %v", err)
				}
			}
			runtime.ReadMemStats(&after)
			// TotalAlloc counts every allocation, freed or not, so a
			// record buffer of the claimed size cannot hide behind a
			// garbage collection. What may be allocated is a small
			// multiple of the data actually sent (a record buffer
			// grows in steps, each a copy: 13 MiB in all for a 4 MiB
			// record today) and a few buffers per connection; the
			// claims add up to gigabytes.
			bound := uint64(16<<20 + 4*conns*len(tt.b))
			grew := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB for %d KiB sent", grew>>10, conns*len(tt.b)>>10)
			if grew > bound {
				t.Errorf("allocated %d MiB, want < %d MiB", grew>>20, bound>>20)
			}
		})
	}
	checkAlive(t, ts)
}

// TestSlowLargeRecords: records within the limit whose bytes trickle in
// cost memory as the bytes arrive, not as the mark claims.
func TestSlowLargeRecords(t *testing.T) {
	ts := startServer(t, false)
	const (
		conns = 32
		claim = 4 << 20 // within sunrpc.DefaultMaxRecordSize
	)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var open []net.Conn
	for range conns {
		nc, err := net.Dial("tcp", ts.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		msg := append(nullCall(1), make([]byte, 4096)...)
		nc.Write(append(binary.BigEndian.AppendUint32(nil, 1<<31|claim), msg...))
		open = append(open, nc)
	}
	// The server reads each connection on its own goroutine; by the time
	// it has answered these calls it has had every chance to read the
	// stalled records' beginnings.
	checkAlive(t, ts)
	checkAlive(t, ts)
	runtime.ReadMemStats(&after)
	t.Logf("allocated %d KiB in all", (after.TotalAlloc-before.TotalAlloc)>>10)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > conns*claim/4 {
		t.Errorf("allocated %d MiB for %d records that claim %d MiB and sent 4 KiB each; want < %d MiB",
			grew>>20, conns, claim>>20, conns*claim/4>>20)
	}
	for _, nc := range open {
		nc.Close()
	}
	checkAlive(t, ts)
}

// mountRoot mounts "/" and returns the root file handle.
func mountRoot(t *testing.T, c *sunrpc.Client) []byte {
	t.Helper()
	var res mountxdr.Mountres3
	if err := c.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_MNT,
		ptr(mountxdr.Dirpath("/")), &res); err != nil {
		t.Fatal(err)
	}
	if res.FhsStatus != mountxdr.MNT3_OK {
		t.Fatalf("MNT / = %v", res.FhsStatus)
	}
	return append([]byte(nil), res.Mountinfo.Fhandle...)
}

// nfsStatus calls an NFSv3 procedure and returns the status that every
// NFSv3 result begins with.
func nfsStatus(t *testing.T, c *sunrpc.Client, proc uint32, args xdr.Marshaler) nfs3xdr.Nfsstat3 {
	t.Helper()
	body, err := c.CallRaw(context.Background(),
		sunrpc.CallHeader{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: proc}, encode(args))
	if err != nil {
		t.Fatalf("%s: %v", nfs3xdr.NFS_V3ProcName(proc), err)
	}
	if len(body) < 4 {
		t.Fatalf("%s: results of %d bytes", nfs3xdr.NFS_V3ProcName(proc), len(body))
	}
	return nfs3xdr.Nfsstat3(binary.BigEndian.Uint32(body))
}

// handleProcs are procedures that take a handle first, with arguments
// around a handle.
var handleProcs = []struct {
	proc uint32
	args func(fh []byte) xdr.Marshaler
}{
	{nfs3xdr.NFSPROC3_GETATTR, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.GETATTR3args{Object: nfs3xdr.NfsFh3{Data: fh}}
	}},
	{nfs3xdr.NFSPROC3_ACCESS, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.ACCESS3args{Object: nfs3xdr.NfsFh3{Data: fh}, Access: 0x3f}
	}},
	{nfs3xdr.NFSPROC3_LOOKUP, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.LOOKUP3args{What: nfs3xdr.Diropargs3{Dir: nfs3xdr.NfsFh3{Data: fh}, Name: "f"}}
	}},
	{nfs3xdr.NFSPROC3_READ, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.READ3args{File: nfs3xdr.NfsFh3{Data: fh}, Count: 4096}
	}},
	{nfs3xdr.NFSPROC3_READDIR, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.READDIR3args{Dir: nfs3xdr.NfsFh3{Data: fh}, Count: 4096}
	}},
	{nfs3xdr.NFSPROC3_FSINFO, func(fh []byte) xdr.Marshaler {
		return &nfs3xdr.FSINFO3args{Fsroot: nfs3xdr.NfsFh3{Data: fh}}
	}},
}

// TestForgedHandles: every single-byte change to a valid handle, a handle
// of the wrong size, and a valid handle of another server (another key)
// are refused with NFS3ERR_BADHANDLE or NFS3ERR_STALE by every procedure
// that takes a handle (RFC 1813 §2.3.3: a server must not crash on, nor
// honour, a handle it did not issue).
func TestForgedHandles(t *testing.T) {
	ts := startServer(t, false)
	c := dial(t, ts, "tcp")
	root := mountRoot(t, c)
	if st := nfsStatus(t, c, nfs3xdr.NFSPROC3_GETATTR, handleProcs[0].args(root)); st != nfs3xdr.NFS3_OK {
		t.Fatalf("GETATTR of the mounted root = %v", st)
	}
	refused := func(st nfs3xdr.Nfsstat3) bool {
		return st == nfs3xdr.NFS3ERR_STALE || st == nfs3xdr.NFS3ERR_BADHANDLE
	}
	for _, hp := range handleProcs {
		name := nfs3xdr.NFS_V3ProcName(hp.proc)
		for i := range root {
			for _, bit := range []byte{0x01, 0x80} {
				fh := append([]byte(nil), root...)
				fh[i] ^= bit
				if st := nfsStatus(t, c, hp.proc, hp.args(fh)); !refused(st) {
					t.Errorf("%s with byte %d of the root handle xor %#x: %v, want STALE or BADHANDLE", name, i, bit, st)
				}
			}
		}
		for _, fh := range [][]byte{nil, root[:1], root[:len(root)-1], append(append([]byte(nil), root...), 0), make([]byte, 64)} {
			if st := nfsStatus(t, c, hp.proc, hp.args(fh)); st != nfs3xdr.NFS3ERR_BADHANDLE && st != nfs3xdr.NFS3ERR_STALE {
				t.Errorf("%s with a %d-byte handle: %v, want BADHANDLE or STALE", name, len(fh), st)
			}
		}
	}

	// A second server over the same directory with its own state
	// directory, hence its own handle key: its handles, though they name
	// the same export and files, are not the first server's.
	dir := ts.srv.Namespace().Exports()[0].Config.Dir
	other := startWith(t, server.Options{
		Exports:  exports.Default(dir),
		Listen:   "127.0.0.1:0",
		StateDir: t.TempDir(),
		Portmap:  "off",
	})
	oc, err := sunrpc.Dial(context.Background(), "tcp", other.Addr().String(), sunrpc.ClientOptions{Auth: sysCred})
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	foreign := mountRoot(t, oc)
	if st := nfsStatus(t, oc, nfs3xdr.NFSPROC3_GETATTR, handleProcs[0].args(foreign)); st != nfs3xdr.NFS3_OK {
		t.Fatalf("GETATTR on the second server of its own root = %v", st)
	}
	for _, hp := range handleProcs {
		if st := nfsStatus(t, c, hp.proc, hp.args(foreign)); st != nfs3xdr.NFS3ERR_STALE {
			t.Errorf("%s with another server's root handle: %v, want NFS3ERR_STALE", nfs3xdr.NFS_V3ProcName(hp.proc), st)
		}
	}
	checkAlive(t, ts)
}

// TestRestartKeepsHandles is the counterpart of the foreign-key case: a
// server restarted on the same state directory accepts the handles it
// issued before, so STALE above comes from the key and not from
// restarting.
func TestRestartKeepsHandles(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	opts := server.Options{Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: state, Portmap: "off"}
	first, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			first.Shutdown(context.Background())
		}
	})
	c, err := sunrpc.Dial(context.Background(), "tcp", first.Addr().String(), sunrpc.ClientOptions{Auth: sysCred})
	if err != nil {
		t.Fatal(err)
	}
	root := mountRoot(t, c)
	c.Close()
	stopped = true
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := startWith(t, opts)
	c2, err := sunrpc.Dial(context.Background(), "tcp", second.Addr().String(), sunrpc.ClientOptions{Auth: sysCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if st := nfsStatus(t, c2, nfs3xdr.NFSPROC3_GETATTR, handleProcs[0].args(root)); st != nfs3xdr.NFS3_OK {
		t.Errorf("GETATTR after a restart of the handle issued before: %v", st)
	}
}

// TestUDPGarbage: datagrams of random bytes and of the largest size are
// dropped or refused, and the socket keeps serving.
func TestUDPGarbage(t *testing.T) {
	ts := startServer(t, false)
	nc, err := net.Dial("udp", ts.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The largest IPv4 datagram: a GETATTR whose arguments are an empty
	// handle followed by 65 KiB of zeros.
	big := append(rawCall(5, 2, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_GETATTR, 0, 0, 0, 0), make([]byte, 65507-40)...)
	for i := range 50 {
		b := make([]byte, 1+i*37)
		for j := range b {
			b[j] = byte(j*131 + i)
		}
		nc.Write(b)
	}
	nc.Write(big)
	buf := make([]byte, 65536)
	nc.SetReadDeadline(time.Now().Add(closeWait))
	n, err := nc.Read(buf)
	if err != nil {
		t.Fatalf("no reply to a 64 KiB GETATTR of garbage: %v", err)
	}
	if xid, st := acceptStat(t, buf[:n]); xid != 5 || st != int(rpcxdr.GARBAGE_ARGS) {
		t.Errorf("64 KiB GETATTR of zeros: xid %d stat %d, want xid 5 GARBAGE_ARGS", xid, st)
	}
	checkAlive(t, ts)
}
