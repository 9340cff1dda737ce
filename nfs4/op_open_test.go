package nfs4

import (
	"bytes"
	"context"
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Helpers for the file state operations (OPEN, CLOSE, READ, WRITE, LOCK,
// ...). Builders are named xxxArg so as not to clash with the op methods.

// currentSid is the special stateid that stands for the current stateid
// (RFC 8881 §16.2.3.1.2).
var currentSid = x.Stateid4{Seqid: 1}

// anonSid and bypassSid are the anonymous and READ-bypass stateids
// (RFC 8881 §8.2.3).
var (
	anonSid   = x.Stateid4{}
	bypassSid = x.Stateid4(state.BypassStateid)
)

// noCreate is OPEN4_NOCREATE.
var noCreate = x.Openflag4{Opentype: x.OPEN4_NOCREATE}

// claimNull is CLAIM_NULL of name.
func claimNull(name string) x.OpenClaim4 {
	return x.OpenClaim4{Claim: x.CLAIM_NULL, File: x.Component4(name)}
}

func openArg(owner string, access, deny uint32, how x.Openflag4, claim x.OpenClaim4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{ShareAccess: access, ShareDeny: deny,
		Owner: x.OpenOwner4{Owner: []byte(owner)}, Openhow: how, Claim: claim}}
}

// openName opens an existing name of the current directory.
func openName(owner, name string, access, deny uint32) x.NfsArgop4 {
	return openArg(owner, access, deny, noCreate, claimNull(name))
}

// createHow is OPEN4_CREATE with a createhow4.
func createHow(mode x.Createmode4, attrs x.Fattr4, verf x.Verifier4) x.Openflag4 {
	how := x.Createhow4{Mode: mode}
	switch mode {
	case x.UNCHECKED4, x.GUARDED4:
		how.Createattrs = attrs
	case x.EXCLUSIVE4:
		how.Createverf = verf
	case x.EXCLUSIVE4_1:
		how.ChCreateboth = x.Creatverfattr{CvaVerf: verf, CvaAttrs: attrs}
	}
	return x.Openflag4{Opentype: x.OPEN4_CREATE, How: how}
}

// createName creates name (UNCHECKED4, the given mode) and opens it.
func createName(owner, name string, access, deny uint32, mode uint32) x.NfsArgop4 {
	return openArg(owner, access, deny, createHow(x.UNCHECKED4, attrs(&mode, nil), x.Verifier4{}), claimNull(name))
}

// attrs builds a fattr4 with a mode and a size (either may be nil).
func attrs(mode *uint32, size *uint64) x.Fattr4 {
	var b fattr.Bitmap
	var w xdr.Writer
	if size != nil { // size (4) comes before mode (33)
		b.Set(x.FATTR4_SIZE)
		w.Uint64(*size)
	}
	if mode != nil {
		b.Set(x.FATTR4_MODE)
		w.Uint32(*mode)
	}
	return x.Fattr4{Attrmask: b.Bitmap4(), AttrVals: w.Bytes()}
}

func closeArg(sid x.Stateid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_CLOSE, Opclose: &x.CLOSE4args{OpenStateid: sid}}
}

func downgradeArg(sid x.Stateid4, access, deny uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OPEN_DOWNGRADE, OpopenDowngrade: &x.OPEN_DOWNGRADE4args{
		OpenStateid: sid, ShareAccess: access, ShareDeny: deny}}
}

// rootFH returns the filehandle of the export root "/".
func (s *session) rootFH() []byte {
	s.f.t.Helper()
	res := s.call(opPutrootfh(), opGetfh())
	s.f.wantStatus(res, x.NFS4_OK, 3)
	return res.Resarray[2].Opgetfh.Resok4.Object
}

// opened is what a successful OPEN gave.
type opened struct {
	fh  []byte
	sid x.Stateid4
	res x.OPEN4resok
}

// open runs PUTROOTFH, OPEN, GETFH and wants success.
func (s *session) open(op x.NfsArgop4) opened {
	s.f.t.Helper()
	res := s.call(opPutrootfh(), op, opGetfh())
	s.f.wantStatus(res, x.NFS4_OK, 4)
	ok := res.Resarray[2].Opopen.Resok4
	return opened{fh: res.Resarray[3].Opgetfh.Resok4.Object, sid: ok.Stateid, res: ok}
}

// openStatus runs PUTROOTFH and OPEN and returns OPEN's status.
func (s *session) openStatus(op x.NfsArgop4) x.Nfsstat4 {
	s.f.t.Helper()
	res := s.call(opPutrootfh(), op)
	return lastStatus(res)
}

// lastStatus is the status of a compound's last result.
func lastStatus(res *x.COMPOUND4res) x.Nfsstat4 {
	return resStatus(&res.Resarray[len(res.Resarray)-1])
}

// seed makes a regular file in the root of export "/" directly in the
// backend, owned by uid with the given mode.
func (f *fixture) seed(name string, data string, mode, uid uint32) {
	f.t.Helper()
	fs := f.fs["/"]
	ctx := context.Background()
	h, _, _, err := fs.Create(ctx, vfs.RootCred(), fs.Root(), name, vfs.SetAttr{Mode: &mode, UID: &uid, GID: &uid}, true)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := fs.Write(ctx, vfs.RootCred(), h, 0, []byte(data), vfs.FileSync); err != nil {
		f.t.Fatal(err)
	}
}

// content returns the data of name in the root of export "/".
func (f *fixture) content(name string) string {
	f.t.Helper()
	fs := f.fs["/"]
	h, a, err := fs.Lookup(context.Background(), vfs.RootCred(), fs.Root(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	buf := make([]byte, a.Size)
	n, _, err := fs.Read(context.Background(), vfs.RootCred(), h, 0, buf)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(buf[:n])
}

const (
	accRead  = x.OPEN4_SHARE_ACCESS_READ
	accWrite = x.OPEN4_SHARE_ACCESS_WRITE
	accBoth  = x.OPEN4_SHARE_ACCESS_BOTH
	denyNone = x.OPEN4_SHARE_DENY_NONE
)

// RFC 8881 §18.16, §18.32, §18.22, §18.2: create a file with OPEN, write
// and read it through the current stateid, close it.
func TestOpenCreateWriteReadClose(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	s.rootFH()
	res := s.call(opPutrootfh(), createName("o1", "new", accBoth, denyNone, 0o640), opGetfh(),
		writeArg(currentSid, 0, x.FILE_SYNC4, "hello"), readArg(currentSid, 0, 100), closeArg(currentSid))
	f.wantStatus(res, x.NFS4_OK, 7)
	ok := res.Resarray[2].Opopen.Resok4
	if ok.Rflags != x.OPEN4_RESULT_LOCKTYPE_POSIX {
		t.Errorf("rflags %#x, want LOCKTYPE_POSIX only (no CONFIRM in 4.1)", ok.Rflags)
	}
	if got := fattr.FromWords(ok.Attrset); got != fattr.Of(x.FATTR4_MODE) {
		t.Errorf("attrset %v, want mode", got)
	}
	if ok.Delegation.DelegationType != x.OPEN_DELEGATE_NONE {
		t.Errorf("delegation %v", ok.Delegation.DelegationType)
	}
	if ok.Cinfo.Before == ok.Cinfo.After {
		t.Errorf("change_info %+v: the directory changed", ok.Cinfo)
	}
	if ok.Stateid.Seqid != 1 || state.Stateid(ok.Stateid).IsSpecial() {
		t.Errorf("open stateid %+v", ok.Stateid)
	}
	wr := res.Resarray[4].Opwrite.Resok4
	if wr.Count != 5 || wr.Committed != x.FILE_SYNC4 {
		t.Errorf("WRITE %+v", wr)
	}
	rd := res.Resarray[5].Opread.Resok4
	if string(rd.Data) != "hello" || !rd.Eof {
		t.Errorf("READ %q eof %v", rd.Data, rd.Eof)
	}
	if got := res.Resarray[6].Opclose.OpenStateid; got != x.Stateid4(state.InvalidStateid) {
		t.Errorf("CLOSE returned %+v, want the invalid special stateid (§18.2.4)", got)
	}
	a, err := f.fs["/"].GetAttr(context.Background(), mustResolve(f, res.Resarray[3].Opgetfh.Resok4.Object))
	if err != nil || a.Mode != 0o640 || a.Size != 5 {
		t.Errorf("file attrs %+v %v", a, err)
	}
	// The open is gone: its stateid no longer reads (§8.2.4).
	res = s.call(opPutfh(res.Resarray[3].Opgetfh.Resok4.Object), readArg(ok.Stateid, 0, 1))
	if st := lastStatus(res); st != x.NFS4ERR_BAD_STATEID {
		t.Errorf("READ with a closed stateid: %v, want BAD_STATEID", st)
	}
}

// mustResolve turns a wire handle of export "/" into the backend handle.
func mustResolve(f *fixture, fh []byte) vfs.Handle {
	f.t.Helper()
	_, h, _, err := f.ns.ResolveAny(fh)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// RFC 8881 §18.16.3: the errors OPEN gives for what it is asked to open.
func TestOpenErrors(t *testing.T) {
	f := newFixture(t, "")
	fs := f.fs["/"]
	ctx := context.Background()
	f.seed("file", "data", 0o644, 0)
	f.seed("private", "secret", 0o600, 0)
	f.seed("readonly-mine", "", 0o400, 1000)
	mode := uint32(0o755)
	if _, _, err := fs.Mkdir(ctx, vfs.RootCred(), fs.Root(), "dir", vfs.SetAttr{Mode: &mode}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Symlink(ctx, vfs.RootCred(), fs.Root(), "link", "file", vfs.SetAttr{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Mknod(ctx, vfs.RootCred(), fs.Root(), "fifo", vfs.TypeFIFO, vfs.SetAttr{Mode: &mode}, 0, 0); err != nil {
		t.Fatal(err)
	}
	s := f.newSession(root)
	user := f.newSession(cred{1000, 1000})
	zero := uint64(0)
	exclTimes := func() x.Fattr4 {
		var b fattr.Bitmap
		b.Set(x.FATTR4_TIME_MODIFY_SET)
		var w xdr.Writer
		w.Int32(int32(x.SET_TO_SERVER_TIME4))
		return x.Fattr4{Attrmask: b.Bitmap4(), AttrVals: w.Bytes()}
	}
	tests := []struct {
		name string
		s    *session
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"missing", s, openName("o", "nope", accRead, denyNone), x.NFS4ERR_NOENT},
		{"directory", s, openName("o", "dir", accRead, denyNone), x.NFS4ERR_ISDIR},
		{"symlink", s, openName("o", "link", accRead, denyNone), x.NFS4ERR_SYMLINK},
		{"fifo", s, openName("o", "fifo", accRead, denyNone), x.NFS4ERR_WRONG_TYPE},
		{"empty name", s, openName("o", "", accRead, denyNone), x.NFS4ERR_INVAL},
		{"dot", s, openName("o", ".", accRead, denyNone), x.NFS4ERR_BADNAME},
		{"slash", s, openName("o", "a/b", accRead, denyNone), x.NFS4ERR_BADCHAR},
		{"no access", s, openName("o", "file", 0, denyNone), x.NFS4ERR_INVAL},
		{"deny out of range", s, openName("o", "file", accRead, 4), x.NFS4ERR_INVAL},
		{"undefined access bit", s, openName("o", "file", accRead|0x1000000, denyNone), x.NFS4ERR_INVAL},
		{"undefined want", s, openName("o", "file", accRead|0x0600, denyNone), x.NFS4ERR_INVAL},
		{"empty owner", s, openName("", "file", accRead, denyNone), x.NFS4ERR_INVAL},
		{"guarded exists", s, openArg("o", accRead, denyNone, createHow(x.GUARDED4, x.Fattr4{}, x.Verifier4{}), claimNull("file")), x.NFS4ERR_EXIST},
		{"unchecked on a directory", s, openArg("o", accRead, denyNone, createHow(x.UNCHECKED4, x.Fattr4{}, x.Verifier4{}), claimNull("dir")), x.NFS4ERR_ISDIR},
		{"truncate without write", s, openArg("o", accRead, denyNone, createHow(x.UNCHECKED4, attrs(nil, &zero), x.Verifier4{}), claimNull("file")), x.NFS4ERR_INVAL},
		{"exclusive4_1 with a time", s, openArg("o", accRead, denyNone, createHow(x.EXCLUSIVE4_1, exclTimes(), x.Verifier4{1}), claimNull("x41")), x.NFS4ERR_INVAL},
		{"delegate_cur", s, openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_DELEGATE_CUR,
			DelegateCurInfo: x.OpenClaimDelegateCur4{File: x.Component4("file")}}), x.NFS4ERR_BAD_STATEID},
		{"delegate_prev", s, openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_DELEGATE_PREV,
			FileDelegatePrev: x.Component4("file")}), x.NFS4ERR_NOTSUPP},
		{"deleg_prev_fh", s, openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_DELEG_PREV_FH}), x.NFS4ERR_NOTSUPP},
		{"not allowed to read", user, openName("o", "private", accRead, denyNone), x.NFS4ERR_ACCESS},
		{"not allowed to write", user, openName("o", "file", accWrite, denyNone), x.NFS4ERR_ACCESS},
		{"allowed to read", user, openName("o", "file", accRead, denyNone), x.NFS4_OK},
		// The owner may open a file whatever its mode, as knfsd lets.
		{"owner override", user, openName("o", "readonly-mine", accBoth, denyNone), x.NFS4_OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.openStatus(tt.op); got != tt.want {
				t.Errorf("OPEN: %v, want %v", got, tt.want)
			}
		})
	}

	// CLAIM_NULL needs a directory as current filehandle.
	res := s.call(opPutrootfh(), opLookup("file"), openName("o", "x", accRead, denyNone))
	if st := lastStatus(res); st != x.NFS4ERR_NOTDIR {
		t.Errorf("OPEN in a file: %v, want NOTDIR", st)
	}
	res = s.call(openName("o", "x", accRead, denyNone))
	if st := lastStatus(res); st != x.NFS4ERR_NOFILEHANDLE {
		t.Errorf("OPEN without a filehandle: %v, want NOFILEHANDLE", st)
	}
}

// RFC 8881 §9.7, §18.16.3: share reservations of two clients conflict
// (NFS4ERR_SHARE_DENIED) and stop conflicting once closed.
func TestOpenShareDeny(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "x", 0o666, 0)
	a, b := f.newSession(root), f.newSession(root)
	oa := a.open(openName("owner", "f", accRead, x.OPEN4_SHARE_DENY_WRITE))
	if st := b.openStatus(openName("owner", "f", accWrite, denyNone)); st != x.NFS4ERR_SHARE_DENIED {
		t.Errorf("write open against deny-write: %v, want SHARE_DENIED", st)
	}
	if st := b.openStatus(openName("owner", "f", accRead, x.OPEN4_SHARE_DENY_READ)); st != x.NFS4ERR_SHARE_DENIED {
		t.Errorf("deny-read against a reader: %v, want SHARE_DENIED", st)
	}
	if st := b.openStatus(openName("owner", "f", accRead, denyNone)); st != x.NFS4_OK {
		t.Errorf("read open: %v", st)
	}
	res := a.call(opPutfh(oa.fh), closeArg(oa.sid))
	f.wantStatus(res, x.NFS4_OK, 3)
	if st := b.openStatus(openName("owner", "f", accWrite, denyNone)); st != x.NFS4_OK {
		t.Errorf("write open after CLOSE: %v", st)
	}
}

// RFC 8881 §9.1.1, §18.16.3, §18.18: a second OPEN of one owner upgrades
// the same stateid (seqid + 1); OPEN_DOWNGRADE goes back only to modes
// that were asked for.
func TestOpenUpgradeDowngrade(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "x", 0o666, 0)
	s := f.newSession(root)
	o1 := s.open(openName("owner", "f", accRead, denyNone))
	o2 := s.open(openName("owner", "f", accWrite, denyNone))
	if o2.sid.Other != o1.sid.Other || o2.sid.Seqid != 2 {
		t.Fatalf("upgrade: %+v after %+v, want the same stateid with seqid 2", o2.sid, o1.sid)
	}
	tests := []struct {
		name         string
		sid          x.Stateid4
		access, deny uint32
		want         x.Nfsstat4
		wantSeq      uint32
	}{
		{"deny never asked", o2.sid, accRead, x.OPEN4_SHARE_DENY_WRITE, x.NFS4ERR_INVAL, 0},
		{"old seqid", o1.sid, accRead, denyNone, x.NFS4ERR_OLD_STATEID, 0},
		{"to read", o2.sid, accRead, denyNone, x.NFS4_OK, 3},
		{"back up to write", x.Stateid4{Other: o1.sid.Other}, accWrite, denyNone, x.NFS4ERR_INVAL, 0},
	}
	for _, tt := range tests {
		res := s.call(opPutfh(o1.fh), downgradeArg(tt.sid, tt.access, tt.deny))
		if st := lastStatus(res); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
			continue
		}
		if tt.want == x.NFS4_OK {
			if got := res.Resarray[2].OpopenDowngrade.Resok4.OpenStateid; got.Seqid != tt.wantSeq || got.Other != o1.sid.Other {
				t.Errorf("%s: stateid %+v, want seqid %d", tt.name, got, tt.wantSeq)
			}
		}
	}
	// The downgraded open no longer writes (§9.1.2).
	res := s.call(opPutfh(o1.fh), writeArg(x.Stateid4{Other: o1.sid.Other}, 0, x.UNSTABLE4, "y"))
	if st := lastStatus(res); st != x.NFS4ERR_OPENMODE {
		t.Errorf("WRITE after downgrade to read: %v, want OPENMODE", st)
	}
}

// RFC 8881 §18.16.3, §18.16.4: an exclusive create keeps its verifier; a
// retry with the same verifier opens the same file, another verifier is
// NFS4ERR_EXIST. attrset names the attributes holding the verifier.
func TestOpenExclusive(t *testing.T) {
	for _, mode := range []x.Createmode4{x.EXCLUSIVE4, x.EXCLUSIVE4_1} {
		t.Run(mode.String(), func(t *testing.T) {
			f := newFixture(t, "")
			s := f.newSession(root)
			m := uint32(0o640)
			verf := x.Verifier4{1, 2, 3, 4, 5, 6, 7, 8}
			op := func(v x.Verifier4) x.NfsArgop4 {
				return openArg("o", accBoth, denyNone, createHow(mode, attrs(&m, nil), v), claimNull("ex"))
			}
			first := s.open(op(verf))
			want := fattr.Of(x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_MODIFY)
			if mode == x.EXCLUSIVE4_1 {
				want.Set(x.FATTR4_MODE)
			}
			if got := fattr.FromWords(first.res.Attrset); got != want {
				t.Errorf("attrset %v, want %v", got, want)
			}
			again := s.open(op(verf))
			if !bytes.Equal(again.fh, first.fh) || again.sid.Other != first.sid.Other {
				t.Errorf("retry opened %x/%+v, want %x/%+v", again.fh, again.sid, first.fh, first.sid)
			}
			if st := s.openStatus(op(x.Verifier4{9})); st != x.NFS4ERR_EXIST {
				t.Errorf("other verifier: %v, want EXIST", st)
			}
			a, err := f.fs["/"].GetAttr(context.Background(), mustResolve(f, first.fh))
			if err != nil {
				t.Fatal(err)
			}
			wantMode := uint32(0o600)
			if mode == x.EXCLUSIVE4_1 {
				wantMode = 0o640
			}
			if a.Mode != wantMode || a.Atime.Unix() != 0x01020304 || a.Mtime.Unix() != 0x05060708 {
				t.Errorf("mode %o atime %d mtime %d", a.Mode, a.Atime.Unix(), a.Mtime.Unix())
			}
		})
	}
}

// RFC 8881 §18.16.3: UNCHECKED4 of an existing file with size 0 truncates
// it, only once the open is granted, and reports size in attrset.
func TestOpenTruncate(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "0123456789", 0o666, 0)
	a, b := f.newSession(root), f.newSession(root)
	zero := uint64(0)
	trunc := openArg("o", accWrite, denyNone, createHow(x.UNCHECKED4, attrs(nil, &zero), x.Verifier4{}), claimNull("f"))

	held := a.open(openName("o", "f", accRead, x.OPEN4_SHARE_DENY_WRITE))
	if st := b.openStatus(trunc); st != x.NFS4ERR_SHARE_DENIED {
		t.Fatalf("truncating open against deny-write: %v", st)
	}
	if got := f.content("f"); got != "0123456789" {
		t.Fatalf("a refused OPEN truncated the file to %q", got)
	}
	a.call(opPutfh(held.fh), closeArg(held.sid))

	o := b.open(trunc)
	if got := fattr.FromWords(o.res.Attrset); got != fattr.Of(x.FATTR4_SIZE) {
		t.Errorf("attrset %v, want size", got)
	}
	if got := f.content("f"); got != "" {
		t.Errorf("content %q after truncating OPEN", got)
	}
	// Without size, UNCHECKED4 opens the existing file as it is.
	f.seed("g", "keep", 0o666, 0)
	m := uint32(0o600)
	o = b.open(openArg("o", accBoth, denyNone, createHow(x.UNCHECKED4, attrs(&m, nil), x.Verifier4{}), claimNull("g")))
	if got := fattr.FromWords(o.res.Attrset); !got.IsEmpty() {
		t.Errorf("attrset %v for an existing file", got)
	}
	if got := f.content("g"); got != "keep" {
		t.Errorf("content %q", got)
	}
	// A new file gets its size in either mode.
	three := uint64(3)
	for _, mode := range []x.Createmode4{x.UNCHECKED4, x.GUARDED4} {
		name := "new-" + mode.String()
		o = b.open(openArg("o", accBoth, denyNone, createHow(mode, attrs(&m, &three), x.Verifier4{}), claimNull(name)))
		if got := fattr.FromWords(o.res.Attrset); got != fattr.Of(x.FATTR4_SIZE, x.FATTR4_MODE) {
			t.Errorf("%v: attrset %v, want size and mode", mode, got)
		}
		if got := f.content(name); got != "\x00\x00\x00" {
			t.Errorf("%v: content %q", mode, got)
		}
	}
}

// RFC 8881 §18.16.3: delegation wants are answered with
// OPEN_DELEGATE_NONE_EXT and the reason. The fixture's sessions have no
// back channel, so no delegation is granted (WND4_RESOURCE); grants are
// tested in deleg_test.go.
func TestOpenDelegationWant(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "x", 0o666, 0)
	s := f.newSession(root)
	tests := []struct {
		want uint32
		typ  x.OpenDelegationType4
		why  x.WhyNoDelegation4
	}{
		{x.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, x.OPEN_DELEGATE_NONE, 0},
		{x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, x.OPEN_DELEGATE_NONE_EXT, x.WND4_NOT_WANTED},
		{x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG, x.OPEN_DELEGATE_NONE_EXT, x.WND4_RESOURCE},
		{x.OPEN4_SHARE_ACCESS_WANT_ANY_DELEG | x.OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL, x.OPEN_DELEGATE_NONE_EXT, x.WND4_RESOURCE},
		{x.OPEN4_SHARE_ACCESS_WANT_CANCEL, x.OPEN_DELEGATE_NONE_EXT, x.WND4_CANCELLED},
	}
	for _, tt := range tests {
		o := s.open(openName("o", "f", accRead|tt.want, denyNone))
		d := o.res.Delegation
		if d.DelegationType != tt.typ || (tt.typ == x.OPEN_DELEGATE_NONE_EXT && d.OdWhynone.OndWhy != tt.why) {
			t.Errorf("want %#x: delegation %v %v, want %v %v", tt.want, d.DelegationType, d.OdWhynone.OndWhy, tt.typ, tt.why)
		}
	}
}

// RFC 8881 §18.16.3: CLAIM_FH opens the current filehandle; OPEN4_CREATE
// GUARDED4 finds it existing.
func TestOpenClaimFH(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "abc", 0o666, 0)
	s := f.newSession(root)
	res := s.call(opPutrootfh(), opLookup("f"), openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_FH}),
		readArg(currentSid, 0, 10))
	f.wantStatus(res, x.NFS4_OK, 5)
	if got := string(res.Resarray[4].Opread.Resok4.Data); got != "abc" {
		t.Errorf("READ %q", got)
	}
	res = s.call(opPutrootfh(), opLookup("f"), openArg("o", accRead, denyNone,
		createHow(x.GUARDED4, x.Fattr4{}, x.Verifier4{}), x.OpenClaim4{Claim: x.CLAIM_FH}))
	if st := lastStatus(res); st != x.NFS4ERR_EXIST {
		t.Errorf("GUARDED4 CLAIM_FH: %v, want EXIST", st)
	}
	res = s.call(opPutrootfh(), openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_FH}))
	if st := lastStatus(res); st != x.NFS4ERR_ISDIR {
		t.Errorf("CLAIM_FH of a directory: %v, want ISDIR", st)
	}
}

// RFC 8881 §18.16.3: a read-only export opens files for reading, even
// through OPEN4_CREATE of an existing name, and refuses the rest with
// NFS4ERR_ROFS.
func TestOpenReadOnlyExport(t *testing.T) {
	f := newFixture(t, "/ *(ro,no_root_squash,insecure)\n")
	f.seed("f", "x", 0o666, 0)
	s := f.newSession(root)
	m := uint32(0o644)
	tests := []struct {
		name string
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"read", openName("o", "f", accRead, denyNone), x.NFS4_OK},
		{"write", openName("o", "f", accWrite, denyNone), x.NFS4ERR_ROFS},
		{"create existing for read", createName("o", "f", accRead, denyNone, m), x.NFS4_OK},
		{"create new", createName("o", "new", accRead, denyNone, m), x.NFS4ERR_ROFS},
		{"guarded existing", openArg("o", accRead, denyNone, createHow(x.GUARDED4, attrs(&m, nil), x.Verifier4{}), claimNull("f")), x.NFS4ERR_ROFS},
	}
	for _, tt := range tests {
		if got := s.openStatus(tt.op); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// Anonymous writes are refused too.
	res := s.call(opPutrootfh(), opLookup("f"), writeArg(anonSid, 0, x.FILE_SYNC4, "y"))
	if st := lastStatus(res); st != x.NFS4ERR_ROFS {
		t.Errorf("WRITE: %v, want ROFS", st)
	}
}

// newGraceFixture is a fixture whose server has just restarted with one
// previous client, "prev", so that it is in its grace period
// (RFC 8881 §8.4.2).
func newGraceFixture(t *testing.T) *fixture {
	f := newFixture(t, "")
	f.state = state.New(state.Options{Now: f.clock.Now, Locks: f.locks, BootEpoch: 2,
		ServerOwner: []byte("gonfs-test"), ServerScope: []byte("gonfs-test"),
		PreviousClients: []state.ClientRecord{{Owner: []byte("prev")}}})
	f.srv = New(f.ns, Options{State: f.state, Store: f.store, Now: f.clock.Now})
	return f
}

// RFC 8881 §8.4.2, §9.11, §18.16.3: during grace a previous client
// reclaims its open with CLAIM_PREVIOUS, and new opens, creates and locks
// wait (NFS4ERR_GRACE).
func TestOpenReclaim(t *testing.T) {
	f := newGraceFixture(t)
	f.seed("f", "x", 0o666, 0)
	prev := f.newSessionOwner(root, "prev", x.Verifier4{7})
	other := f.newRawSession(root)
	if st := other.openStatus(openName("o", "f", accRead, denyNone)); st != x.NFS4ERR_GRACE {
		t.Errorf("new OPEN in grace: %v, want GRACE", st)
	}
	if st := other.openStatus(createName("o", "new", accRead, denyNone, 0o644)); st != x.NFS4ERR_GRACE {
		t.Errorf("create in grace: %v, want GRACE", st)
	}
	if _, _, err := f.fs["/"].Lookup(context.Background(), vfs.RootCred(), f.fs["/"].Root(), "new"); err == nil {
		t.Errorf("a create refused for grace left its file")
	}
	reclaim := openArg("o", accRead, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_PREVIOUS, DelegateType: x.OPEN_DELEGATE_NONE})
	res := other.call(opPutrootfh(), opLookup("f"), reclaim)
	if st := lastStatus(res); st != x.NFS4ERR_RECLAIM_BAD {
		t.Errorf("reclaim by a new client: %v, want RECLAIM_BAD", st)
	}
	res = prev.call(opPutrootfh(), opLookup("f"), reclaim, readArg(currentSid, 0, 1))
	f.wantStatus(res, x.NFS4_OK, 5)
	prev.reclaimComplete()
	res = prev.call(opPutrootfh(), opLookup("f"), reclaim)
	if st := lastStatus(res); st != x.NFS4ERR_NO_GRACE {
		t.Errorf("reclaim after RECLAIM_COMPLETE: %v, want NO_GRACE", st)
	}
}

// Unit: share_access and share_deny checks (RFC 8881 §18.16.3).
func TestSplitShareAccess(t *testing.T) {
	tests := []struct {
		access, deny uint32
		acc, den     lock.ShareMode
		want         uint32
		st           x.Nfsstat4
	}{
		{accRead, denyNone, lock.ShareRead, lock.ShareNone, 0, x.NFS4_OK},
		{accBoth | x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, x.OPEN4_SHARE_DENY_BOTH, lock.ShareBoth, lock.ShareBoth, x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, x.NFS4_OK},
		{accWrite | x.OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED, denyNone, lock.ShareWrite, 0, 0, x.NFS4_OK},
		{0, denyNone, 0, 0, 0, x.NFS4ERR_INVAL},
		{x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG, denyNone, 0, 0, 0, x.NFS4ERR_INVAL},
		{accRead | 4, denyNone, 0, 0, 0, x.NFS4ERR_INVAL},
		{accRead, 4, 0, 0, 0, x.NFS4ERR_INVAL},
		{accRead | 0xFF00, denyNone, 0, 0, 0, x.NFS4ERR_INVAL},
	}
	for _, tt := range tests {
		acc, den, want, st := splitShareAccess(tt.access, tt.deny)
		if st != tt.st || (st == x.NFS4_OK && (acc != tt.acc || den != tt.den || want != tt.want)) {
			t.Errorf("splitShareAccess(%#x, %#x) = %v %v %#x %v, want %v %v %#x %v",
				tt.access, tt.deny, acc, den, want, st, tt.acc, tt.den, tt.want, tt.st)
		}
	}
}
