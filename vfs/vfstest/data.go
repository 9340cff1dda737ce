package vfstest

import (
	"bytes"
	"math/rand/v2"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var dataTests = []test{
	{"ReadWrite", testReadWrite},
	{"ReadEOF", testReadEOF},
	{"WriteOverlap", testWriteOverlap},
	{"WriteLarge", testWriteLarge},
	{"SparseWrite", testSparseWrite},
	{"SparseFarOffset", testSparseFarOffset},
	{"Truncate", testTruncate},
	{"WriteStability", testWriteStability},
	{"ReadWriteNonRegular", testReadWriteNonRegular},
}

func testReadWrite(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("hello"))
	e.write(h, 5, []byte(", world"))
	e.wantContent(h, []byte("hello, world"))
	if a := e.attr(h); a.Size != 12 {
		e.t.Errorf("Size = %d, want 12", a.Size)
	}
	got, _ := e.read(h, 7, 3)
	if string(got) != "wor" {
		e.t.Errorf("Read at 7 = %q, want \"wor\"", got)
	}
	// An empty write succeeds and changes nothing.
	n, _, err := e.fs.Write(e.ctx, root(), h, 100, nil, vfs.Unstable)
	if err != nil || n != 0 {
		e.t.Errorf("empty Write = %d, %v", n, err)
	}
	if a := e.attr(h); a.Size != 12 {
		e.t.Errorf("Size after empty write = %d, want 12", a.Size)
	}
}

func testReadEOF(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("0123456789"))
	cases := []struct {
		off     uint64
		n       int
		want    string
		wantEOF bool
	}{
		{0, 5, "01234", false},
		{0, 10, "0123456789", true},
		{0, 20, "0123456789", true},
		{5, 5, "56789", true},
		{9, 1, "9", true},
		{10, 5, "", true},
		{1000, 5, "", true},
		{3, 0, "", false},
	}
	for _, c := range cases {
		buf := make([]byte, c.n)
		n, eof, err := e.fs.Read(e.ctx, root(), h, c.off, buf)
		if err != nil {
			e.t.Fatalf("Read(%d, %d): %v", c.off, c.n, err)
		}
		// A backend may return short reads before EOF; only a read that
		// returns everything asked for up to the end must say eof.
		if string(buf[:n]) != c.want[:min(n, len(c.want))] {
			e.t.Errorf("Read(%d, %d) = %q, want prefix of %q", c.off, c.n, buf[:n], c.want)
		}
		if n == len(c.want) && c.n > 0 && eof != c.wantEOF {
			e.t.Errorf("Read(%d, %d) eof = %v, want %v", c.off, c.n, eof, c.wantEOF)
		}
		if eof && c.off+uint64(n) != 10 && c.off < 10 {
			e.t.Errorf("Read(%d, %d) = %d bytes with eof before the end", c.off, c.n, n)
		}
	}
}

func testWriteOverlap(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("abcdef"))
	e.write(h, 2, []byte("XY"))
	e.wantContent(h, []byte("abXYef"))
	e.write(h, 4, []byte("1234"))
	e.wantContent(h, []byte("abXY1234"))
	// Across a 64 KiB boundary, where chunked stores split data.
	const b = 64 << 10
	data := bytes.Repeat([]byte("z"), 100)
	e.write(h, b-50, data)
	got, _ := e.read(h, b-50, 100)
	if !bytes.Equal(got, data) {
		e.t.Errorf("write across 64 KiB boundary read back as %q", trim(got))
	}
	gap, _ := e.read(h, 8, b-58)
	if !bytes.Equal(gap, make([]byte, b-58)) {
		e.t.Errorf("gap before a write past EOF does not read as zeros")
	}
}

func testWriteLarge(e *env) {
	h := e.create(e.root, "f")
	data := make([]byte, 1<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	e.write(h, 0, data)
	e.wantContent(h, data)
	// Unaligned overwrite in the middle.
	patch := []byte("PATCH")
	e.write(h, 200000, patch)
	copy(data[200000:], patch)
	e.wantContent(h, data)
}

func testSparseWrite(e *env) {
	h := e.create(e.root, "f")
	const off = 1 << 20
	e.write(h, off, []byte("x"))
	a := e.attr(h)
	if a.Size != off+1 {
		e.t.Fatalf("Size = %d, want %d", a.Size, off+1)
	}
	got, eof := e.read(h, 0, off+1)
	if !eof || len(got) != off+1 || !bytes.Equal(got[:off], make([]byte, off)) || got[off] != 'x' {
		e.t.Fatalf("sparse file does not read as zeros then \"x\" (eof=%v len=%d)", eof, len(got))
	}
	if e.opts.SparseUsed && a.Used >= a.Size {
		e.t.Errorf("Used = %d for a 1 MiB hole and one byte, want < Size %d", a.Used, a.Size)
	}
	if a.Used > a.Size+1<<20 {
		e.t.Errorf("Used = %d, implausibly above Size %d", a.Used, a.Size)
	}
}

// testSparseFarOffset writes one byte at 1 TiB: a backend must not
// allocate the hole.
func testSparseFarOffset(e *env) {
	const off = 1 << 40
	if e.info().MaxFileSize <= off {
		e.t.Skipf("MaxFileSize %d is below 1 TiB", e.info().MaxFileSize)
	}
	h := e.create(e.root, "f")
	e.write(h, off, []byte("end"))
	a := e.attr(h)
	if a.Size != off+3 {
		e.t.Fatalf("Size = %d, want %d", a.Size, uint64(off+3))
	}
	got, eof := e.read(h, off-4096, 4096+10)
	want := append(make([]byte, 4096), "end"...)
	if !eof || !bytes.Equal(got, want) {
		e.t.Errorf("read around 1 TiB = %q (eof %v)", got[4090:], eof)
	}
	if e.opts.SparseUsed && a.Used >= a.Size {
		e.t.Errorf("Used = %d, want < Size", a.Used)
	}
	// Give the space back quickly.
	e.setattr(h, vfs.SetAttr{Size: u64(0)})
}

func testTruncate(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("0123456789abcdef"))
	before := e.attr(h)
	e.age(h)
	a := e.setattr(h, vfs.SetAttr{Size: u64(4)})
	if a.Size != 4 {
		e.t.Errorf("SetAttr Size 4 returned size %d", a.Size)
	}
	if !a.Mtime.After(old) {
		e.t.Errorf("truncation did not update mtime")
	}
	e.changed(h, before.Change, "truncate down")
	e.wantContent(h, []byte("0123"))
	// Growing again must expose zeros, not the old bytes.
	e.setattr(h, vfs.SetAttr{Size: u64(10)})
	e.wantContent(h, append([]byte("0123"), make([]byte, 6)...))
	// Truncate within a chunk then write past the end.
	e.setattr(h, vfs.SetAttr{Size: u64(2)})
	e.write(h, 8, []byte("Z"))
	e.wantContent(h, append(append([]byte("01"), make([]byte, 6)...), 'Z'))
	e.setattr(h, vfs.SetAttr{Size: u64(0)})
	e.wantContent(h, nil)
	e.setattr(h, vfs.SetAttr{Size: u64(3 << 20)})
	if got, _ := e.read(h, 3<<20-5, 5); !bytes.Equal(got, make([]byte, 5)) {
		e.t.Errorf("extended file tail = %q, want zeros", got)
	}
	d := e.mkdir(e.root, "d")
	_, err := e.fs.SetAttr(e.ctx, root(), d, vfs.SetAttr{Size: u64(0)})
	wantErr(e.t, err, syscall.EISDIR, "SetAttr Size on a directory")
}

func testWriteStability(e *env) {
	h := e.create(e.root, "f")
	for _, s := range []vfs.Stability{vfs.Unstable, vfs.DataSync, vfs.FileSync} {
		n, got, err := e.fs.Write(e.ctx, root(), h, uint64(s)*4, []byte("abcd"), s)
		if err != nil || n != 4 {
			e.t.Fatalf("Write stable=%d: n=%d err=%v", s, n, err)
		}
		if got < s {
			e.t.Errorf("Write asked stability %d, got %d", s, got)
		}
	}
	if err := e.fs.Commit(e.ctx, h); err != nil {
		e.t.Errorf("Commit: %v", err)
	}
	e.wantContent(h, []byte("abcdabcdabcd"))
}

func testReadWriteNonRegular(e *env) {
	d := e.mkdir(e.root, "d")
	_, _, err := e.fs.Read(e.ctx, root(), d, 0, make([]byte, 10))
	wantErr(e.t, err, syscall.EISDIR, "Read of a directory")
	_, _, err = e.fs.Write(e.ctx, root(), d, 0, []byte("x"), vfs.FileSync)
	wantErr(e.t, err, syscall.EISDIR, "Write to a directory")
	// A symlink is never followed: reading or writing it fails and the
	// target is untouched.
	t := e.create(e.root, "target")
	e.write(t, 0, []byte("safe"))
	ln := e.symlink(e.root, "ln", "target")
	if _, _, err := e.fs.Read(e.ctx, root(), ln, 0, make([]byte, 10)); err == nil {
		e.t.Errorf("Read of a symlink succeeded")
	}
	if _, _, err := e.fs.Write(e.ctx, root(), ln, 0, []byte("EVIL"), vfs.FileSync); err == nil {
		e.t.Errorf("Write to a symlink succeeded")
	}
	e.wantContent(t, []byte("safe"))
}
