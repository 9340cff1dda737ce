package nfs4

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
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

// TestReadWriteSizes writes a file with WRITEs whose data goes out as the
// call's Tail and reads it back with READs whose data comes in through a
// Sink, at sizes around the XDR padding and up to MaxRead, and checks the
// file on the server and that no byte lands outside p[:n].
func TestReadWriteSizes(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts, 1)
	ctx := context.Background()
	o, _, err := c.OpenFile(ctx, "f", AccessBoth, Exclusive, 0o644, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close(ctx)
	data := pattern(int(c.MaxWrite())*2 + 5)
	for off := 0; off < len(data); {
		end := min(off+int(c.MaxWrite()), len(data))
		n, _, _, err := o.WriteAt(ctx, data[off:end], uint64(off), x.FILE_SYNC4)
		if err != nil || n != end-off {
			t.Fatalf("write at %d: %d, %v", off, n, err)
		}
		off = end
	}
	if got, _ := os.ReadFile(filepath.Join(ts.dir, "f")); !bytes.Equal(got, data) {
		t.Fatalf("the server holds %d other bytes", len(got))
	}
	for _, tc := range []struct{ off, count int }{
		{0, 0}, {0, 1}, {1, 3}, {5, 4}, {7, 5}, {100, 4096}, {3, int(c.MaxRead())}, {len(data) - 3, 8}, {len(data), 10},
	} {
		t.Run(fmt.Sprintf("%d+%d", tc.off, tc.count), func(t *testing.T) {
			p := bytes.Repeat([]byte{0xEE}, tc.count+8)
			n, eof, err := o.ReadAt(ctx, p[:tc.count], uint64(tc.off))
			if err != nil {
				t.Fatal(err)
			}
			want := data[min(tc.off, len(data)):min(tc.off+tc.count, len(data))]
			if n != len(want) || !bytes.Equal(p[:n], want) {
				t.Fatalf("read %d bytes, want %d, or wrong ones", n, len(want))
			}
			if tc.count > 0 && eof != (tc.off+tc.count >= len(data)) {
				t.Errorf("eof %v", eof)
			}
			if !bytes.Equal(p[n:], bytes.Repeat([]byte{0xEE}, len(p)-n)) {
				t.Errorf("bytes beyond the data written: %x", p[n:])
			}
		})
	}
}

// TestLocateRead4 checks where locateRead4 finds the data of the READ in
// a COMPOUND reply, and that it declines every truncation, failure and
// other shape of reply rather than guess.
func TestLocateRead4(t *testing.T) {
	data := []byte("hello")
	seq := x.NfsResop4{Resop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4res{SrStatus: x.NFS4_OK, SrResok4: x.SEQUENCE4resok{SrSequenceid: 9}}}
	putfh := x.NfsResop4{Resop: x.OP_PUTFH, Opputfh: &x.PUTFH4res{Status: x.NFS4_OK}}
	read := x.NfsResop4{Resop: x.OP_READ, Opread: &x.READ4res{Status: x.NFS4_OK, Resok4: x.READ4resok{Eof: true, Data: data}}}
	getfh := x.NfsResop4{Resop: x.OP_GETFH, Opgetfh: &x.GETFH4res{Status: x.NFS4_OK, Resok4: x.GETFH4resok{Object: x.NfsFh4("fh")}}}
	for _, tc := range []struct {
		name   string
		res    x.COMPOUND4res
		wantOK bool
	}{
		{"sequence, putfh, read", x.COMPOUND4res{Status: x.NFS4_OK, Resarray: []x.NfsResop4{seq, putfh, read}}, true},
		{"with a tag", x.COMPOUND4res{Status: x.NFS4_OK, Tag: x.Utf8strCs("tag"), Resarray: []x.NfsResop4{seq, putfh, read}}, true},
		{"read alone", x.COMPOUND4res{Status: x.NFS4_OK, Resarray: []x.NfsResop4{read}}, true},
		{"failed", x.COMPOUND4res{Status: x.NFS4ERR_IO, Resarray: []x.NfsResop4{seq, putfh,
			{Resop: x.OP_READ, Opread: &x.READ4res{Status: x.NFS4ERR_IO}}}}, false},
		{"no read", x.COMPOUND4res{Status: x.NFS4_OK, Resarray: []x.NfsResop4{seq, putfh}}, false},
		{"another op first", x.COMPOUND4res{Status: x.NFS4_OK, Resarray: []x.NfsResop4{seq, getfh, read}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := xdr.Marshal(nil, &tc.res)
			off, n, ok := locateRead4(b)
			if ok != tc.wantOK {
				t.Fatalf("ok %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if n != len(data) || off+n > len(b) || !bytes.Equal(b[off:off+n], data) || int(b[off-1]) != len(data) {
				t.Fatalf("found %d bytes at %d", n, off)
			}
			for i := range off {
				if _, _, ok := locateRead4(b[:i]); ok {
					t.Errorf("found data in the first %d bytes only", i)
				}
			}
		})
	}
}
