package memfs

import (
	"context"
	"slices"
	"strings"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

// The optional interfaces of vfs/ext.go. Holes are the ranges no block
// holds (a block's bytes run from its start to len of its slice), so Seek
// reports exactly what writes, Allocate and Deallocate left. Clone is a
// copy: memory has no shared extents.

var (
	_ vfs.Seeker      = (*FS)(nil)
	_ vfs.Allocator   = (*FS)(nil)
	_ vfs.RangeCopier = (*FS)(nil)
	_ vfs.Cloner      = (*FS)(nil)
	_ vfs.Xattrer     = (*FS)(nil)
)

// maxXattrBytes bounds the names and values one file holds, as a disk
// filesystem's xattr block would (ext4 has one 4 KiB block; we are more
// generous). Beyond it SetXattr fails with ENOSPC.
const maxXattrBytes = 1 << 20

// copyChunk is how much CopyRange moves per step; ctx is checked between
// steps.
const copyChunk = 1 << 20

// extent is a range [start, end) of a file that blocks hold.
type extent struct{ start, end uint64 }

// extents returns n's data ranges below its size, sorted; callers hold
// fs.mu.
func (n *inode) extents() []extent {
	var out []extent
	for bi, b := range n.blocks {
		start := bi * blockSize
		end := min(start+uint64(len(b)), n.size)
		if end > start {
			out = append(out, extent{start, end})
		}
	}
	slices.SortFunc(out, func(a, b extent) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	return out
}

// Seek implements vfs.Seeker.
func (fs *FS) Seek(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, whence vfs.SeekWhence) (uint64, error) {
	c = cred(c)
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return 0, err
	}
	if err := regular(n); err != nil {
		return 0, err
	}
	if err := check(c, n, permR); err != nil {
		return 0, err
	}
	if off >= n.size {
		return 0, syscall.ENXIO
	}
	ext := n.extents()
	switch whence {
	case vfs.SeekData:
		for _, e := range ext {
			if e.end > off {
				return max(e.start, off), nil
			}
		}
		return 0, syscall.ENXIO
	case vfs.SeekHole:
		pos := off
		for _, e := range ext {
			if e.start > pos {
				break
			}
			pos = max(pos, e.end)
		}
		return min(pos, n.size), nil
	}
	return 0, syscall.EINVAL
}

// writable resolves h for a change of its data by c; callers hold fs.mu
// exclusively.
func (fs *FS) writable(c *vfs.Cred, h vfs.Handle) (*inode, error) {
	n, err := fs.get(h)
	if err != nil {
		return nil, err
	}
	if err := regular(n); err != nil {
		return nil, err
	}
	if err := check(c, n, permW); err != nil {
		return nil, err
	}
	return n, nil
}

// checkRange refuses an empty range and one past the largest file.
func checkRange(off, length uint64) error {
	if length == 0 {
		return syscall.EINVAL
	}
	if off > maxFileSize || length > maxFileSize-off {
		return syscall.EFBIG
	}
	return nil
}

// Allocate implements vfs.Allocator: the blocks of the range are filled
// out with zeros, counted against the capacity.
func (fs *FS) Allocate(ctx context.Context, c *vfs.Cred, h vfs.Handle, off, length uint64) error {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.writable(c, h)
	if err != nil {
		return err
	}
	if err := checkRange(off, length); err != nil {
		return err
	}
	g := n.growth(off, length)
	if g > fs.capacity-min(fs.used, fs.capacity) {
		return syscall.ENOSPC
	}
	fs.used += g
	for pos, end := off, off+length; pos < end; {
		bi, bo := pos/blockSize, pos%blockSize
		chunk := min(blockSize-bo, end-pos)
		b := n.blocks[bi]
		if need := int(bo + chunk); need > len(b) {
			if need <= cap(b) {
				b = b[:need] // bytes beyond len are kept zeroed
			} else {
				nb := make([]byte, need)
				copy(nb, b)
				b = nb
			}
			n.blocks[bi] = b
		}
		pos += chunk
	}
	if off+length > n.size {
		n.size = off + length
		fs.touchMtime(n)
	} else {
		fs.touchCtime(n) // space used changed
	}
	return nil
}

// Deallocate implements vfs.Allocator. A block wholly inside the range is
// dropped; one the range ends is cut short (its tail zeroed, so that it
// reads as zeros if it grows again); a range inside a block is zeroed in
// place, as a filesystem that cannot punch below its block size does.
func (fs *FS) Deallocate(ctx context.Context, c *vfs.Cred, h vfs.Handle, off, length uint64) error {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.writable(c, h)
	if err != nil {
		return err
	}
	if err := checkRange(off, length); err != nil {
		return err
	}
	end := off + length
	for bi, b := range n.blocks {
		start := bi * blockSize
		bend := start + uint64(len(b))
		lo, hi := max(start, off), min(bend, end)
		if lo >= hi {
			continue
		}
		switch {
		case lo == start && hi == bend:
			fs.used -= uint64(len(b))
			delete(n.blocks, bi)
		case hi == bend:
			keep := lo - start
			clear(b[keep:])
			fs.used -= uint64(len(b)) - keep
			n.blocks[bi] = b[:keep]
		default:
			clear(b[lo-start : hi-start])
		}
	}
	fs.touchMtime(n)
	return nil
}

// copyPlan checks a CopyRange or Clone and returns the length to copy:
// length, or what src holds from srcOff when length is 0. strict refuses
// a range past the end of src (Clone), where a copy stops short.
func (fs *FS) copyPlan(c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64, strict bool) (uint64, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	s, err := fs.get(src)
	if err != nil {
		return 0, err
	}
	d, err := fs.get(dst)
	if err != nil {
		return 0, err
	}
	if err := regular(s); err != nil {
		return 0, err
	}
	if err := regular(d); err != nil {
		return 0, err
	}
	if err := check(c, s, permR); err != nil {
		return 0, err
	}
	if err := check(c, d, permW); err != nil {
		return 0, err
	}
	switch {
	case srcOff >= s.size && strict && !(srcOff == s.size && length == 0):
		return 0, syscall.EINVAL
	case srcOff >= s.size:
		return 0, nil
	}
	avail := s.size - srcOff
	switch {
	case length == 0:
		length = avail
	case length > avail && strict:
		return 0, syscall.EINVAL
	case length > avail:
		length = avail
	}
	if dstOff > maxFileSize || length > maxFileSize-dstOff {
		return 0, syscall.EFBIG
	}
	if s == d && srcOff < dstOff+length && dstOff < srcOff+length {
		return 0, syscall.EINVAL
	}
	return length, nil
}

// copyData moves length bytes through Read and Write, a chunk at a time.
func (fs *FS) copyData(ctx context.Context, c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64) (uint64, error) {
	buf := make([]byte, min(length, copyChunk))
	var done uint64
	for done < length {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		k := min(uint64(len(buf)), length-done)
		n, _, err := fs.Read(ctx, c, src, srcOff+done, buf[:k])
		if err != nil {
			return done, err
		}
		if n == 0 {
			break // src shrank meanwhile
		}
		m, _, err := fs.Write(ctx, c, dst, dstOff+done, buf[:n], vfs.Unstable)
		done += uint64(m)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// CopyRange implements vfs.RangeCopier.
func (fs *FS) CopyRange(ctx context.Context, c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64) (uint64, error) {
	c = cred(c)
	length, err := fs.copyPlan(c, src, srcOff, dst, dstOff, length, false)
	if err != nil || length == 0 {
		return 0, err
	}
	return fs.copyData(ctx, c, src, srcOff, dst, dstOff, length)
}

// Clone implements vfs.Cloner by copying. It is not atomic with respect to
// concurrent writers of either file.
func (fs *FS) Clone(ctx context.Context, c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64) error {
	c = cred(c)
	length, err := fs.copyPlan(c, src, srcOff, dst, dstOff, length, true)
	if err != nil || length == 0 {
		return err
	}
	_, err = fs.copyData(context.WithoutCancel(ctx), c, src, srcOff, dst, dstOff, length)
	return err
}

// checkXattrName checks a name without its "user." prefix.
func checkXattrName(name string) error {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return syscall.EINVAL
	}
	if len(name) > vfs.MaxXattrName {
		return syscall.ENAMETOOLONG
	}
	return nil
}

// carriesXattrs reports whether n may have user attributes (Linux allows
// them on regular files and directories only).
func carriesXattrs(n *inode) bool {
	return n.typ == vfs.TypeRegular || n.typ == vfs.TypeDirectory
}

// GetXattr implements vfs.Xattrer.
func (fs *FS) GetXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string) ([]byte, error) {
	c = cred(c)
	if err := checkXattrName(name); err != nil {
		return nil, err
	}
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return nil, err
	}
	if !carriesXattrs(n) {
		return nil, vfs.ErrNoXattr
	}
	if err := check(c, n, permR); err != nil {
		return nil, err
	}
	v, ok := n.xattrs[name]
	if !ok {
		return nil, vfs.ErrNoXattr
	}
	return slices.Clone(v), nil
}

// xattrChangeable resolves h for a change of its attributes by c; callers
// hold fs.mu exclusively.
func (fs *FS) xattrChangeable(c *vfs.Cred, h vfs.Handle) (*inode, error) {
	n, err := fs.get(h)
	if err != nil {
		return nil, err
	}
	if !carriesXattrs(n) {
		return nil, syscall.EPERM
	}
	if n.typ == vfs.TypeDirectory && n.mode&0o1000 != 0 && !isOwner(c, n) {
		return nil, syscall.EPERM
	}
	if err := check(c, n, permW); err != nil {
		return nil, err
	}
	return n, nil
}

// xattrBytes is what n's attributes take against maxXattrBytes.
func (n *inode) xattrBytes() int {
	t := 0
	for k, v := range n.xattrs {
		t += len(k) + len(v)
	}
	return t
}

// SetXattr implements vfs.Xattrer.
func (fs *FS) SetXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string, value []byte, flags vfs.XattrFlags) error {
	c = cred(c)
	if err := checkXattrName(name); err != nil {
		return err
	}
	if len(value) > vfs.MaxXattrValue {
		return syscall.E2BIG
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.xattrChangeable(c, h)
	if err != nil {
		return err
	}
	old, exists := n.xattrs[name]
	switch {
	case exists && flags&vfs.XattrCreateOnly != 0:
		return syscall.EEXIST
	case !exists && flags&vfs.XattrReplaceOnly != 0:
		return vfs.ErrNoXattr
	}
	total := n.xattrBytes() + len(name) + len(value)
	if exists {
		total -= len(name) + len(old)
	}
	if total > maxXattrBytes {
		return syscall.ENOSPC
	}
	if n.xattrs == nil {
		n.xattrs = map[string][]byte{}
	}
	n.xattrs[name] = slices.Clone(value)
	fs.touchCtime(n)
	return nil
}

// ListXattrs implements vfs.Xattrer.
func (fs *FS) ListXattrs(ctx context.Context, c *vfs.Cred, h vfs.Handle) ([]string, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(n.xattrs))
	for k := range n.xattrs {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// RemoveXattr implements vfs.Xattrer.
func (fs *FS) RemoveXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string) error {
	c = cred(c)
	if err := checkXattrName(name); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.xattrChangeable(c, h)
	if err != nil {
		return err
	}
	if _, ok := n.xattrs[name]; !ok {
		return vfs.ErrNoXattr
	}
	delete(n.xattrs, name)
	fs.touchCtime(n)
	return nil
}
