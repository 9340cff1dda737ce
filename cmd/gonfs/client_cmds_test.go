package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/server"
)

// startNFS runs an embedded gonfs on loopback over a directory uid 1000
// owns, and returns the directory and the server's address.
func startNFS(t *testing.T) (dir, addr string) {
	t.Helper()
	dir = t.TempDir()
	if os.Getuid() == 0 {
		if err := os.Chown(dir, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(server.Options{Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: t.TempDir(), Portmap: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return dir, srv.Addr().String()
}

// run runs one command through its cobra function and returns its output.
func run(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func mustRun(t *testing.T, cmd *cobra.Command, args ...string) string {
	t.Helper()
	out, err := run(t, cmd, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", cmd.Name(), args, err)
	}
	return out
}

// TestClientCommands drives mkdir, put, cp (both ways, recursive), ls,
// cat, stat and rm against an embedded server over each version.
func TestClientCommands(t *testing.T) {
	for _, v := range []string{"3", "4.1", "4.2"} {
		t.Run(v, func(t *testing.T) {
			dir, addr := startNFS(t)
			url := func(p string) string {
				return fmt.Sprintf("nfs://%s/%s?version=%s&uid=1000&gid=1000", addr, p, v)
			}
			local := t.TempDir()
			data := bytes.Repeat([]byte("gonfs "), 500000) // 3 MB: several WRITEs
			if err := os.WriteFile(filepath.Join(local, "a.txt"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(local, "tree/sub"), 0o755)
			os.WriteFile(filepath.Join(local, "tree/sub/leaf"), []byte("leaf\n"), 0o600)
			os.WriteFile(filepath.Join(local, "tree/top"), []byte("top\n"), 0o644)

			mustRun(t, mkdirCmd(), "-p", url("x/y"))
			if _, err := run(t, mkdirCmd(), url("x/y")); err == nil {
				t.Error("mkdir of an existing directory succeeded")
			}
			mustRun(t, putCmd(), filepath.Join(local, "a.txt"), url("x"))
			if got, _ := os.ReadFile(filepath.Join(dir, "x/a.txt")); !bytes.Equal(got, data) {
				t.Fatalf("put stored %d bytes", len(got))
			}
			if out := mustRun(t, catCmd(), url("x/a.txt")); out != string(data) {
				t.Errorf("cat returned %d bytes", len(out))
			}
			mustRun(t, cpCmd(), "-r", filepath.Join(local, "tree"), url("x/y"))
			if got, _ := os.ReadFile(filepath.Join(dir, "x/y/tree/sub/leaf")); string(got) != "leaf\n" {
				t.Errorf("cp -r to the server: leaf holds %q", got)
			}
			back := filepath.Join(t.TempDir(), "back")
			mustRun(t, cpCmd(), "-r", url("x"), back)
			if got, _ := os.ReadFile(filepath.Join(back, "y/tree/top")); string(got) != "top\n" {
				t.Errorf("cp -r from the server: top holds %q", got)
			}
			if got, _ := os.ReadFile(filepath.Join(back, "a.txt")); !bytes.Equal(got, data) {
				t.Errorf("cp -r from the server: a.txt has %d bytes", len(got))
			}
			mustRun(t, cpCmd(), url("x/a.txt"), url("x/copy.txt"))
			if got, _ := os.ReadFile(filepath.Join(dir, "x/copy.txt")); !bytes.Equal(got, data) {
				t.Errorf("server-to-server copy has %d bytes", len(got))
			}
			if _, err := run(t, cpCmd(), url("x"), back); err == nil || !strings.Contains(err.Error(), "-r") {
				t.Errorf("cp of a directory without -r: %v", err)
			}

			if out := mustRun(t, lsCmd(), url("x")); out != "a.txt\ncopy.txt\ny\n" {
				t.Errorf("ls:\n%s", out)
			}
			out := mustRun(t, lsCmd(), "-l", url("x"))
			if !strings.Contains(out, "-rw-r--r--") || !strings.Contains(out, fmt.Sprint(len(data))) || !strings.Contains(out, "1000") {
				t.Errorf("ls -l:\n%s", out)
			}
			out = mustRun(t, statCmd(), url("x/a.txt"))
			if !strings.Contains(out, "regular file") || !strings.Contains(out, "(0644)") || !strings.Contains(out, "NFSv"+v) {
				t.Errorf("stat:\n%s", out)
			}
			if _, err := run(t, rmCmd(), url("x")); err == nil {
				t.Error("rm of a non-empty directory without -r succeeded")
			}
			mustRun(t, rmCmd(), url("x/copy.txt"))
			mustRun(t, rmCmd(), "-r", url("x"))
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left on the server after rm -r: %v", ents)
			}
			if _, err := run(t, statCmd(), url("x")); err == nil {
				t.Error("stat of a removed directory succeeded")
			}
		})
	}
}
