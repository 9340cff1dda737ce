package nfs3

import (
	"bytes"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
)

// TestRemoveRmdir covers RFC 1813 §3.3.12 and §3.3.13. Every row runs in a
// fresh /rw holding file "f", empty directory "empty", directory "full"
// with one file, and a sticky world-writable "tmp" holding "mine" of uid
// 1000.
func TestRemoveRmdir(t *testing.T) {
	tests := []struct {
		name   string
		proc   uint32
		export string
		in     string // "" (the root), or a directory of the layout
		entry  string
		uid    uint32
		want   nfs3xdr.Nfsstat3
	}{
		{"remove file", nfs3xdr.NFSPROC3_REMOVE, "/rw", "", "f", 1000, nfs3xdr.NFS3_OK},
		{"remove missing", nfs3xdr.NFSPROC3_REMOVE, "/rw", "", "nope", 1000, nfs3xdr.NFS3ERR_NOENT},
		{"remove directory", nfs3xdr.NFSPROC3_REMOVE, "/rw", "", "empty", 1000, nfs3xdr.NFS3ERR_ISDIR},
		{"remove dot", nfs3xdr.NFSPROC3_REMOVE, "/rw", "", ".", 1000, nfs3xdr.NFS3ERR_INVAL},
		{"remove dotdot", nfs3xdr.NFSPROC3_REMOVE, "/rw", "full", "..", 1000, nfs3xdr.NFS3ERR_INVAL},
		{"remove slash", nfs3xdr.NFSPROC3_REMOVE, "/rw", "", "full/x", 1000, nfs3xdr.NFS3ERR_ACCES},
		{"remove sticky other's", nfs3xdr.NFSPROC3_REMOVE, "/rw", "tmp", "mine", 2000, nfs3xdr.NFS3ERR_PERM},
		{"remove sticky own", nfs3xdr.NFSPROC3_REMOVE, "/rw", "tmp", "mine", 1000, nfs3xdr.NFS3_OK},
		{"remove read-only export", nfs3xdr.NFSPROC3_REMOVE, "/ro", "", "f", 0, nfs3xdr.NFS3ERR_ROFS},
		{"rmdir empty", nfs3xdr.NFSPROC3_RMDIR, "/rw", "", "empty", 1000, nfs3xdr.NFS3_OK},
		{"rmdir non-empty", nfs3xdr.NFSPROC3_RMDIR, "/rw", "", "full", 1000, nfs3xdr.NFS3ERR_NOTEMPTY},
		{"rmdir file", nfs3xdr.NFSPROC3_RMDIR, "/rw", "", "f", 1000, nfs3xdr.NFS3ERR_NOTDIR},
		{"rmdir missing", nfs3xdr.NFSPROC3_RMDIR, "/rw", "", "nope", 1000, nfs3xdr.NFS3ERR_NOENT},
		{"rmdir dot", nfs3xdr.NFSPROC3_RMDIR, "/rw", "empty", ".", 1000, nfs3xdr.NFS3ERR_INVAL},
		{"rmdir read-only export", nfs3xdr.NFSPROC3_RMDIR, "/ro", "", "empty", 0, nfs3xdr.NFS3ERR_ROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			root := e.root["/rw"]
			dirs := map[string]nfs3xdr.NfsFh3{"": root}
			u.create(root, "f", 0o644)
			dirs["empty"] = u.mkdir(root, "empty", 0o755)
			dirs["full"] = u.mkdir(root, "full", 0o755)
			u.create(dirs["full"], "x", 0o644)
			dirs["tmp"] = u.mkdir(root, "tmp", 0o1777)
			u.create(dirs["tmp"], "mine", 0o644)
			e.makeFile("/ro", "f", 0, 0, 0o644, nil)
			e.makeDir("/ro", "empty", 0, 0, 0o755)
			dir := dirs[tt.in]
			if tt.export != "/rw" {
				dir = e.root[tt.export]
			}

			c := e.as(tt.uid, tt.uid)
			before := c.getattr(dir)
			args := &nfs3xdr.REMOVE3args{Object: diropargs(dir, tt.entry)}
			var wcc nfs3xdr.WccData
			var st nfs3xdr.Nfsstat3
			if tt.proc == nfs3xdr.NFSPROC3_REMOVE {
				var res nfs3xdr.REMOVE3res
				c.call(tt.proc, args, &res)
				st, wcc = res.Status, res.Resfail.DirWcc
				if st == nfs3xdr.NFS3_OK {
					wcc = res.Resok.DirWcc
				}
			} else {
				var res nfs3xdr.RMDIR3res
				c.call(tt.proc, (*nfs3xdr.RMDIR3args)(args), &res)
				st, wcc = res.Status, res.Resfail.DirWcc
				if st == nfs3xdr.NFS3_OK {
					wcc = res.Resok.DirWcc
				}
			}
			must(t, nfs3xdr.NFS_V3ProcName(tt.proc), st, tt.want)
			after := c.getattr(dir)
			checkDirWcc(t, "dir", wcc, before, after)
			r, _ := c.lookup(dir, tt.entry)
			if st == nfs3xdr.NFS3_OK && r.Status != nfs3xdr.NFS3ERR_NOENT {
				t.Errorf("LOOKUP after removal: %v", r.Status)
			}
			if st != nfs3xdr.NFS3_OK && after != before {
				t.Errorf("a failed removal changed the directory")
			}
		})
	}
}

// TestRename covers RFC 1813 §3.3.14, including the rename across two
// exports, which are two filesystems to the client.
func TestRename(t *testing.T) {
	tests := []struct {
		name     string
		from     string // directory: "a", "b", or "other" (the /other root)
		fromName string
		to       string
		toName   string
		want     nfs3xdr.Nfsstat3
	}{
		{"same directory", "a", "f", "a", "g", nfs3xdr.NFS3_OK},
		{"to another directory", "a", "f", "b", "f", nfs3xdr.NFS3_OK},
		{"over existing file", "a", "f", "b", "existing", nfs3xdr.NFS3_OK},
		{"onto itself", "a", "f", "a", "f", nfs3xdr.NFS3_OK},
		{"file over directory", "a", "f", "b", "dir", nfs3xdr.NFS3ERR_ISDIR},
		{"directory over file", "b", "dir", "b", "existing", nfs3xdr.NFS3ERR_NOTDIR},
		{"directory over non-empty directory", "a", "sub", "b", "full", nfs3xdr.NFS3ERR_NOTEMPTY},
		{"directory into itself", "a", "sub", "sub", "x", nfs3xdr.NFS3ERR_INVAL},
		{"missing", "a", "nope", "b", "x", nfs3xdr.NFS3ERR_NOENT},
		{"from dot", "a", ".", "b", "x", nfs3xdr.NFS3ERR_INVAL},
		{"from dotdot", "a", "..", "b", "x", nfs3xdr.NFS3ERR_INVAL},
		{"to dot", "a", "f", "b", ".", nfs3xdr.NFS3ERR_EXIST},
		{"slash", "a", "f", "b", "x/y", nfs3xdr.NFS3ERR_ACCES},
		{"across exports", "a", "f", "other", "f", nfs3xdr.NFS3ERR_XDEV},
		{"across exports back", "other", "o", "a", "o", nfs3xdr.NFS3ERR_XDEV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			root := e.root["/rw"]
			dirs := map[string]nfs3xdr.NfsFh3{"a": u.mkdir(root, "a", 0o755), "b": u.mkdir(root, "b", 0o755), "other": e.root["/other"]}
			f := u.create(dirs["a"], "f", 0o644)
			u.write(f, 0, []byte("moved"))
			dirs["sub"] = u.mkdir(dirs["a"], "sub", 0o755)
			u.create(dirs["b"], "existing", 0o644)
			u.mkdir(dirs["b"], "dir", 0o755)
			full := u.mkdir(dirs["b"], "full", 0o755)
			u.create(full, "x", 0o644)
			u.create(dirs["other"], "o", 0o644)

			from, to := dirs[tt.from], dirs[tt.to]
			fromBefore, toBefore := u.getattr(from), u.getattr(to)
			var res nfs3xdr.RENAME3res
			u.call(nfs3xdr.NFSPROC3_RENAME, &nfs3xdr.RENAME3args{From: diropargs(from, tt.fromName), To: diropargs(to, tt.toName)}, &res)
			must(t, "RENAME", res.Status, tt.want)
			fromAfter, toAfter := u.getattr(from), u.getattr(to)
			fw, tw := res.Resfail.FromdirWcc, res.Resfail.TodirWcc
			if res.Status == nfs3xdr.NFS3_OK {
				fw, tw = res.Resok.FromdirWcc, res.Resok.TodirWcc
			}
			// Each directory's wcc data must be its own, also across
			// exports where both may be the root of their backend.
			checkDirWcc(t, "fromdir", fw, fromBefore, fromAfter)
			checkDirWcc(t, "todir", tw, toBefore, toAfter)
			if res.Status != nfs3xdr.NFS3_OK {
				if fromAfter != fromBefore || toAfter != toBefore {
					t.Errorf("a failed RENAME changed a directory")
				}
				return
			}
			_, moved := u.lookup(to, tt.toName)
			if tt.fromName == "f" && !bytes.Equal(moved.Data, f.Data) {
				t.Errorf("%s names %x, want the moved file %x", tt.toName, moved.Data, f.Data)
			}
			if got := u.read(moved, 0, 100); string(got.Resok.Data) != "moved" {
				t.Errorf("renamed file holds %q", got.Resok.Data)
			}
			if tt.fromName != tt.toName || tt.from != tt.to {
				if r, _ := u.lookup(from, tt.fromName); r.Status != nfs3xdr.NFS3ERR_NOENT {
					t.Errorf("old name still there: %v", r.Status)
				}
			}
		})
	}
}

func TestRenameReadOnly(t *testing.T) {
	e := newEnv(t)
	e.makeFile("/ro", "f", 0, 0, 0o644, nil)
	r := e.rootUser()
	ro := e.root["/ro"]
	var res nfs3xdr.RENAME3res
	r.call(nfs3xdr.NFSPROC3_RENAME, &nfs3xdr.RENAME3args{From: diropargs(ro, "f"), To: diropargs(ro, "g")}, &res)
	must(t, "RENAME on a read-only export", res.Status, nfs3xdr.NFS3ERR_ROFS)
}

// TestLink covers RFC 1813 §3.3.15.
func TestLink(t *testing.T) {
	tests := []struct {
		name string
		file string // "f", "dir", or "o" (a file of /other)
		dir  string // "a" or "other"
		link string
		want nfs3xdr.Nfsstat3
	}{
		{"new name", "f", "a", "g", nfs3xdr.NFS3_OK},
		{"existing name", "f", "a", "f", nfs3xdr.NFS3ERR_EXIST},
		{"dot", "f", "a", ".", nfs3xdr.NFS3ERR_EXIST},
		{"directory", "dir", "a", "g", nfs3xdr.NFS3ERR_PERM},
		{"across exports", "f", "other", "g", nfs3xdr.NFS3ERR_XDEV},
		{"across exports back", "o", "a", "g", nfs3xdr.NFS3ERR_XDEV},
		{"slash", "f", "a", "x/y", nfs3xdr.NFS3ERR_ACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			root := e.root["/rw"]
			dirs := map[string]nfs3xdr.NfsFh3{"a": u.mkdir(root, "a", 0o755), "other": e.root["/other"]}
			files := map[string]nfs3xdr.NfsFh3{
				"f":   u.create(dirs["a"], "f", 0o644),
				"dir": u.mkdir(dirs["a"], "dir", 0o755),
				"o":   u.create(dirs["other"], "o", 0o644),
			}
			file, dir := files[tt.file], dirs[tt.dir]
			fileBefore, dirBefore := u.getattr(file), u.getattr(dir)
			var res nfs3xdr.LINK3res
			u.call(nfs3xdr.NFSPROC3_LINK, &nfs3xdr.LINK3args{File: file, Link: diropargs(dir, tt.link)}, &res)
			must(t, "LINK", res.Status, tt.want)
			fileAfter, dirAfter := u.getattr(file), u.getattr(dir)
			fa, wcc := res.Resfail.FileAttributes, res.Resfail.LinkdirWcc
			if res.Status == nfs3xdr.NFS3_OK {
				fa, wcc = res.Resok.FileAttributes, res.Resok.LinkdirWcc
			}
			if !fa.AttributesFollow || fa.Attributes != fileAfter {
				t.Errorf("file attributes %+v, want %+v", fa, fileAfter)
			}
			checkDirWcc(t, "linkdir", wcc, dirBefore, dirAfter)
			if res.Status != nfs3xdr.NFS3_OK {
				if fileAfter.Nlink != fileBefore.Nlink {
					t.Errorf("a failed LINK changed nlink")
				}
				return
			}
			if fileAfter.Nlink != fileBefore.Nlink+1 {
				t.Errorf("nlink %d, want %d", fileAfter.Nlink, fileBefore.Nlink+1)
			}
			if _, h := u.lookup(dir, tt.link); !bytes.Equal(h.Data, file.Data) {
				t.Errorf("new name resolves to %x, want %x", h.Data, file.Data)
			}
		})
	}
}
