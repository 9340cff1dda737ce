package nfs4

import (
	"net/netip"
	"slices"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
)

func setxattrArg(opt x.SetxattrOption4, name, value string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SETXATTR, Opsetxattr: &x.SETXATTR4args{SxaOption: opt, SxaKey: x.Xattrkey4(name), SxaValue: x.Xattrvalue4(value)}}
}

func getxattrArg(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_GETXATTR, Opgetxattr: &x.GETXATTR4args{GxaName: x.Xattrkey4(name)}}
}

func listxattrsArg(cookie uint64, max uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LISTXATTRS, Oplistxattrs: &x.LISTXATTRS4args{LxaCookie: x.NfsCookie4(cookie), LxaMaxcount: x.Count4(max)}}
}

func removexattrArg(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_REMOVEXATTR, Opremovexattr: &x.REMOVEXATTR4args{RxaName: x.Xattrkey4(name)}}
}

// RFC 8276 §8.4.2-§8.4.5: set with each option, get, list, remove, and
// the change_info4 of changes.
func TestXattrs(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o644, 0)
	s := f.newSession(root)
	fh := fhOf(t, s, "f")
	steps := []struct {
		name string
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"get missing", getxattrArg("a"), x.NFS4ERR_NOXATTR},
		{"replace missing", setxattrArg(x.SETXATTR4_REPLACE, "a", "1"), x.NFS4ERR_NOXATTR},
		{"create", setxattrArg(x.SETXATTR4_CREATE, "a", "1"), x.NFS4_OK},
		{"create existing", setxattrArg(x.SETXATTR4_CREATE, "a", "2"), x.NFS4ERR_EXIST},
		{"replace", setxattrArg(x.SETXATTR4_REPLACE, "a", "3"), x.NFS4_OK},
		{"either", setxattrArg(x.SETXATTR4_EITHER, "b", "4"), x.NFS4_OK},
		{"bad option", setxattrArg(x.SetxattrOption4(9), "c", "5"), x.NFS4ERR_INVAL},
		{"empty name", setxattrArg(x.SETXATTR4_EITHER, "", "5"), x.NFS4ERR_INVAL},
		{"value too big", setxattrArg(x.SETXATTR4_EITHER, "c", string(make([]byte, vfs.MaxXattrValue+1))), x.NFS4ERR_XATTR2BIG},
		{"remove", removexattrArg("b"), x.NFS4_OK},
		{"remove missing", removexattrArg("b"), x.NFS4ERR_NOXATTR},
	}
	for _, st := range steps {
		res := s.call42(opPutfh(fh), st.op)
		if got := lastStatus(res); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
		if st.want != x.NFS4_OK {
			continue
		}
		var info x.ChangeInfo4
		switch st.op.Argop {
		case x.OP_SETXATTR:
			info = res.Resarray[2].Opsetxattr.SxrInfo
		case x.OP_REMOVEXATTR:
			info = res.Resarray[2].Opremovexattr.RxrInfo
		}
		if info.After <= info.Before {
			t.Errorf("%s: change_info %+v, want after > before", st.name, info)
		}
	}
	res := s.call42(opPutfh(fh), getxattrArg("a"))
	f.wantStatus(res, x.NFS4_OK, 3)
	if v := string(res.Resarray[2].Opgetxattr.GxrValue); v != "3" {
		t.Errorf("GETXATTR a = %q, want 3", v)
	}
	if st := lastStatus(s.call42(opPutrootfh(), getxattrArg("a"))); st != x.NFS4ERR_NOXATTR {
		t.Errorf("GETXATTR on the export root: %v, want NFS4ERR_NOXATTR", st)
	}
}

// RFC 8276 §8.4.4: LISTXATTRS pages by cookie within lxa_maxcount (which
// counts the whole result) and says NFS4ERR_TOOSMALL when not even one
// name fits.
func TestListxattrs(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o644, 0)
	s := f.newSession(root)
	fh := fhOf(t, s, "f")
	want := []string{"alpha", "beta", "gamma", "zz"}
	for _, n := range want {
		f.wantStatus(s.call42(opPutfh(fh), setxattrArg(x.SETXATTR4_EITHER, n, "v")), x.NFS4_OK, 3)
	}
	res := s.call42(opPutfh(fh), listxattrsArg(0, 4096))
	f.wantStatus(res, x.NFS4_OK, 3)
	all := res.Resarray[2].Oplistxattrs.LxrValue
	if !all.LxrEof || !slices.Equal(keys(all.LxrNames), want) {
		t.Errorf("LISTXATTRS = %q eof %v, want %q eof", keys(all.LxrNames), all.LxrEof, want)
	}
	// Room for two 8-byte names after the 16 fixed bytes.
	var got []string
	cookie := uint64(0)
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("LISTXATTRS paging does not end")
		}
		res := s.call42(opPutfh(fh), listxattrsArg(cookie, 16+16))
		f.wantStatus(res, x.NFS4_OK, 3)
		v := res.Resarray[2].Oplistxattrs.LxrValue
		got = append(got, keys(v.LxrNames)...)
		cookie = uint64(v.LxrCookie)
		if v.LxrEof {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged LISTXATTRS = %q, want %q", got, want)
	}
	if st := lastStatus(s.call42(opPutfh(fh), listxattrsArg(0, 20))); st != x.NFS4ERR_TOOSMALL {
		t.Errorf("LISTXATTRS with no room for a name: %v, want NFS4ERR_TOOSMALL", st)
	}
	res = s.call42(opPutfh(fh), listxattrsArg(100, 20))
	f.wantStatus(res, x.NFS4_OK, 3)
	if v := res.Resarray[2].Oplistxattrs.LxrValue; !v.LxrEof || len(v.LxrNames) != 0 {
		t.Errorf("LISTXATTRS past the end = %+v, want empty and eof", v)
	}
}

func keys(ks []x.Xattrkey4) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

// Permissions are the backend's for the caller (RFC 8276 §8.4 leaves them
// to the server's xattr model: Linux's user namespace); changes need a
// read-write export; backends without xattrs answer NFS4ERR_NOTSUPP.
func TestXattrAccess(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o644, 0)
	admin := f.newSession(root)
	fh := fhOf(t, admin, "f")
	f.wantStatus(admin.call42(opPutfh(fh), setxattrArg(x.SETXATTR4_EITHER, "k", "v")), x.NFS4_OK, 3)
	user := f.newSession(cred{1000, 1000})
	if st := lastStatus(user.call42(opPutfh(fh), getxattrArg("k"))); st != x.NFS4_OK {
		t.Errorf("GETXATTR by another user with read permission: %v", st)
	}
	for _, op := range []x.NfsArgop4{setxattrArg(x.SETXATTR4_EITHER, "k", "w"), removexattrArg("k")} {
		if st := lastStatus(user.call42(opPutfh(fh), op)); st != x.NFS4ERR_ACCESS {
			t.Errorf("%v by another user without write permission: %v, want NFS4ERR_ACCESS", op.Argop, st)
		}
	}
	if st := lastStatus(admin.call42(opPutrootfh(), opLookup("missing"))); st != x.NFS4ERR_NOENT {
		t.Fatalf("sanity: %v", st)
	}

	ro := newFixture(t, "/ *(ro,no_root_squash,insecure)\n")
	ro.seed("f", "data", 0o644, 0)
	rs := ro.newSession(root)
	rfh := fhOf(t, rs, "f")
	if st := lastStatus(rs.call42(opPutfh(rfh), setxattrArg(x.SETXATTR4_EITHER, "k", "v"))); st != x.NFS4ERR_ROFS {
		t.Errorf("SETXATTR on a read-only export: %v, want NFS4ERR_ROFS", st)
	}
	if st := lastStatus(rs.call42(opPutfh(rfh), listxattrsArg(0, 100))); st != x.NFS4_OK {
		t.Errorf("LISTXATTRS on a read-only export: %v, want NFS4_OK", st)
	}

	pf := newFixtureWith(t, defaultExports, func(string) vfs.FS { return plainFS{memfsNew()} })
	ps := pf.newSession(root)
	for _, op := range []x.NfsArgop4{getxattrArg("k"), setxattrArg(x.SETXATTR4_EITHER, "k", "v"), listxattrsArg(0, 100), removexattrArg("k")} {
		if st := lastStatus(ps.call42(opPutrootfh(), op)); st != x.NFS4ERR_NOTSUPP {
			t.Errorf("%v without vfs.Xattrer: %v, want NFS4ERR_NOTSUPP", op.Argop, st)
		}
	}
}

// xattrAccess decides ACCESS4_XAREAD, XAWRITE and XALIST (RFC 8276
// §8.4.1) from read and write permission, for op_fh.go's ACCESS.
func TestXattrAccessBits(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o644, 0)
	e, _ := f.ns.Find("/")
	fs := f.fs["/"]
	h, _, err := fs.Lookup(t.Context(), vfs.RootCred(), fs.Root(), "f")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who  cred
		want uint32
	}{
		{root, xattrAccessBits},
		{cred{1000, 1000}, x.ACCESS4_XAREAD | x.ACCESS4_XALIST},
	} {
		c := &compound{s: f.srv, ctx: t.Context(), call: f.rpcCall(tt.who), cur: fileRef{e: e, h: h}}
		sup, got, st := c.xattrAccess(xattrAccessBits | x.ACCESS4_READ)
		if st != x.NFS4_OK || sup != xattrAccessBits || got != tt.want {
			t.Errorf("uid %d: supported %#x granted %#x %v, want %#x %#x", tt.who.uid, sup, got, st, xattrAccessBits, tt.want)
		}
	}
}

// rpcCall is an AUTH_SYS call as c, as the fixture sends them, for tests
// that run a compound's helpers directly.
func (f *fixture) rpcCall(c cred) *sunrpc.Call {
	call := &sunrpc.Call{Prog: x.NFS4_PROGRAM, Vers: x.NFS_V4, Proc: x.NFSPROC4_COMPOUND, Transport: "tcp",
		Remote: f.remote, Local: netip.MustParseAddrPort("127.0.0.1:2049")}
	call.Cred.Flavor = rpcxdr.AUTH_SYS
	call.Cred.Sys = rpcxdr.AuthsysParms{Machinename: "test", Uid: c.uid, Gid: c.gid}
	return call
}
