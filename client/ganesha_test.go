package client

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"syscall"
	"testing"
)

// TestGanesha runs the client against nfs-ganesha (or any other server)
// when GONFS_GANESHA_URL names a directory on it over NFSv4, e.g.
// nfs://127.0.0.1/ for ../shared/lab/peers/ganesha.sh, and
// GONFS_GANESHA_V3_URL the same directory over NFSv3 (ganesha's MOUNT path
// is the exported directory itself, e.g. nfs://127.0.0.1/srv/export).
// Credentials are the process's unless the URLs carry uid= and gid=.
func TestGanesha(t *testing.T) {
	urls := map[string]string{}
	if u := os.Getenv("GONFS_GANESHA_URL"); u != "" {
		urls["4.1"] = u
		urls["4.2"] = u
	}
	if u := os.Getenv("GONFS_GANESHA_V3_URL"); u != "" {
		urls["3"] = u
	}
	if len(urls) == 0 {
		t.Skip("GONFS_GANESHA_URL / GONFS_GANESHA_V3_URL not set (see ../shared/lab/peers/ganesha.sh)")
	}
	for _, v := range versions {
		raw, ok := urls[v]
		if !ok {
			continue
		}
		t.Run(v, func(t *testing.T) {
			u, err := ParseURL(raw)
			if err != nil {
				t.Fatal(err)
			}
			u.Version = v
			ctx := testCtx(t)
			c, err := DialURL(ctx, u, Options{})
			if err != nil {
				if v == "4.2" && errors.Is(err, syscall.EOPNOTSUPP) {
					t.Skip(err)
				}
				t.Fatal(err)
			}
			defer c.Close()
			var r [4]byte
			rand.Read(r[:])
			dir := path.Join(u.Name(), "gonfs-client-test-"+hex.EncodeToString(r[:]))
			if err := c.MkdirAll(ctx, dir+"/sub", 0o755); err != nil {
				t.Fatal(err)
			}
			defer c.RemoveAll(ctx, dir)
			data := randomBytes(4<<20+7, 9)
			f, err := c.OpenFile(ctx, dir+"/f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(data, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.Lock(ctx, true, 0, 10); err != nil {
				t.Errorf("lock: %v", err)
			} else if err := f.Unlock(ctx, 0, 10); err != nil {
				t.Errorf("unlock: %v", err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.Rename(ctx, dir+"/f", dir+"/sub/g"); err != nil {
				t.Fatal(err)
			}
			got, err := fs.ReadFile(c, dir+"/sub/g")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes: %v", len(got), err)
			}
			ents, err := c.ReadDirContext(ctx, dir+"/sub")
			if err != nil || len(ents) != 1 || ents[0].Name() != "g" {
				t.Fatalf("readdir: %v %v", ents, err)
			}
			if err := c.Symlink(ctx, "g", dir+"/sub/l"); err != nil {
				t.Fatal(err)
			}
			if s, err := c.Readlink(ctx, dir+"/sub/l"); err != nil || s != "g" {
				t.Errorf("readlink: %q %v", s, err)
			}
		})
	}
}
