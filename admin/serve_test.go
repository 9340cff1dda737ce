package admin

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/sunrpc"
)

// TestPeerUID checks the SO_PEERCRED gate: a peer with another uid (played
// by a fake credential check) is refused before any command runs, and
// the real check passes the test's own connections.
func TestPeerUID(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		check   func(*net.UnixConn) (uint32, error)
		refused string
	}{
		{"other uid", func(*net.UnixConn) (uint32, error) { return 4242, nil }, "peer uid 4242"},
		{"no credentials", func(*net.UnixConn) (uint32, error) { return 0, errors.New("boom") }, "peer credentials"},
		{"same uid", peerCred, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "")+".sock")
			// A nil Backend: a refused peer must never reach it; the
			// accepted one asks for a command that needs none.
			s, err := serve(ctx, path, nil, tc.check)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = Client{Socket: path}.Do(ctx, Request{Cmd: "nonsense"})
			switch {
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("got %v, want refusal mentioning %q", err, tc.refused)
			case tc.refused == "" && (err == nil || !strings.Contains(err.Error(), "unknown command")):
				t.Fatalf("got %v, want the command answered (unknown command)", err)
			}
		})
	}
}

// TestServeStaleSocket checks that a socket left by a dead server is
// replaced, a live one is not, and Close removes the socket.
func TestServeStaleSocket(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody answers: stale
	s, err := Serve(ctx, path, nil)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	if _, err := Serve(ctx, path, nil); err == nil {
		t.Fatal("a second server took a live socket")
	}
	s.Close()
	if _, err := (Client{Socket: path}).Do(ctx, Request{Cmd: CmdStats}); err == nil {
		t.Fatal("socket still answers after Close")
	}
}

// compound encodes COMPOUND4args with the given ops, each an opcode and
// its encoded arguments.
func compound(ops ...[]uint32) []byte {
	var b []byte
	for _, v := range []uint32{0, 1, uint32(len(ops))} { // empty tag, minor 1, count
		b = binary.BigEndian.AppendUint32(b, v)
	}
	for _, op := range ops {
		for _, v := range op {
			b = binary.BigEndian.AppendUint32(b, v)
		}
	}
	return b
}

func TestCompoundOps(t *testing.T) {
	seq := []uint32{opSequence, 0, 0, 0, 0, 1, 0, 0, 0} // sessionid (4 words), seq, slot, highest, cachethis
	putfh := []uint32{opPutfh, 8, 0xaaaaaaaa, 0xbbbbbbbb}
	read := []uint32{opRead, 0, 0, 0, 0, 0, 0, 0, 4096}
	getattr := []uint32{opGetattr, 2, 0x10, 0x20}
	open := []uint32{18, 1, 2, 3}
	for _, tc := range []struct {
		name string
		args []byte
		want []string
	}{
		{"read", compound(seq, putfh, read), []string{"sequence", "putfh", "read"}},
		{"getattr", compound(seq, putfh, getattr), []string{"sequence", "putfh", "getattr"}},
		{"unknown op ends the list", compound(seq, putfh, open, getattr), []string{"sequence", "putfh", "open", "…"}},
		{"truncated", compound(seq, putfh, read)[:40], []string{"sequence"}},
		{"lying count", compound(seq)[:12], nil},
		{"huge opaque", compound([]uint32{opPutfh, 0xffffffff}), []string{"putfh"}},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compoundOps(tc.args); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRequests checks the in-flight registry: entries appear at Start, go
// at Done, and carry the decoded COMPOUND.
func TestRequests(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRequests(func() time.Time { return now })
	a := &sunrpc.Call{XID: 1, Prog: 100003, Vers: 3, Proc: 1, Transport: "tcp"}
	b := &sunrpc.Call{XID: 2, Prog: 100003, Vers: 4, Proc: 1, Transport: "tcp",
		Args: compound([]uint32{opSequence, 0, 0, 0, 0, 1, 0, 0, 0}, []uint32{opPutrootfh})}
	r.Start(a)
	now = now.Add(time.Second)
	r.Start(b)
	now = now.Add(time.Second)
	list := r.List()
	if len(list) != 2 || list[0].XID != 1 || list[0].Elapsed != 2*time.Second || list[1].Elapsed != time.Second ||
		!slices.Equal(list[1].Ops, []string{"sequence", "putrootfh"}) || !strings.Contains(list[0].Proc, "getattr") {
		t.Fatalf("list %+v", list)
	}
	r.Done(a, sunrpc.Success, 0)
	if list := r.List(); len(list) != 1 || list[0].XID != 2 {
		t.Fatalf("after Done: %+v", list)
	}
}
