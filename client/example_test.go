package client_test

import (
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"time"

	"github.com/gonfs/gonfs/client"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
)

// serve starts an embedded gonfs for the examples and returns its address
// and a function that stops it.
func serve() (string, func()) {
	dir, _ := os.MkdirTemp("", "gonfs-example")
	state, _ := os.MkdirTemp("", "gonfs-example-state")
	os.Chown(dir, 1000, 1000)
	srv, err := server.New(server.Options{Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: state, Portmap: "off"})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	return srv.Addr().String(), func() {
		srv.Shutdown(context.Background())
		os.RemoveAll(dir)
		os.RemoveAll(state)
	}
}

// Write a file and read it back through io/fs.
func Example() {
	addr, stop := serve()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The credential is the caller's choice; by default, the process's.
	opts := client.Options{Auth: &rpcxdr.AuthsysParms{Machinename: "example", Uid: 1000, Gid: 1000}}
	c, err := client.Dial(ctx, "nfs://"+addr+"/?version=4.2", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.MkdirAll(ctx, "docs/notes", 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := c.OpenFile(ctx, "docs/notes/hello.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(f, "hello over NFS")
	if err := f.Close(); err != nil { // commits the unstable writes
		log.Fatal(err)
	}

	data, err := fs.ReadFile(c, "docs/notes/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(data))
	// Output: hello over NFS
}

// Walk a tree with io/fs; the same code serves NFSv3.
func ExampleClient_ReadDir() {
	addr, stop := serve()
	defer stop()
	ctx := context.Background()
	opts := client.Options{Auth: &rpcxdr.AuthsysParms{Machinename: "example", Uid: 1000, Gid: 1000}}
	c, err := client.Dial(ctx, "nfs://"+addr+"/?version=3", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"a", "a/b"} {
		c.Mkdir(ctx, p, 0o755)
	}
	fs.WalkDir(c, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Println(p, d.IsDir())
		return nil
	})
	// Output:
	// . true
	// a true
	// a/b true
}

// Byte-range locks are non-blocking: a conflict is an error at once.
func ExampleFile_Lock() {
	addr, stop := serve()
	defer stop()
	ctx := context.Background()
	opts := client.Options{Auth: &rpcxdr.AuthsysParms{Machinename: "example", Uid: 1000, Gid: 1000}}
	a, _ := client.Dial(ctx, "nfs://"+addr+"/?version=4.1", opts)
	defer a.Close()
	b, _ := client.Dial(ctx, "nfs://"+addr+"/?version=4.1", opts)
	defer b.Close()

	fa, _ := a.OpenFile(ctx, "shared", os.O_RDWR|os.O_CREATE, 0o644)
	defer fa.Close()
	fb, _ := b.OpenFile(ctx, "shared", os.O_RDWR, 0)
	defer fb.Close()

	fmt.Println(fa.Lock(ctx, true, 0, 0) == nil)
	fmt.Println(fb.Lock(ctx, true, 0, 0) != nil)
	// Output:
	// true
	// true
}
