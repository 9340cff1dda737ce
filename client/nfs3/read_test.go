package nfs3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// pattern returns n bytes that differ at every offset.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestReadWrite writes a file through Write (its data sent as a Tail) and
// reads it back through Read (its data received through a Sink), with and
// without attributes in the READ replies, at sizes around the XDR padding
// and up to 1 MiB, and checks that no byte lands outside p[:n].
func TestReadWrite(t *testing.T) {
	f, c := startFake(t)
	ctx := context.Background()
	data := pattern(1<<20 + 5)
	for off := 0; off < len(data); off += 300000 {
		end := min(off+300000, len(data))
		if n, _, _, err := c.Write(ctx, Fh{1}, data[off:end], uint64(off), x.FILE_SYNC); err != nil || n != end-off {
			t.Fatalf("write at %d: %d, %v", off, n, err)
		}
	}
	if !bytes.Equal(f.stable, data) {
		t.Fatal("the server holds other data than written")
	}
	for _, attrs := range []bool{false, true} {
		f.mu.Lock()
		f.readAttrs = attrs
		f.mu.Unlock()
		for _, tc := range []struct{ off, count int }{
			{0, 0}, {0, 1}, {1, 3}, {5, 4}, {7, 5}, {100, 4096}, {0, 1 << 20}, {len(data) - 3, 8}, {len(data), 10},
		} {
			t.Run(fmt.Sprintf("attrs=%v/%d+%d", attrs, tc.off, tc.count), func(t *testing.T) {
				p := bytes.Repeat([]byte{0xEE}, tc.count+8)
				n, eof, err := c.Read(ctx, Fh{1}, p[:tc.count], uint64(tc.off))
				if err != nil {
					t.Fatal(err)
				}
				want := data[min(tc.off, len(data)):min(tc.off+tc.count, len(data))]
				if n != len(want) || !bytes.Equal(p[:n], want) {
					t.Fatalf("read %d bytes, want %d, or wrong ones", n, len(want))
				}
				if eof != (tc.off+tc.count >= len(data)) {
					t.Errorf("eof %v", eof)
				}
				if !bytes.Equal(p[n:], bytes.Repeat([]byte{0xEE}, len(p)-n)) {
					t.Errorf("bytes beyond the data written: %x", p[n:])
				}
			})
		}
	}
}

// TestReadBadReplies checks READ replies that Read must not trust: more
// data than asked (with and without attributes, so that the sink and the
// copying path both see it), and an error status.
func TestReadBadReplies(t *testing.T) {
	f, c := startFake(t)
	ctx := context.Background()
	f.mu.Lock()
	f.unstable = pattern(10000)
	f.mu.Unlock()
	for _, attrs := range []bool{false, true} {
		f.mu.Lock()
		f.readAttrs, f.readExtra, f.readStatus = attrs, 100, x.NFS3_OK
		f.mu.Unlock()
		p := make([]byte, 1000)
		if _, _, err := c.Read(ctx, Fh{1}, p, 0); !errors.Is(err, sunrpc.ErrBadReply) {
			t.Errorf("attrs=%v: %d extra bytes: got %v, want ErrBadReply", attrs, 100, err)
		}
		f.mu.Lock()
		f.readExtra, f.readStatus = 0, x.NFS3ERR_IO
		f.mu.Unlock()
		var e *Error
		if _, _, err := c.Read(ctx, Fh{1}, p, 0); !errors.As(err, &e) || e.Status != x.NFS3ERR_IO {
			t.Errorf("attrs=%v: error status: got %v, want NFS3ERR_IO", attrs, err)
		}
	}
	// The connection still serves.
	f.mu.Lock()
	f.readStatus = x.NFS3_OK
	f.mu.Unlock()
	p := make([]byte, 10)
	if n, _, err := c.Read(ctx, Fh{1}, p, 0); err != nil || n != 10 || !bytes.Equal(p, pattern(10)) {
		t.Fatalf("after bad replies: %d, %v", n, err)
	}
}

// TestLocateRead3 checks where locateRead3 finds the data, and that it
// declines every truncation and error status rather than guess.
func TestLocateRead3(t *testing.T) {
	data := []byte("hello")
	for _, tc := range []struct {
		name    string
		res     x.READ3res
		wantOff int
		wantOK  bool
	}{
		{"no attributes", x.READ3res{Status: x.NFS3_OK, Resok: x.READ3resok{Count: 5, Data: data}}, 20, true},
		{"attributes", x.READ3res{Status: x.NFS3_OK, Resok: x.READ3resok{FileAttributes: x.PostOpAttr{AttributesFollow: true}, Count: 5, Data: data}}, 104, true},
		{"error", x.READ3res{Status: x.NFS3ERR_IO}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := xdr.Marshal(nil, &tc.res)
			off, n, ok := locateRead3(b)
			if ok != tc.wantOK || ok && (off != tc.wantOff || n != len(data) || !bytes.Equal(b[off:off+n], data)) {
				t.Fatalf("got %d, %d, %v; want %d, %d, %v", off, n, ok, tc.wantOff, len(data), tc.wantOK)
			}
			if !ok {
				return
			}
			for i := range off {
				if _, _, ok := locateRead3(b[:i]); ok {
					t.Errorf("found data in the first %d bytes only", i)
				}
			}
		})
	}
}
