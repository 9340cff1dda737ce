package nfs4

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/localfs"
)

func copyArg(src, dst x.Stateid4, srcOff, dstOff, count uint64, sync bool) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_COPY, Opcopy: &x.COPY4args{CaSrcStateid: src, CaDstStateid: dst,
		CaSrcOffset: x.Offset4(srcOff), CaDstOffset: x.Offset4(dstOff), CaCount: x.Length4(count), CaSynchronous: sync}}
}

func cloneArg(src, dst x.Stateid4, srcOff, dstOff, count uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_CLONE, Opclone: &x.CLONE4args{ClSrcStateid: src, ClDstStateid: dst,
		ClSrcOffset: x.Offset4(srcOff), ClDstOffset: x.Offset4(dstOff), ClCount: x.Length4(count)}}
}

func offloadStatusArg(sid x.Stateid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OFFLOAD_STATUS, OpoffloadStatus: &x.OFFLOAD_STATUS4args{OsaStateid: sid}}
}

func offloadCancelArg(sid x.Stateid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OFFLOAD_CANCEL, OpoffloadCancel: &x.OFFLOAD_CANCEL4args{OcaStateid: sid}}
}

// RFC 7862 §15.2.3: a synchronous intra-server COPY from the saved
// filehandle to the current one, byte-exact, reporting wr_count and the
// requirements it met; its error cases.
func TestCopy(t *testing.T) {
	f := newFixture(t, "")
	f.seed("src", "hello world", 0o666, 0)
	f.seed("dst", "XXXXXXXXXXXXXXXX", 0o666, 0)
	s := f.newSession(root)
	src := s.open(openName("o", "src", accBoth, denyNone))
	dst := s.open(openName("o", "dst", accBoth, denyNone))
	copyOps := func(op x.NfsArgop4) []x.NfsArgop4 {
		return []x.NfsArgop4{opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), op}
	}

	res := s.call42(copyOps(copyArg(src.sid, dst.sid, 6, 2, 5, false))...)
	f.wantStatus(res, x.NFS4_OK, 5)
	ok := res.Resarray[4].Opcopy.CrResok4
	if ok.CrResponse.WrCount != 5 || len(ok.CrResponse.WrCallbackId) != 0 || ok.CrResponse.WrCommitted != x.UNSTABLE4 ||
		!ok.CrRequirements.CrConsecutive || !ok.CrRequirements.CrSynchronous {
		t.Errorf("COPY result %+v", ok)
	}
	if got := f.backendContent("dst"); got != "XXworldXXXXXXXXX" {
		t.Errorf("dst after COPY = %q", got)
	}
	// ca_count 0: to the end of the source.
	res = s.call42(copyOps(copyArg(src.sid, dst.sid, 0, 10, 0, true))...)
	f.wantStatus(res, x.NFS4_OK, 5)
	if n := res.Resarray[4].Opcopy.CrResok4.CrResponse.WrCount; n != 11 {
		t.Errorf("COPY to EOF copied %d, want 11", n)
	}
	if got := f.backendContent("dst"); got != "XXworldXXXhello world" {
		t.Errorf("dst after COPY to EOF = %q", got)
	}

	withServer := copyArg(src.sid, dst.sid, 0, 0, 1, true)
	withServer.Opcopy.CaSourceServer = []x.Netloc4{{NlType: x.NL4_NAME, NlName: x.Utf8strCis("other")}}
	tests := []struct {
		name string
		ops  []x.NfsArgop4
		want x.Nfsstat4
	}{
		{"range past the source's end", copyOps(copyArg(src.sid, dst.sid, 6, 0, 6, true)), x.NFS4ERR_INVAL},
		{"offset past the source's end", copyOps(copyArg(src.sid, dst.sid, 12, 0, 0, true)), x.NFS4ERR_INVAL},
		{"overlap in one file", []x.NfsArgop4{opPutfh(src.fh), opSavefh(), copyArg(src.sid, src.sid, 0, 2, 4, true)}, x.NFS4ERR_INVAL},
		{"inter-server", copyOps(withServer), x.NFS4ERR_NOTSUPP},
		{"no saved filehandle", []x.NfsArgop4{opPutfh(dst.fh), copyArg(src.sid, dst.sid, 0, 0, 1, true)}, x.NFS4ERR_NOFILEHANDLE},
		{"directory source", []x.NfsArgop4{opPutrootfh(), opSavefh(), opPutfh(dst.fh), copyArg(x.Stateid4{}, dst.sid, 0, 0, 1, true)}, x.NFS4ERR_ISDIR},
	}
	for _, tt := range tests {
		if st := lastStatus(s.call42(tt.ops...)); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
	}
	ro := s.open(openName("r", "dst", accRead, denyNone))
	res = s.call42(opPutfh(src.fh), opSavefh(), opPutfh(ro.fh), copyArg(src.sid, ro.sid, 0, 0, 1, true))
	if st := lastStatus(res); st != x.NFS4ERR_OPENMODE {
		t.Errorf("COPY to a read-only open: %v, want NFS4ERR_OPENMODE", st)
	}
}

// A backend without vfs.RangeCopier still copies, through Read and Write.
func TestCopyWithoutRangeCopier(t *testing.T) {
	f := newFixtureWith(t, defaultExports, func(string) vfs.FS { return plainFS{memfsNew()} })
	s := f.newSession(root)
	src := s.open(createName("o", "src", accBoth, denyNone, 0o644))
	dst := s.open(createName("o", "dst", accBoth, denyNone, 0o644))
	f.wantStatus(s.call42(opPutfh(src.fh), writeArg(src.sid, 0, x.FILE_SYNC4, "abcdef")), x.NFS4_OK, 3)
	res := s.call42(opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), copyArg(src.sid, dst.sid, 1, 0, 4, true),
		readArg(dst.sid, 0, 100))
	f.wantStatus(res, x.NFS4_OK, 6)
	if got := string(res.Resarray[5].Opread.Resok4.Data); got != "bcde" {
		t.Errorf("dst after COPY = %q, want bcde", got)
	}
}

// RFC 7862 §15.2.3, §15.9, §15.8, §16.1: a large COPY runs in the
// background; its stateid answers OFFLOAD_STATUS for its client only,
// CB_OFFLOAD reports the outcome, and OFFLOAD_CANCEL forgets it.
func TestCopyAsync(t *testing.T) {
	f := newFixture(t, "")
	size := uint64(syncCopyLimit + 1)
	f.seed("src", "", 0o666, 0)
	f.seed("dst", "", 0o666, 0)
	fs := f.fs["/"]
	h, _, _ := fs.Lookup(context.Background(), vfs.RootCred(), fs.Root(), "src")
	if _, _, err := fs.Write(context.Background(), vfs.RootCred(), h, size-1, []byte{'z'}, vfs.FileSync); err != nil {
		t.Fatal(err)
	}
	cbs := make(chan x.CB_OFFLOAD4args, 1)
	f.srv.copies().notify = func(ctx context.Context, s *Server, id state.ClientID, args x.CB_OFFLOAD4args) error {
		cbs <- args
		return nil
	}
	s := f.newSession(root)
	src := s.open(openName("o", "src", accRead, denyNone))
	dst := s.open(openName("o", "dst", accBoth, denyNone))
	res := s.call42(opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), copyArg(src.sid, dst.sid, 0, 0, 0, false))
	f.wantStatus(res, x.NFS4_OK, 5)
	ok := res.Resarray[4].Opcopy.CrResok4
	if len(ok.CrResponse.WrCallbackId) != 1 || ok.CrRequirements.CrSynchronous {
		t.Fatalf("large COPY: %+v, want a copy stateid and asynchronous", ok)
	}
	sid := ok.CrResponse.WrCallbackId[0]
	cb := <-cbs // sent after the copy finished
	if cb.CoaStateid != sid || string(cb.CoaFh) != string(dst.fh) || cb.CoaOffloadInfo.CoaStatus != x.NFS4_OK ||
		uint64(cb.CoaOffloadInfo.CoaResok4.WrCount) != size {
		t.Errorf("CB_OFFLOAD %+v", cb)
	}
	res = s.call42(opPutfh(dst.fh), offloadStatusArg(sid))
	f.wantStatus(res, x.NFS4_OK, 3)
	st := res.Resarray[2].OpoffloadStatus.OsrResok4
	if uint64(st.OsrCount) != size || len(st.OsrComplete) != 1 || st.OsrComplete[0] != x.NFS4_OK {
		t.Errorf("OFFLOAD_STATUS %+v, want %d bytes, complete OK", st, size)
	}
	other := f.newSession(root)
	if got := lastStatus(other.call42(opPutfh(dst.fh), offloadStatusArg(sid))); got != x.NFS4ERR_BAD_STATEID {
		t.Errorf("OFFLOAD_STATUS by another client: %v, want NFS4ERR_BAD_STATEID", got)
	}
	if got := lastStatus(other.call42(opPutfh(dst.fh), offloadCancelArg(sid))); got != x.NFS4ERR_BAD_STATEID {
		t.Errorf("OFFLOAD_CANCEL by another client: %v, want NFS4ERR_BAD_STATEID", got)
	}
	f.wantStatus(s.call42(opPutfh(dst.fh), offloadCancelArg(sid)), x.NFS4_OK, 3)
	if got := lastStatus(s.call42(opPutfh(dst.fh), offloadStatusArg(sid))); got != x.NFS4ERR_BAD_STATEID {
		t.Errorf("OFFLOAD_STATUS after OFFLOAD_CANCEL: %v, want NFS4ERR_BAD_STATEID", got)
	}
	res = s.call42(opPutfh(dst.fh), readArg(dst.sid, size-1, 10))
	f.wantStatus(res, x.NFS4_OK, 3)
	if got := string(res.Resarray[2].Opread.Resok4.Data); got != "z" {
		t.Errorf("last byte of the copy = %q, want z", got)
	}
}

// RFC 7862 §15.13: CLONE through the backend's vfs.Cloner (memfs copies),
// its errors, and NFS4ERR_NOTSUPP where the filesystem has no reflinks
// (localfs on ext4 or tmpfs, where FICLONERANGE is EOPNOTSUPP).
func TestClone(t *testing.T) {
	f := newFixture(t, "")
	f.seed("src", "0123456789", 0o666, 0)
	f.seed("dst", "abcdefghij", 0o666, 0)
	s := f.newSession(root)
	src := s.open(openName("o", "src", accRead, denyNone))
	dst := s.open(openName("o", "dst", accBoth, denyNone))
	f.wantStatus(s.call42(opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), cloneArg(src.sid, dst.sid, 2, 4, 3)), x.NFS4_OK, 5)
	if got := f.backendContent("dst"); got != "abcd234hij" {
		t.Errorf("dst after CLONE = %q", got)
	}
	res := s.call42(opPutfh(src.fh), opSavefh(), opPutfh(dst.fh), cloneArg(src.sid, dst.sid, 8, 0, 5))
	if st := lastStatus(res); st != x.NFS4ERR_INVAL {
		t.Errorf("CLONE past the source's end: %v, want NFS4ERR_INVAL", st)
	}
	if st := lastStatus(s.call42(opPutfh(dst.fh), cloneArg(src.sid, dst.sid, 0, 0, 1))); st != x.NFS4ERR_NOFILEHANDLE {
		t.Errorf("CLONE without a saved filehandle: %v, want NFS4ERR_NOFILEHANDLE", st)
	}

	lf := newFixtureWith(t, defaultExports, func(string) vfs.FS {
		fs, err := localfs.New(t.TempDir(), localfs.Options{ForceIndex: true, NoIdentity: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		return fs
	})
	ls := lf.newSession(root)
	a := ls.open(createName("o", "a", accBoth, denyNone, 0o644))
	b := ls.open(createName("o", "b", accBoth, denyNone, 0o644))
	lf.wantStatus(ls.call42(opPutfh(a.fh), writeArg(a.sid, 0, x.FILE_SYNC4, "data")), x.NFS4_OK, 3)
	res = ls.call42(opPutfh(a.fh), opSavefh(), opPutfh(b.fh), cloneArg(a.sid, b.sid, 0, 0, 0))
	if st := lastStatus(res); st != x.NFS4ERR_NOTSUPP {
		t.Errorf("CLONE on a filesystem without reflinks: %v, want NFS4ERR_NOTSUPP", st)
	}
	// COPY works there (copy_file_range).
	res = ls.call42(opPutfh(a.fh), opSavefh(), opPutfh(b.fh), copyArg(a.sid, b.sid, 0, 0, 0, true), readArg(b.sid, 0, 10))
	lf.wantStatus(res, x.NFS4_OK, 6)
	if got := string(res.Resarray[5].Opread.Resok4.Data); got != "data" {
		t.Errorf("localfs COPY: dst %q, want data", got)
	}
}

// CLONE between exports is NFS4ERR_XDEV.
func TestCloneAcrossExports(t *testing.T) {
	f := newFixture(t, "/a *(rw,no_root_squash,insecure)\n/b *(rw,no_root_squash,insecure)\n")
	ha := f.mkfileB("/a", nil, "f", 10)
	hb := f.mkfileB("/b", nil, "g", 10)
	s := f.newSession(root)
	res := s.call42(opPutfh(f.wireFH("/a", ha)), opSavefh(), opPutfh(f.wireFH("/b", hb)), cloneArg(x.Stateid4{}, x.Stateid4{}, 0, 0, 0))
	if st := lastStatus(res); st != x.NFS4ERR_XDEV {
		t.Errorf("CLONE across exports: %v, want NFS4ERR_XDEV", st)
	}
}

// RFC 7862 §15.5.3: IO_ADVISE is accepted and honours no hints (an empty
// bitmap); RFC 7862 §15.12, §15.6, §15.7, §15.3: WRITE_SAME, the layout
// operations and COPY_NOTIFY are not offered.
func TestIoAdviseAndUnsupported(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o666, 0)
	s := f.newSession(root)
	o := s.open(openName("o", "f", accRead, denyNone))
	advise := x.NfsArgop4{Argop: x.OP_IO_ADVISE, OpioAdvise: &x.IO_ADVISE4args{IaaStateid: o.sid, IaaCount: 4,
		IaaHints: x.Bitmap4{1<<x.IO_ADVISE4_WILLNEED | 1<<x.IO_ADVISE4_SEQUENTIAL}}}
	res := s.call42(opPutfh(o.fh), advise)
	f.wantStatus(res, x.NFS4_OK, 3)
	if h := res.Resarray[2].OpioAdvise.Resok4.IorHints; len(h) != 0 {
		t.Errorf("IO_ADVISE hints %v, want none", h)
	}
	for _, op := range []x.NfsArgop4{
		{Argop: x.OP_WRITE_SAME, OpwriteSame: &x.WRITE_SAME4args{}},
		{Argop: x.OP_LAYOUTERROR, Oplayouterror: &x.LAYOUTERROR4args{}},
		{Argop: x.OP_LAYOUTSTATS, Oplayoutstats: &x.LAYOUTSTATS4args{}},
		{Argop: x.OP_COPY_NOTIFY, OpcopyNotify: &x.COPY_NOTIFY4args{CnaDestinationServer: x.Netloc4{NlType: x.NL4_NAME}}},
	} {
		if st := lastStatus(s.call42(opPutfh(o.fh), op)); st != x.NFS4ERR_NOTSUPP {
			t.Errorf("%v: %v, want NFS4ERR_NOTSUPP", op.Argop, st)
		}
	}
}
