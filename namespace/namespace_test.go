package namespace

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
)

func build(t *testing.T, text string) *Namespace {
	t.Helper()
	table, err := exports.Parse(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := New(table, codec, func(*exports.Export) (vfs.FS, error) { return memfs.New(memfs.Options{}), nil })
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

var client = netip.MustParseAddrPort("10.0.0.7:800")

func TestAuthorize(t *testing.T) {
	ns := build(t, `
/rw     10.0.0.0/8(rw)
/ro     10.0.0.0/8(ro,all_squash,anonuid=7,anongid=8)
/none   10.0.0.0/8(rw,sec=none,no_root_squash)
/secure 10.0.0.0/8(rw,secure)
`)
	get := func(p string) *Export {
		e, ok := ns.Find(p)
		if !ok {
			t.Fatalf("export %s missing", p)
		}
		return e
	}
	sys := func(uid, gid uint32, groups ...uint32) Caller {
		return Caller{Addr: client, Flavor: exports.FlavorSys, UID: uid, GID: gid, Groups: groups}
	}
	for _, tc := range []struct {
		name    string
		export  string
		c       Caller
		want    vfs.Cred
		ro      bool
		wantErr error
	}{
		{"user passes through", "/rw", sys(1000, 100, 5), vfs.Cred{UID: 1000, GID: 100, Groups: []uint32{5}}, false, nil},
		{"root squashed", "/rw", sys(0, 0, 0, 5), vfs.Cred{UID: 65534, GID: 65534, Groups: []uint32{65534, 5}}, false, nil},
		{"all squashed to anon ids", "/ro", sys(1000, 100), vfs.Cred{UID: 7, GID: 8}, true, nil},
		{"AUTH_NONE is anonymous", "/none", Caller{Addr: client, Flavor: exports.FlavorNone}, vfs.Cred{UID: 65534, GID: 65534}, false, nil},
		{"AUTH_SYS on a sec=none export", "/none", sys(1, 1), vfs.Cred{}, false, ErrWrongSec},
		{"unknown flavor", "/rw", Caller{Addr: client, Flavor: 6}, vfs.Cred{}, false, ErrWrongSec},
		{"other network", "/rw", Caller{Addr: netip.MustParseAddrPort("192.0.2.1:800"), Flavor: exports.FlavorSys}, vfs.Cred{}, false, exports.ErrDenied},
		{"unprivileged port", "/secure", Caller{Addr: netip.MustParseAddrPort("10.0.0.7:40000"), Flavor: exports.FlavorSys}, vfs.Cred{}, false, exports.ErrInsecurePort},
	} {
		acc, err := ns.Authorize(context.Background(), get(tc.export), tc.c)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if acc.Cred.UID != tc.want.UID || acc.Cred.GID != tc.want.GID || len(acc.Cred.Groups) != len(tc.want.Groups) || acc.ReadOnly != tc.ro {
			t.Errorf("%s: got %+v ro=%v, want %+v ro=%v", tc.name, acc.Cred, acc.ReadOnly, tc.want, tc.ro)
		}
		for i := range tc.want.Groups {
			if acc.Cred.Groups[i] != tc.want.Groups[i] {
				t.Errorf("%s: groups %v, want %v", tc.name, acc.Cred.Groups, tc.want.Groups)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	ns := build(t, "/a *(rw)\n/b *(rw,fsid=77)\n")
	a, _ := ns.Find("/a")
	b, _ := ns.Find("/b")
	if b.ID != 77 || a.ID == b.ID || a.FSID() == b.FSID() {
		t.Fatalf("ids: a %d, b %d", a.ID, b.ID)
	}
	fh := ns.Handle(nil, a, a.Root)
	e, h, err := ns.Resolve(fh)
	if err != nil || e != a || string(h) != string(a.Root) {
		t.Fatalf("Resolve = %v %x %v", e, h, err)
	}
	other := build(t, "/c *(rw)\n") // same key, no export with a's id
	if _, _, err := other.Resolve(fh); !errors.Is(err, ErrUnknownExport) {
		t.Errorf("handle of a vanished export: %v, want ErrUnknownExport", err)
	}
	fh[len(fh)-1] ^= 1
	if _, _, err := ns.Resolve(fh); !errors.Is(err, fhandle.ErrStale) {
		t.Errorf("tampered handle: %v, want ErrStale", err)
	}
}

func TestPseudoTree(t *testing.T) {
	ns := build(t, "/srv/data *(rw)\n/srv/data/sub *(rw)\n/home *(rw)\n")
	root := ns.PseudoRoot()
	if root.Export != nil || root.Parent != nil {
		t.Fatal("root should be a plain pseudo directory")
	}
	var names []string
	for _, c := range root.Children {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "home,srv" {
		t.Fatalf("root children %v", names)
	}
	srv, _ := root.Child("srv")
	data, ok := srv.Child("data")
	if !ok || data.Export == nil || data.Export.Config.Path != "/srv/data" || data.Export.Mount != data {
		t.Fatalf("data node %+v", data)
	}
	if sub, ok := data.Child("sub"); !ok || sub.Export == nil {
		t.Fatal("nested export not in the tree")
	}
	// Pseudo handles resolve back to their node, and survive a rebuild.
	fh := ns.PseudoHandle(nil, srv)
	again := build(t, "/srv/data *(rw)\n/srv/data/sub *(rw)\n/home *(rw)\n")
	e, _, p, err := again.ResolveAny(fh)
	if err != nil || e != nil || p == nil || p.Path != "/srv" {
		t.Fatalf("ResolveAny(pseudo) = %v %v %v", e, p, err)
	}
	e, h, p, err := ns.ResolveAny(ns.Handle(nil, data.Export, data.Export.Root))
	if err != nil || e != data.Export || p != nil || h == nil {
		t.Fatalf("ResolveAny(export) = %v %v %v", e, p, err)
	}
}

func TestRootExportIsPseudoRoot(t *testing.T) {
	ns := build(t, "/ *(rw)\n")
	if ns.PseudoRoot().Export == nil {
		t.Fatal("an export at / should be mounted on the pseudo root")
	}
}
