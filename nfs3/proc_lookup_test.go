package nfs3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
)

// TestLookup covers RFC 1813 §3.3.3: names, "." and "..", the export root's
// "..", and the errors, each with the directory's attributes.
func TestLookup(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	sub := u.mkdir(root, "sub", 0o755)
	file := u.create(sub, "file", 0o644)
	private := u.mkdir(root, "private", 0o700)
	u.create(private, "secret", 0o644)

	tests := []struct {
		name   string
		dir    nfs3xdr.NfsFh3
		look   string
		caller *client
		want   nfs3xdr.Nfsstat3
		wantFh nfs3xdr.NfsFh3 // compared when set
	}{
		{"file", sub, "file", u, nfs3xdr.NFS3_OK, file},
		{"subdir", root, "sub", u, nfs3xdr.NFS3_OK, sub},
		{"dot", sub, ".", u, nfs3xdr.NFS3_OK, sub},
		{"dotdot", sub, "..", u, nfs3xdr.NFS3_OK, root},
		{"dotdot of root is root", root, "..", u, nfs3xdr.NFS3_OK, root},
		{"missing", sub, "nope", u, nfs3xdr.NFS3ERR_NOENT, nfs3xdr.NfsFh3{}},
		{"empty name", sub, "", u, nfs3xdr.NFS3ERR_NOENT, nfs3xdr.NfsFh3{}},
		{"slash", root, "sub/file", u, nfs3xdr.NFS3ERR_ACCES, nfs3xdr.NfsFh3{}},
		{"nul", root, "sub\x00", u, nfs3xdr.NFS3ERR_ACCES, nfs3xdr.NfsFh3{}},
		{"too long", root, strings.Repeat("n", 256), u, nfs3xdr.NFS3ERR_NAMETOOLONG, nfs3xdr.NfsFh3{}},
		{"longest", root, strings.Repeat("n", 255), u, nfs3xdr.NFS3ERR_NOENT, nfs3xdr.NfsFh3{}},
		{"not a directory", file, "x", u, nfs3xdr.NFS3ERR_NOTDIR, nfs3xdr.NfsFh3{}},
		{"no search permission", private, "secret", e.as(2000, 2000), nfs3xdr.NFS3ERR_ACCES, nfs3xdr.NfsFh3{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, fh := tt.caller.lookup(tt.dir, tt.look)
			must(t, "LOOKUP", res.Status, tt.want)
			dirAttr := res.Resfail.DirAttributes
			if res.Status == nfs3xdr.NFS3_OK {
				dirAttr = res.Resok.DirAttributes
				if tt.wantFh.Data != nil && !bytes.Equal(fh.Data, tt.wantFh.Data) {
					t.Errorf("handle %x, want %x", fh.Data, tt.wantFh.Data)
				}
				if !res.Resok.ObjAttributes.AttributesFollow || res.Resok.ObjAttributes.Attributes != u.getattr(fh) {
					t.Errorf("object attributes %+v", res.Resok.ObjAttributes)
				}
			}
			// The directory's attributes come with every reply where the
			// directory is known (RFC 1813 §3.3.3 LOOKUP3resfail).
			if !dirAttr.AttributesFollow || dirAttr.Attributes != u.getattr(tt.dir) {
				t.Errorf("directory attributes %+v", dirAttr)
			}
		})
	}
}

// TestReadlink: READLINK returns the target as stored; other file types
// are NFS3ERR_INVAL (RFC 1813 §3.3.5).
func TestReadlink(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	file := u.create(root, "f", 0o644)
	tests := []struct {
		name, target string
	}{
		{"relative", "f"},
		{"absolute", "/etc/passwd"},
		{"dotdot", "../../../outside"},
		{"odd length", "abcde"},
		{"long", strings.Repeat("x/", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sl nfs3xdr.SYMLINK3res
			u.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(root, tt.name),
				Symlink: nfs3xdr.Symlinkdata3{SymlinkData: nfs3xdr.Nfspath3(tt.target)}}, &sl)
			must(t, "SYMLINK", sl.Status, nfs3xdr.NFS3_OK)
			var res nfs3xdr.READLINK3res
			u.call(nfs3xdr.NFSPROC3_READLINK, &nfs3xdr.READLINK3args{Symlink: sl.Resok.Obj.Handle}, &res)
			must(t, "READLINK", res.Status, nfs3xdr.NFS3_OK)
			if string(res.Resok.Data) != tt.target {
				t.Errorf("target %q, want %q", res.Resok.Data, tt.target)
			}
			if a := res.Resok.SymlinkAttributes; !a.AttributesFollow || a.Attributes.Type != nfs3xdr.NF3LNK ||
				a.Attributes.Size != nfs3xdr.Size3(len(tt.target)) {
				t.Errorf("symlink attributes %+v", a)
			}
		})
	}
	for _, fh := range []nfs3xdr.NfsFh3{file, root} {
		var res nfs3xdr.READLINK3res
		u.call(nfs3xdr.NFSPROC3_READLINK, &nfs3xdr.READLINK3args{Symlink: fh}, &res)
		must(t, "READLINK of a non-symlink", res.Status, nfs3xdr.NFS3ERR_INVAL)
		if !res.Resfail.SymlinkAttributes.AttributesFollow {
			t.Errorf("no attributes with the failure")
		}
	}
}
