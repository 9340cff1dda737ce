package nfs3

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the FuzzServeRPC seed corpus in testdata")

// fuzzFixture is the tree every fuzz input runs against, built the same
// way each time so that the handles in the seed corpus resolve: /rw holds
// file "f" (with data), directory "d" and symlink "l".
type fuzzFixture struct {
	e         *env
	c         *client
	root      nfs3xdr.NfsFh3
	file, dir nfs3xdr.NfsFh3
	link      nfs3xdr.NfsFh3
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	e := newEnv(t)
	c := e.user()
	x := &fuzzFixture{e: e, c: c, root: e.root["/rw"]}
	x.file = c.create(x.root, "f", 0o644)
	c.write(x.file, 0, []byte("fuzz data"))
	x.dir = c.mkdir(x.root, "d", 0o755)
	var sl nfs3xdr.SYMLINK3res
	c.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(x.root, "l"),
		Symlink: nfs3xdr.Symlinkdata3{SymlinkData: "f"}}, &sl)
	must(t, "SYMLINK", sl.Status, nfs3xdr.NFS3_OK)
	x.link = sl.Resok.Obj.Handle
	return x
}

// seeds are the valid argument encodings the corpus holds: every
// procedure with the fixture's file and root, and the procedures that
// take a directory once more with "d".
func (x *fuzzFixture) seeds() map[string]struct {
	proc uint32
	args []byte
} {
	out := map[string]struct {
		proc uint32
		args []byte
	}{}
	for proc := uint32(0); proc < numProcs; proc++ {
		name := nfs3xdr.NFS_V3ProcName(proc)
		out[name] = struct {
			proc uint32
			args []byte
		}{proc, marshal(sampleArgs(proc, x.file, x.root))}
		if !usesFile(proc) && proc != nfs3xdr.NFSPROC3_NULL {
			out[name+"-subdir"] = struct {
				proc uint32
				args []byte
			}{proc, marshal(sampleArgs(proc, x.file, x.dir))}
		}
	}
	out["READLINK-symlink"] = struct {
		proc uint32
		args []byte
	}{nfs3xdr.NFSPROC3_READLINK, marshal(sampleArgs(nfs3xdr.NFSPROC3_READLINK, x.link, x.root))}
	return out
}

func corpusFile(proc uint32, args []byte) string {
	return fmt.Sprintf("go test fuzz v1\nuint32(%d)\n[]byte(%s)\n", proc, strconv.Quote(string(args)))
}

// TestFuzzCorpus keeps the committed seed corpus equal to what the
// fixture produces (handles change if the handle layout, the key or
// memfs's numbering does); -update-corpus rewrites it.
func TestFuzzCorpus(t *testing.T) {
	x := newFuzzFixture(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzServeRPC")
	for name, s := range x.seeds() {
		path := filepath.Join(dir, name)
		want := corpusFile(s.proc, s.args)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// Each seed must reach its procedure's real work, not stop at the
		// handle check.
		y := newFuzzFixture(t)
		if st, body := y.c.raw(s.proc, s.args); st != sunrpc.Success {
			t.Errorf("seed %s: %v", name, st)
		} else if status, err := decodeReply(s.proc, body); err != nil || status == nfs3xdr.NFS3ERR_STALE || status == nfs3xdr.NFS3ERR_BADHANDLE {
			t.Errorf("seed %s: %v %v", name, status, err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is out of date (run go test -run TestFuzzCorpus -update-corpus): %v", path, err)
		}
	}
}

// FuzzServeRPC feeds arbitrary argument bytes to every procedure (and to
// procedure numbers beyond the last) against a fresh fixture. The server
// must not panic, must answer with SUCCESS, GARBAGE_ARGS or PROC_UNAVAIL
// only, and a SUCCESS reply must decode, to the last byte, as the
// procedure's results.
func FuzzServeRPC(f *testing.F) {
	f.Add(uint32(numProcs), []byte{})
	f.Add(uint32(nfs3xdr.NFSPROC3_GETATTR), []byte{})
	f.Fuzz(func(t *testing.T, proc uint32, args []byte) {
		// Mostly real procedures, sometimes one past the end.
		proc %= numProcs + 2
		x := newFuzzFixture(t)
		for _, c := range []*client{x.c, x.e.rootUser(), x.e.anon()} {
			st, body := c.raw(proc, args)
			switch {
			case proc >= numProcs:
				if st != sunrpc.ProcUnavail {
					t.Fatalf("procedure %d: %v, want PROC_UNAVAIL", proc, st)
				}
			case st == sunrpc.GarbageArgs:
			case st == sunrpc.Success:
				if _, err := decodeReply(proc, body); err != nil {
					t.Fatalf("%s reply does not decode: %v\nargs %x\nreply %x", nfs3xdr.NFS_V3ProcName(proc), err, args, body)
				}
			default:
				t.Fatalf("%s: RPC status %v", nfs3xdr.NFS_V3ProcName(proc), st)
			}
		}
	})
}
