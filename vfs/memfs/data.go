package memfs

import (
	"context"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

// regular resolves h for a data operation: directories are EISDIR and other
// non-regular files EINVAL, as read(2) and write(2) on them would be for an
// NFS server (symlinks are never followed).
func regular(n *inode) error {
	switch n.typ {
	case vfs.TypeRegular:
		return nil
	case vfs.TypeDirectory:
		return syscall.EISDIR
	}
	return syscall.EINVAL
}

// Read reads from a regular file. Holes read as zeros.
func (fs *FS) Read(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, p []byte) (int, bool, error) {
	c = cred(c)
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return 0, false, err
	}
	if err := regular(n); err != nil {
		return 0, false, err
	}
	if err := checkIO(c, n, permR); err != nil {
		return 0, false, err
	}
	if off >= n.size {
		return 0, true, nil
	}
	want := min(uint64(len(p)), n.size-off)
	p = p[:want]
	for done := uint64(0); done < want; {
		pos := off + done
		bi, bo := pos/blockSize, pos%blockSize
		chunk := min(blockSize-bo, want-done)
		dst := p[done : done+chunk]
		b := n.blocks[bi]
		k := 0
		if bo < uint64(len(b)) {
			k = copy(dst, b[bo:])
		}
		clear(dst[k:])
		done += chunk
	}
	return int(want), off+want == n.size, nil
}

// growth returns how many bytes of blocks a write of length l at off would
// add to n.
func (n *inode) growth(off, l uint64) uint64 {
	var g uint64
	for pos, end := off, off+l; pos < end; {
		bi, bo := pos/blockSize, pos%blockSize
		chunk := min(blockSize-bo, end-pos)
		if have := uint64(len(n.blocks[bi])); bo+chunk > have {
			g += bo + chunk - have
		}
		pos += chunk
	}
	return g
}

// Write writes to a regular file. The data is in memory, which is as
// durable as memfs gets, so every write reports FileSync.
func (fs *FS) Write(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, data []byte, stable vfs.Stability) (int, vfs.Stability, error) {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.get(h)
	if err != nil {
		return 0, 0, err
	}
	if err := regular(n); err != nil {
		return 0, 0, err
	}
	if err := checkIO(c, n, permW); err != nil {
		return 0, 0, err
	}
	if len(data) == 0 {
		return 0, vfs.FileSync, nil
	}
	l := uint64(len(data))
	if off > maxFileSize || l > maxFileSize-off {
		return 0, 0, syscall.EFBIG
	}
	g := n.growth(off, l)
	if g > fs.capacity-min(fs.used, fs.capacity) {
		return 0, 0, syscall.ENOSPC
	}
	fs.used += g
	for done := uint64(0); done < l; {
		pos := off + done
		bi, bo := pos/blockSize, pos%blockSize
		chunk := min(blockSize-bo, l-done)
		b := n.blocks[bi]
		if need := int(bo + chunk); need > len(b) {
			if need > cap(b) {
				nb := make([]byte, need, min(max(need, 2*cap(b)), blockSize))
				copy(nb, b)
				b = nb
			} else {
				b = b[:need] // bytes beyond len were zeroed by truncate
			}
			n.blocks[bi] = b
		}
		copy(b[bo:], data[done:done+chunk])
		done += chunk
	}
	n.size = max(n.size, off+l)
	// Writing by a non-root caller drops setuid, and setgid when group
	// execute makes it meaningful, as Linux does (file_remove_privs).
	if c.UID != 0 {
		n.mode &^= killSUID(n.mode)
	}
	fs.touchMtime(n)
	return len(data), vfs.FileSync, nil
}

func killSUID(mode uint32) uint32 {
	k := uint32(0o4000)
	if mode&0o010 != 0 {
		k |= 0o2000
	}
	return k
}

// truncate sets n's size, dropping the blocks past the end and zeroing the
// tail of the last one so that growing again exposes zeros.
func (fs *FS) truncate(n *inode, size uint64) {
	if size < n.size {
		for bi, b := range n.blocks {
			start := bi * blockSize
			switch {
			case start >= size:
				fs.used -= uint64(len(b))
				delete(n.blocks, bi)
			case start+uint64(len(b)) > size:
				keep := size - start
				clear(b[keep:])
				fs.used -= uint64(len(b)) - keep
				n.blocks[bi] = b[:keep]
			}
		}
	}
	n.size = size
}
