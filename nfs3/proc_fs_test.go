package nfs3

import (
	"bytes"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
)

// TestFsstat: FSSTAT's counts are consistent and follow what is stored
// (RFC 1813 §3.3.18).
func TestFsstat(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	fsstat := func() nfs3xdr.FSSTAT3resok {
		t.Helper()
		var res nfs3xdr.FSSTAT3res
		u.call(nfs3xdr.NFSPROC3_FSSTAT, &nfs3xdr.FSSTAT3args{Fsroot: root}, &res)
		must(t, "FSSTAT", res.Status, nfs3xdr.NFS3_OK)
		if !res.Resok.ObjAttributes.AttributesFollow {
			t.Errorf("FSSTAT without attributes")
		}
		return res.Resok
	}
	before := fsstat()
	if before.Tbytes == 0 || before.Fbytes > before.Tbytes || before.Abytes > before.Fbytes ||
		before.Tfiles == 0 || before.Ffiles > before.Tfiles || before.Afiles > before.Ffiles {
		t.Fatalf("inconsistent FSSTAT %+v", before)
	}
	fh := u.create(root, "f", 0o644)
	u.write(fh, 0, bytes.Repeat([]byte("x"), 128<<10))
	after := fsstat()
	if after.Fbytes >= before.Fbytes || after.Ffiles >= before.Ffiles {
		t.Errorf("FSSTAT did not see a 128 KiB file: before %+v after %+v", before, after)
	}
}

// TestFsinfo: the limits a client sizes its requests by (RFC 1813
// §3.3.19).
func TestFsinfo(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	for _, obj := range []nfs3xdr.NfsFh3{e.root["/rw"], fh, e.root["/ro"]} {
		var res nfs3xdr.FSINFO3res
		u.call(nfs3xdr.NFSPROC3_FSINFO, &nfs3xdr.FSINFO3args{Fsroot: obj}, &res)
		must(t, "FSINFO", res.Status, nfs3xdr.NFS3_OK)
		ok := res.Resok
		want := nfs3xdr.FSINFO3resok{
			ObjAttributes: nfs3xdr.PostOpAttr{AttributesFollow: true, Attributes: u.getattr(obj)},
			Rtmax:         1 << 20, Rtpref: 1 << 20, Rtmult: 4096,
			Wtmax: 1 << 20, Wtpref: 1 << 20, Wtmult: 4096,
			Dtpref:      64 << 10,
			Maxfilesize: 1 << 62,
			TimeDelta:   nfs3xdr.Nfstime3{Seconds: 0, Nseconds: 1},
			Properties:  nfs3xdr.FSF3_LINK | nfs3xdr.FSF3_SYMLINK | nfs3xdr.FSF3_HOMOGENEOUS | nfs3xdr.FSF3_CANSETTIME,
		}
		if ok != want {
			t.Errorf("FSINFO\n got %+v\nwant %+v", ok, want)
		}
	}
}

// TestPathconf (RFC 1813 §3.3.20).
func TestPathconf(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	var res nfs3xdr.PATHCONF3res
	u.call(nfs3xdr.NFSPROC3_PATHCONF, &nfs3xdr.PATHCONF3args{Object: root}, &res)
	must(t, "PATHCONF", res.Status, nfs3xdr.NFS3_OK)
	want := nfs3xdr.PATHCONF3resok{
		ObjAttributes: nfs3xdr.PostOpAttr{AttributesFollow: true, Attributes: u.getattr(root)},
		Linkmax:       65000, NameMax: 255,
		NoTrunc: true, ChownRestricted: true, CaseInsensitive: false, CasePreserving: true,
	}
	if res.Resok != want {
		t.Errorf("PATHCONF\n got %+v\nwant %+v", res.Resok, want)
	}
}
