package nfs3

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// dirent is one entry of a READDIR or READDIRPLUS reply.
type dirent struct {
	name   string
	fileid uint64
	cookie uint64
	attrs  nfs3xdr.PostOpAttr // READDIRPLUS only
	fh     nfs3xdr.PostOpFh3  // READDIRPLUS only
}

// readdirOnce runs one READDIR (dircount < 0) or READDIRPLUS and checks
// the reply against the budgets the client gave: the whole reply within
// count / maxcount (RFC 1813 §3.3.16: "the size must include all XDR
// overhead") and the entries' directory information within dircount
// (§3.3.17). Every byte must decode.
func (c *client) readdirOnce(t *testing.T, dir nfs3xdr.NfsFh3, cookie uint64, dircount int, count uint32) (nfs3xdr.Nfsstat3, []dirent, bool) {
	t.Helper()
	plus := dircount >= 0
	var args xdr.Marshaler
	proc := uint32(nfs3xdr.NFSPROC3_READDIR)
	if plus {
		proc = nfs3xdr.NFSPROC3_READDIRPLUS
		args = &nfs3xdr.READDIRPLUS3args{Dir: dir, Cookie: nfs3xdr.Cookie3(cookie), Dircount: nfs3xdr.Count3(dircount), Maxcount: nfs3xdr.Count3(count)}
	} else {
		args = &nfs3xdr.READDIR3args{Dir: dir, Cookie: nfs3xdr.Cookie3(cookie), Count: nfs3xdr.Count3(count)}
	}
	st, body := c.raw(proc, xdr.Marshal(nil, args))
	if st != sunrpc.Success {
		t.Fatalf("%s: RPC status %v", nfs3xdr.NFS_V3ProcName(proc), st)
	}
	if len(body) > int(count) && len(body) > 4+88 {
		t.Fatalf("%s reply of %d bytes exceeds count %d", nfs3xdr.NFS_V3ProcName(proc), len(body), count)
	}
	var ents []dirent
	if !plus {
		var res nfs3xdr.READDIR3res
		if err := xdr.Unmarshal(body, &res); err != nil {
			t.Fatalf("READDIR reply does not decode: %v", err)
		}
		if res.Status != nfs3xdr.NFS3_OK {
			return res.Status, nil, false
		}
		for e := res.Resok.Reply.Entries; e != nil; e = e.Nextentry {
			ents = append(ents, dirent{name: string(e.Name), fileid: uint64(e.Fileid), cookie: uint64(e.Cookie)})
		}
		return res.Status, ents, res.Resok.Reply.Eof
	}
	var res nfs3xdr.READDIRPLUS3res
	if err := xdr.Unmarshal(body, &res); err != nil {
		t.Fatalf("READDIRPLUS reply does not decode: %v", err)
	}
	if res.Status != nfs3xdr.NFS3_OK {
		return res.Status, nil, false
	}
	dirInfo := 0
	for e := res.Resok.Reply.Entries; e != nil; e = e.Nextentry {
		ents = append(ents, dirent{name: string(e.Name), fileid: uint64(e.Fileid), cookie: uint64(e.Cookie),
			attrs: e.NameAttributes, fh: e.NameHandle})
		dirInfo += 8 + 4 + (len(e.Name)+3)&^3 + 8
	}
	if dircount > 0 && dirInfo > dircount {
		t.Fatalf("READDIRPLUS directory information of %d bytes exceeds dircount %d", dirInfo, dircount)
	}
	return res.Status, ents, res.Resok.Reply.Eof
}

// listAll lists dir from the start, one call after another, as a client
// does, and fails on any entry seen twice.
func (c *client) listAll(t *testing.T, dir nfs3xdr.NfsFh3, dircount int, count uint32) (ents []dirent, calls int) {
	t.Helper()
	seen := map[string]bool{}
	var cookie uint64
	for {
		st, got, eof := c.readdirOnce(t, dir, cookie, dircount, count)
		must(t, "READDIR", st, nfs3xdr.NFS3_OK)
		calls++
		if len(got) == 0 && !eof {
			t.Fatalf("a reply with no entries and no eof: the client would loop")
		}
		for _, e := range got {
			if seen[e.name] {
				t.Fatalf("entry %q listed twice", e.name)
			}
			seen[e.name] = true
		}
		ents = append(ents, got...)
		if eof {
			return ents, calls
		}
		cookie = got[len(got)-1].cookie
	}
}

func names(ents []dirent) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.name
	}
	return out
}

// TestReaddirDots: "." and ".." come first with cookies 1 and 2, and the
// export root's ".." is the root itself.
func TestReaddirDots(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	sub := u.mkdir(root, "sub", 0o755)
	u.create(sub, "a", 0o644)
	for _, dircount := range []int{-1, 8192} {
		for _, tc := range []struct {
			dir, parent nfs3xdr.NfsFh3
		}{{root, root}, {sub, root}} {
			ents, _ := u.listAll(t, tc.dir, dircount, 8192)
			if len(ents) < 2 || ents[0].name != "." || ents[0].cookie != 1 || ents[1].name != ".." || ents[1].cookie != 2 {
				t.Fatalf("listing starts %+v, want . (1) and .. (2)", ents)
			}
			if want := u.getattr(tc.dir).Fileid; ents[0].fileid != uint64(want) {
				t.Errorf(". fileid %d, want %d", ents[0].fileid, want)
			}
			if want := u.getattr(tc.parent).Fileid; ents[1].fileid != uint64(want) {
				t.Errorf(".. fileid %d, want %d", ents[1].fileid, want)
			}
			if dircount >= 0 {
				for i, want := range []nfs3xdr.NfsFh3{tc.dir, tc.parent} {
					if !ents[i].fh.HandleFollows || !bytes.Equal(ents[i].fh.Handle.Data, want.Data) {
						t.Errorf("%s handle %x, want %x", ents[i].name, ents[i].fh.Handle.Data, want.Data)
					}
					if !ents[i].attrs.AttributesFollow || ents[i].attrs.Attributes != u.getattr(want) {
						t.Errorf("%s attributes %+v", ents[i].name, ents[i].attrs)
					}
				}
			}
		}
	}
}

// TestReaddirContinuation: listing from the cookie of any entry returns
// exactly the entries after it, so a client resuming anywhere sees each
// entry once (RFC 1813 §3.3.16).
func TestReaddirContinuation(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	for i := range 20 {
		u.create(root, fmt.Sprintf("f%02d", i), 0o644)
	}
	u.mkdir(root, "d", 0o755)
	for _, dircount := range []int{-1, 65536} {
		all, calls := u.listAll(t, root, dircount, 65536)
		if calls != 1 || len(all) != 23 {
			t.Fatalf("%d entries in %d calls, want 23 in 1", len(all), calls)
		}
		for i, from := range all {
			_, got, eof := u.readdirOnce(t, root, from.cookie, dircount, 65536)
			if !eof || strings.Join(names(got), ",") != strings.Join(names(all[i+1:]), ",") {
				t.Errorf("from cookie %d (%s): %v eof %v, want %v", from.cookie, from.name, names(got), eof, names(all[i+1:]))
			}
		}
	}
}

// TestReaddirSplit: small budgets split a listing across calls without
// losing or repeating an entry, and a budget too small for one entry is
// NFS3ERR_TOOSMALL.
func TestReaddirSplit(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	var want []string
	for i := range 30 {
		n := fmt.Sprintf("entry-%d-%s", i, strings.Repeat("x", i))
		u.create(root, n, 0o644)
		want = append(want, n)
	}
	want = append([]string{".", ".."}, want...)
	for _, tc := range []struct {
		dircount int
		count    uint32
	}{
		{-1, 200}, {-1, 300}, {-1, 512}, {-1, 1024},
		{512, 400}, {64, 4096}, {100, 1024}, {0, 1024},
	} {
		t.Run(fmt.Sprintf("dircount=%d,count=%d", tc.dircount, tc.count), func(t *testing.T) {
			ents, calls := u.listAll(t, root, tc.dircount, tc.count)
			if strings.Join(names(ents), "/") != strings.Join(want, "/") {
				t.Errorf("listing %v, want %v", names(ents), want)
			}
			if calls < 2 {
				t.Errorf("listed in %d call, want a split", calls)
			}
		})
	}

	// 100 bytes of header and 8 of trailer leave 28 for ".": one byte less
	// fits nothing.
	tests := []struct {
		name     string
		dircount int
		count    uint32
		want     nfs3xdr.Nfsstat3
	}{
		{"readdir fits one", -1, 136, nfs3xdr.NFS3_OK},
		{"readdir too small", -1, 135, nfs3xdr.NFS3ERR_TOOSMALL},
		{"readdir zero", -1, 0, nfs3xdr.NFS3ERR_TOOSMALL},
		{"readdirplus too small", 4096, 200, nfs3xdr.NFS3ERR_TOOSMALL},
		{"readdirplus dircount too small", 8, 4096, nfs3xdr.NFS3ERR_TOOSMALL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ents, _ := u.readdirOnce(t, root, 0, tt.dircount, tt.count)
			must(t, "READDIR", st, tt.want)
			if st == nfs3xdr.NFS3_OK && len(ents) != 1 {
				t.Errorf("%d entries, want 1", len(ents))
			}
		})
	}
}

// TestReaddirErrors: only directories can be listed, and listing needs
// read permission.
func TestReaddirErrors(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	file := u.create(root, "f", 0o644)
	private := u.mkdir(root, "private", 0o700)
	for _, dircount := range []int{-1, 4096} {
		for _, tc := range []struct {
			name   string
			fh     nfs3xdr.NfsFh3
			caller *client
			want   nfs3xdr.Nfsstat3
		}{
			{"file", file, u, nfs3xdr.NFS3ERR_NOTDIR},
			{"no read permission", private, e.as(2000, 2000), nfs3xdr.NFS3ERR_ACCES},
		} {
			st, _, _ := tc.caller.readdirOnce(t, tc.fh, 0, dircount, 4096)
			must(t, tc.name, st, tc.want)
		}
	}
}

// TestReaddirplusEntries: every READDIRPLUS entry carries a handle that
// resolves to the entry and the attributes GETATTR reports for it.
func TestReaddirplusEntries(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	u.create(root, "file", 0o640)
	u.mkdir(root, "dir", 0o700)
	var sl nfs3xdr.SYMLINK3res
	u.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(root, "link"), Symlink: nfs3xdr.Symlinkdata3{SymlinkData: "file"}}, &sl)
	ents, _ := u.listAll(t, root, 4096, 65536)
	if len(ents) != 5 {
		t.Fatalf("entries %v", names(ents))
	}
	for _, ent := range ents {
		if !ent.fh.HandleFollows || !ent.attrs.AttributesFollow {
			t.Errorf("%s: handle or attributes missing", ent.name)
			continue
		}
		a := u.getattr(ent.fh.Handle)
		if a != ent.attrs.Attributes || uint64(a.Fileid) != ent.fileid {
			t.Errorf("%s: entry attributes %+v, GETATTR %+v", ent.name, ent.attrs.Attributes, a)
		}
		if ent.name == "." || ent.name == ".." {
			continue
		}
		_, fh := u.lookup(root, ent.name)
		if !bytes.Equal(fh.Data, ent.fh.Handle.Data) {
			t.Errorf("%s: handle %x, LOOKUP %x", ent.name, ent.fh.Handle.Data, fh.Data)
		}
	}
}

// TestReaddirLarge lists a 1,000-entry directory with the budgets real
// clients use. The Linux client asks READDIR for up to its dtsize and
// READDIRPLUS with dircount = maxcount/8 (fs/nfs/nfs3xdr.c); FreeBSD and
// others send other ratios.
func TestReaddirLarge(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	dir := u.mkdir(e.root["/rw"], "big", 0o755)
	want := []string{".", ".."}
	for i := range 1000 {
		n := fmt.Sprintf("file-%04d", i)
		if i%97 == 0 {
			n += strings.Repeat("L", 255-len(n)) // longest names too
		}
		u.create(dir, n, 0o644)
		want = append(want, n)
	}
	for _, tc := range []struct {
		dircount int
		count    uint32
	}{
		{-1, 4096}, {-1, 32768}, {-1, 65536}, {-1, 1 << 20}, {-1, 4 << 20},
		{512, 4096}, {4096, 32768}, {16384, 131072}, {32768, 131072}, {65536, 1 << 20}, {0, 131072},
	} {
		t.Run(fmt.Sprintf("dircount=%d,count=%d", tc.dircount, tc.count), func(t *testing.T) {
			ents, calls := u.listAll(t, dir, tc.dircount, tc.count)
			if strings.Join(names(ents), "/") != strings.Join(want, "/") {
				t.Fatalf("listing of %d entries does not match the %d created", len(ents), len(want))
			}
			t.Logf("%d calls", calls)
		})
	}
}

// TestReaddirSearchPermission: a caller with r but not x on a directory
// gets its names, as readdir(2) would, but READDIRPLUS gives no handle or
// attributes of an entry: with a handle the caller could reach files its
// missing search permission keeps it from.
func TestReaddirSearchPermission(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	dir := u.mkdir(e.root["/rw"], "listonly", 0o744)
	secret := u.create(dir, "secret", 0o644)
	u.write(secret, 0, []byte("not for others"))
	other := e.as(2000, 2000)
	for _, dircount := range []int{-1, 8192} {
		ents, _ := other.listAll(t, dir, dircount, 8192)
		if got := strings.Join(names(ents), ","); got != ".,..,secret" {
			t.Fatalf("listing %s, want .,..,secret", got)
		}
		if dircount < 0 {
			continue
		}
		for _, ent := range ents[1:] {
			if ent.fh.HandleFollows || ent.attrs.AttributesFollow {
				t.Errorf("%s: handle or attributes given without search permission", ent.name)
			}
		}
	}
	// The owner, who may search, gets them.
	ents, _ := u.listAll(t, dir, 8192, 8192)
	for _, ent := range ents {
		if !ent.fh.HandleFollows || !ent.attrs.AttributesFollow {
			t.Errorf("%s: no handle or attributes for the owner", ent.name)
		}
	}
	// And LOOKUP agrees with READDIRPLUS.
	if res, _ := other.lookup(dir, "secret"); res.Status != nfs3xdr.NFS3ERR_ACCES {
		t.Errorf("LOOKUP without search permission: %v", res.Status)
	}
}
