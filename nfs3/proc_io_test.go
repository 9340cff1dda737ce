package nfs3

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// checkReadReply decodes a raw READ reply and checks that re-encoding it
// with the generated READ3res gives back every byte: the zero-copy path in
// read must produce exactly what the generic encoder would, padding
// included.
func checkReadReply(t *testing.T, body []byte) nfs3xdr.READ3res {
	t.Helper()
	var res nfs3xdr.READ3res
	if err := xdr.Unmarshal(body, &res); err != nil {
		t.Fatalf("READ reply does not decode: %v", err)
	}
	if again := xdr.Marshal(nil, &res); !bytes.Equal(again, body) {
		t.Fatalf("READ reply is not canonical XDR:\n got %x\nwant %x", body, again)
	}
	if res.Status == nfs3xdr.NFS3_OK && int(res.Resok.Count) != len(res.Resok.Data) {
		t.Fatalf("READ count %d but %d bytes of data", res.Resok.Count, len(res.Resok.Data))
	}
	return res
}

// TestRead covers RFC 1813 §3.3.6: short reads, eof, reads at and beyond
// the end, and data lengths of every padding.
func TestRead(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	content := []byte("0123456789")
	fh := u.create(e.root["/rw"], "f", 0o644)
	u.write(fh, 0, content)
	tests := []struct {
		off   uint64
		count uint32
		want  string
		eof   bool
	}{
		{0, 10, "0123456789", true},
		{0, 100, "0123456789", true},
		{0, 4, "0123", false},
		{0, 1, "0", false},
		{1, 2, "12", false},
		{2, 3, "234", false},
		{6, 100, "6789", true},
		{9, 1, "9", true},
		{10, 5, "", true},
		{1000, 5, "", true},
		{1 << 62, 5, "", true},
		{0, 0, "", false},
		{10, 0, "", true},
	}
	for _, tt := range tests {
		args := xdr.Marshal(nil, &nfs3xdr.READ3args{File: fh, Offset: nfs3xdr.Offset3(tt.off), Count: nfs3xdr.Count3(tt.count)})
		st, body := u.raw(nfs3xdr.NFSPROC3_READ, args)
		if st != sunrpc.Success {
			t.Fatalf("READ %d+%d: %v", tt.off, tt.count, st)
		}
		res := checkReadReply(t, body)
		must(t, "READ", res.Status, nfs3xdr.NFS3_OK)
		if string(res.Resok.Data) != tt.want || res.Resok.Eof != tt.eof {
			t.Errorf("READ %d+%d = %q eof %v, want %q eof %v", tt.off, tt.count, res.Resok.Data, res.Resok.Eof, tt.want, tt.eof)
		}
		if a := res.Resok.FileAttributes; !a.AttributesFollow || a.Attributes.Size != 10 {
			t.Errorf("READ %d+%d: attributes %+v", tt.off, tt.count, a)
		}
	}
}

// TestReadIntoUsedBuffer runs READ with a reply buffer whose spare
// capacity holds stale bytes, as a pooled buffer would: none may leak into
// the padding.
func TestReadIntoUsedBuffer(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	u.write(fh, 0, []byte("abcde"))
	for n := uint32(0); n <= 5; n++ {
		buf := bytes.Repeat([]byte{0xff}, 4096)
		w := xdr.Writer{Buf: buf[:24]}
		call := &sunrpc.Call{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: nfs3xdr.NFSPROC3_READ,
			Cred: u.cred, Remote: u.remote, Args: xdr.Marshal(nil, &nfs3xdr.READ3args{File: fh, Count: nfs3xdr.Count3(n)})}
		if st := e.srv.ServeRPC(context.Background(), call, &w); st != sunrpc.Success {
			t.Fatalf("READ: %v", st)
		}
		if !bytes.Equal(w.Buf[:24], bytes.Repeat([]byte{0xff}, 24)) {
			t.Fatalf("READ changed the reply header")
		}
		res := checkReadReply(t, w.Buf[24:])
		if string(res.Resok.Data) != "abcde"[:n] {
			t.Errorf("READ %d = %q", n, res.Resok.Data)
		}
	}
}

// TestReadLimits: a READ is capped at the advertised rtmax, and only
// regular files can be read.
func TestReadLimits(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	big := u.create(root, "big", 0o644)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	u.write(big, 0, chunk)
	u.write(big, 1<<20, chunk)
	u.write(big, 2<<20, []byte("tail"))

	args := xdr.Marshal(nil, &nfs3xdr.READ3args{File: big, Offset: 0, Count: 4 << 20})
	st, body := u.raw(nfs3xdr.NFSPROC3_READ, args)
	if st != sunrpc.Success {
		t.Fatal(st)
	}
	res := checkReadReply(t, body)
	must(t, "READ 4 MiB", res.Status, nfs3xdr.NFS3_OK)
	if len(res.Resok.Data) != maxIO || res.Resok.Eof || !bytes.Equal(res.Resok.Data, chunk) {
		t.Errorf("READ 4 MiB gave %d bytes eof %v, want %d bytes", len(res.Resok.Data), res.Resok.Eof, maxIO)
	}

	// A large count on a small file reserves no more than the file holds.
	small := u.create(root, "small", 0o644)
	u.write(small, 0, []byte("tiny"))
	w := xdr.Writer{}
	call := &sunrpc.Call{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: nfs3xdr.NFSPROC3_READ,
		Cred: u.cred, Remote: u.remote, Args: xdr.Marshal(nil, &nfs3xdr.READ3args{File: small, Count: 1 << 20})}
	if st := e.srv.ServeRPC(context.Background(), call, &w); st != sunrpc.Success {
		t.Fatal(st)
	}
	if res := checkReadReply(t, w.Buf); string(res.Resok.Data) != "tiny" || !res.Resok.Eof {
		t.Errorf("READ of a small file: %q eof %v", res.Resok.Data, res.Resok.Eof)
	}
	if cap(w.Buf) > 4096 {
		t.Errorf("READ of 4 bytes grew the reply buffer to %d bytes", cap(w.Buf))
	}

	private := e.makeFile("/rw", "private", 1000, 1000, 0o600, []byte("x"))
	var sl nfs3xdr.SYMLINK3res
	u.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(root, "l"),
		Symlink: nfs3xdr.Symlinkdata3{SymlinkData: "big"}}, &sl)
	tests := []struct {
		name   string
		fh     nfs3xdr.NfsFh3
		caller *client
		want   nfs3xdr.Nfsstat3
	}{
		{"directory", root, u, nfs3xdr.NFS3ERR_ISDIR},
		{"symlink", sl.Resok.Obj.Handle, u, nfs3xdr.NFS3ERR_INVAL},
		{"no permission", private, e.as(2000, 2000), nfs3xdr.NFS3ERR_ACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := tt.caller.raw(nfs3xdr.NFSPROC3_READ, xdr.Marshal(nil, &nfs3xdr.READ3args{File: tt.fh, Count: 10}))
			if st != sunrpc.Success {
				t.Fatal(st)
			}
			res := checkReadReply(t, body)
			must(t, "READ", res.Status, tt.want)
			if !res.Resfail.FileAttributes.AttributesFollow {
				t.Errorf("no attributes with the failure")
			}
		})
	}
}

// TestWrite covers RFC 1813 §3.3.7: every stability, the verifier, short
// data counts, holes, weak cache consistency and the refusals.
func TestWrite(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	verf := e.srv.WriteVerifier()
	tests := []struct {
		name   string
		off    uint64
		count  uint32
		data   string
		stable nfs3xdr.StableHow
		want   string // file content after
	}{
		{"unstable", 0, 5, "hello", nfs3xdr.UNSTABLE, "hello"},
		{"data sync", 5, 1, " ", nfs3xdr.DATA_SYNC, "hello "},
		{"file sync", 6, 5, "world", nfs3xdr.FILE_SYNC, "hello world"},
		{"overwrite", 0, 1, "H", nfs3xdr.UNSTABLE, "Hello world"},
		{"count below data", 11, 1, "!??", nfs3xdr.FILE_SYNC, "Hello world!"},
		{"hole", 14, 1, "x", nfs3xdr.UNSTABLE, "Hello world!\x00\x00x"},
		{"empty", 3, 0, "", nfs3xdr.FILE_SYNC, "Hello world!\x00\x00x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := u.getattr(fh)
			var res nfs3xdr.WRITE3res
			u.call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: fh, Offset: nfs3xdr.Offset3(tt.off),
				Count: nfs3xdr.Count3(tt.count), Stable: tt.stable, Data: []byte(tt.data)}, &res)
			must(t, "WRITE", res.Status, nfs3xdr.NFS3_OK)
			after := u.getattr(fh)
			ok := res.Resok
			if ok.Count != nfs3xdr.Count3(tt.count) {
				t.Errorf("count %d, want %d", ok.Count, tt.count)
			}
			if ok.Committed < tt.stable {
				t.Errorf("committed %v below the %v asked", ok.Committed, tt.stable)
			}
			if ok.Verf != verf {
				t.Errorf("verifier %x, want the server's %x", ok.Verf, verf)
			}
			if !ok.FileWcc.Before.AttributesFollow || ok.FileWcc.Before.Attributes != wccOf(before) {
				t.Errorf("pre-op %+v, want %+v", ok.FileWcc.Before, wccOf(before))
			}
			if !ok.FileWcc.After.AttributesFollow || ok.FileWcc.After.Attributes != after {
				t.Errorf("post-op %+v, want %+v", ok.FileWcc.After, after)
			}
			got := u.read(fh, 0, 100)
			if string(got.Resok.Data) != tt.want {
				t.Errorf("file holds %q, want %q", got.Resok.Data, tt.want)
			}
		})
	}

	// A new server instance (a restart) has another verifier, so clients
	// resend their uncommitted writes (RFC 1813 §3.3.7).
	e2 := newEnvOpts(t, Options{Now: func() time.Time { return testStart.Add(time.Second) }})
	if e2.srv.WriteVerifier() == verf {
		t.Errorf("two server instances share the write verifier %x", verf)
	}
}

func TestWriteRefused(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	roFile := e.makeFile("/ro", "f", 1000, 1000, 0o666, []byte("x"))
	private := e.makeFile("/rw", "private", 1000, 1000, 0o644, []byte("x"))
	tests := []struct {
		name   string
		fh     nfs3xdr.NfsFh3
		caller *client
		want   nfs3xdr.Nfsstat3
	}{
		{"read-only export", roFile, u, nfs3xdr.NFS3ERR_ROFS},
		{"directory", root, u, nfs3xdr.NFS3ERR_ISDIR},
		{"no permission", private, e.as(2000, 2000), nfs3xdr.NFS3ERR_ACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := u.getattr(tt.fh)
			var res nfs3xdr.WRITE3res
			tt.caller.call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: tt.fh, Count: 3, Stable: nfs3xdr.FILE_SYNC, Data: []byte("abc")}, &res)
			must(t, "WRITE", res.Status, tt.want)
			wcc := res.Resfail.FileWcc
			if !wcc.Before.AttributesFollow || wcc.Before.Attributes != wccOf(before) || !wcc.After.AttributesFollow || wcc.After.Attributes != before {
				t.Errorf("wcc %+v, want the unchanged attributes", wcc)
			}
		})
	}
	// An unknown stable_how is not an argument of WRITE at all.
	args := xdr.Marshal(nil, &nfs3xdr.WRITE3args{File: private, Count: 1, Stable: 3, Data: []byte("a")})
	if st, _ := u.raw(nfs3xdr.NFSPROC3_WRITE, args); st != sunrpc.GarbageArgs {
		t.Errorf("stable_how 3: %v, want GARBAGE_ARGS", st)
	}
}

// TestCommit: COMMIT returns the same verifier as WRITE, with the file's
// weak cache consistency data (RFC 1813 §3.3.21).
func TestCommit(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	var w nfs3xdr.WRITE3res
	u.call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: fh, Count: 3, Stable: nfs3xdr.UNSTABLE, Data: []byte("abc")}, &w)
	must(t, "WRITE", w.Status, nfs3xdr.NFS3_OK)
	for _, r := range []struct{ off, count uint64 }{{0, 0}, {0, 3}, {100, 1}} {
		before := u.getattr(fh)
		var res nfs3xdr.COMMIT3res
		u.call(nfs3xdr.NFSPROC3_COMMIT, &nfs3xdr.COMMIT3args{File: fh, Offset: nfs3xdr.Offset3(r.off), Count: nfs3xdr.Count3(r.count)}, &res)
		must(t, "COMMIT", res.Status, nfs3xdr.NFS3_OK)
		if res.Resok.Verf != w.Resok.Verf || res.Resok.Verf != e.srv.WriteVerifier() {
			t.Errorf("COMMIT verifier %x, WRITE's %x", res.Resok.Verf, w.Resok.Verf)
		}
		wcc := res.Resok.FileWcc
		if wcc.Before.Attributes != wccOf(before) || wcc.After.Attributes != u.getattr(fh) {
			t.Errorf("COMMIT wcc %+v", wcc)
		}
	}
	// A stale handle fails without a verifier to trust.
	var res nfs3xdr.COMMIT3res
	bad := nfs3xdr.NfsFh3{Data: e.ns.Handle(nil, mustExport(t, e, "/rw"), []byte("\x00\x00\x00\x00\x00\x00\x99\x99\x00\x00\x00\x07"))}
	u.call(nfs3xdr.NFSPROC3_COMMIT, &nfs3xdr.COMMIT3args{File: bad}, &res)
	must(t, "COMMIT of a stale handle", res.Status, nfs3xdr.NFS3ERR_STALE)
}
