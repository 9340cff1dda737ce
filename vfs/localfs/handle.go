package localfs

import (
	"encoding/binary"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// Handle layouts. The first byte says which kind, so a handle of one kind
// given to an FS of the other is stale rather than misread.
//
//	kernel: 0x01, handle type (1 byte), kernel handle bytes (≤ 38)
//	index:  0x02, inode (8 bytes, big endian), tag (8 bytes)
const (
	kindKernel = 0x01
	kindIndex  = 0x02

	indexHandleLen = 17
	maxKernelBytes = vfs.MaxHandle - 2

	// maxDepth bounds parent-chain walks (".." and index chains): deeper
	// than any path PATH_MAX allows, so reaching it means a loop.
	maxDepth = 4096
)

func indexHandle(ino, tag uint64) vfs.Handle {
	h := make(vfs.Handle, indexHandleLen)
	h[0] = kindIndex
	binary.BigEndian.PutUint64(h[1:], ino)
	binary.BigEndian.PutUint64(h[9:], tag)
	return h
}

func parseIndex(h vfs.Handle) (ino, tag uint64, ok bool) {
	if len(h) != indexHandleLen || h[0] != kindIndex {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(h[1:]), binary.BigEndian.Uint64(h[9:]), true
}

func parseKernel(h vfs.Handle) (unix.FileHandle, bool) {
	if len(h) < 3 || len(h) > vfs.MaxHandle || h[0] != kindKernel {
		return unix.FileHandle{}, false
	}
	return unix.NewFileHandle(int32(h[1]), h[2:]), true
}

// kernelHandle encodes fd's kernel file handle.
func (fs *FS) kernelHandle(fd int) (vfs.Handle, error) {
	fs.handleCalls.Add(1)
	h, _, err := nameToHandle(fd, "", unix.AT_EMPTY_PATH)
	return h, err
}

// kernelHandleAt encodes the kernel file handle of name in directory
// dirfd, without following a symlink or opening the file, and reports the
// mount ID the kernel found it on. For the same file it gives the same
// bytes as kernelHandle of a descriptor opened by that name: both encode
// the file alone, not its parent (no AT_HANDLE_CONNECTABLE).
func (fs *FS) kernelHandleAt(dirfd int, name string) (vfs.Handle, uint64, error) {
	fs.handleCalls.Add(1)
	return nameToHandle(dirfd, name, 0)
}

// nameToHandle is name_to_handle_at(2) into a buffer of the largest size
// we issue, so a larger handle is EOVERFLOW. unix.NameToHandleAt would
// allocate twice per call; listings call this once per entry.
func nameToHandle(dirfd int, name string, flags int) (vfs.Handle, uint64, error) {
	var fh struct {
		size uint32
		typ  int32
		b    [maxKernelBytes]byte
	}
	fh.size = maxKernelBytes
	var buf [256]byte
	p, err := cString(name, &buf)
	if err != nil {
		return nil, 0, err
	}
	var mnt int32
	_, _, e := unix.Syscall6(unix.SYS_NAME_TO_HANDLE_AT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&fh)), uintptr(unsafe.Pointer(&mnt)), uintptr(flags), 0)
	if e != 0 {
		// EOVERFLOW: New checked the root's handle; a filesystem whose
		// handles vary in size this much is not one we can serve in
		// kernel mode.
		return nil, 0, e
	}
	if fh.typ < 0 || fh.typ > 0xfe || fh.size == 0 || fh.size > maxKernelBytes {
		return nil, 0, unix.EOVERFLOW
	}
	h := make(vfs.Handle, 0, 2+fh.size)
	h = append(h, kindKernel, byte(fh.typ))
	return append(h, fh.b[:fh.size]...), uint64(uint32(mnt)), nil
}

// handleIno returns the inode number that a kernel handle issued here
// encodes, on the filesystems whose handle layouts we know (fs.handleFS is
// their statfs magic, set by New only when the root's handle decodes to
// the root's inode). All are the inode number first, in host byte order,
// but tmpfs, which puts the generation first:
//
//	ext2/3/4 (generic_encode_ino32_fh), xfs:  types 1, 2: u32 inode, u32 generation
//	xfs with 64-bit inode numbers:           types 0x81, 0x82: u64 inode, u32 generation
//	btrfs:                                   types 0x4d-0x4f: u64 objectid (the inode), ...
//	tmpfs (shmem_encode_fh):                 type 1, 12 bytes: u32 generation, u32 inode low, u32 inode high
//
// ok is false for any other filesystem or handle.
func (fs *FS) handleIno(h vfs.Handle) (ino uint64, ok bool) {
	if len(h) < 2 || h[0] != kindKernel {
		return 0, false
	}
	typ, b := h[1], h[2:]
	u32 := func(i int) uint64 { return uint64(binary.NativeEndian.Uint32(b[i:])) }
	switch fs.handleFS {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC:
		switch {
		case (typ == 1 || typ == 2) && len(b) >= 8:
			return u32(0), true
		case fs.handleFS == unix.XFS_SUPER_MAGIC && (typ == 0x81 || typ == 0x82) && len(b) >= 12:
			return binary.NativeEndian.Uint64(b), true
		}
	case unix.BTRFS_SUPER_MAGIC:
		if typ >= 0x4d && typ <= 0x4f && len(b) >= 8 {
			return binary.NativeEndian.Uint64(b), true
		}
	case unix.TMPFS_MAGIC:
		if typ == 1 && len(b) == 12 {
			return u32(4) | u32(8)<<32, true
		}
	}
	return 0, false
}

// keyOf is the cache key of a handle: the whole kernel handle, or the
// inode number of an index handle (the tag is checked after the lookup).
func (fs *FS) keyOf(h vfs.Handle) string {
	if fs.kernel {
		return string(h)
	}
	return string(h[1:9])
}

// resolve returns the node of h with a reference the caller releases with
// fs.cache.release. Unknown, malformed and outside handles are ESTALE.
func (fs *FS) resolve(h vfs.Handle) (*node, error) {
	if string(h) == string(fs.rootHandle) {
		fs.cache.mu.Lock()
		fs.root.refs++
		fs.cache.mu.Unlock()
		return fs.root, nil
	}
	if fs.kernel {
		return fs.resolveKernel(h)
	}
	return fs.resolveIndex(h)
}

func (fs *FS) resolveKernel(h vfs.Handle) (*node, error) {
	fh, ok := parseKernel(h)
	if !ok {
		return nil, unix.ESTALE
	}
	key := string(h)
	if n := fs.cache.get(key); n != nil {
		return n, nil
	}
	fd, err := unix.OpenByHandleAt(fs.rootFD, fh, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		switch err {
		case unix.ENOENT, unix.ESTALE, unix.EINVAL, unix.EOPNOTSUPP, unix.ENOTDIR:
			fs.dropStaleHandle(h)
			return nil, unix.ESTALE
		}
		return nil, err
	}
	var stx unix.Statx_t
	if err := statx(fd, &stx); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// The kernel ignores bytes past what its decoder needs, so several
	// byte strings open the same file; only the one we issue is valid
	// (handles must compare equal exactly when they name the same file).
	// The handle cached for the file's identity is the one we issued.
	if !fs.isKnownHandle(&stx, h) {
		canon, err := fs.kernelHandle(fd)
		if err != nil || string(canon) != key {
			unix.Close(fd)
			return nil, unix.ESTALE
		}
	}
	n, err := fs.newNodeStat(fd, &stx, h)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	// A handle issued by a listing was found by name from a verified
	// directory, exactly as a cached node was: the same trust.
	if !fs.seen.has(key) && !fs.verifyKernel(n) {
		n.closeFDs()
		return nil, unix.ESTALE
	}
	// A client holding handles (after a restart, say) teaches the cache
	// what a listing would otherwise ask the kernel again.
	fs.rememberHandle(n.ino, n.tag, h)
	return fs.cache.add(n), nil
}

// newNode stats fd and wraps it in a node for handle h (nil: make the
// handle). Files of other devices or mounts and unlinked files are stale.
func (fs *FS) newNode(fd int, h vfs.Handle) (*node, error) {
	var stx unix.Statx_t
	if err := statx(fd, &stx); err != nil {
		return nil, err
	}
	return fs.newNodeStat(fd, &stx, h)
}

// newNodeStat is newNode for a descriptor already statted into stx.
func (fs *FS) newNodeStat(fd int, stx *unix.Statx_t, h vfs.Handle) (*node, error) {
	if !fs.inside(stx) || stx.Nlink == 0 {
		return nil, unix.ESTALE
	}
	n := &node{fd: fd, ioFD: -1, ino: stx.Ino, tag: tagOf(stx), typ: typeOf(stx.Mode)}
	if h == nil {
		if fs.kernel {
			// fd pins the file stx describes: a handle cached for its
			// identity is its handle (see handleCache).
			if h = fs.knownHandle(stx); h == nil {
				var err error
				if h, err = fs.kernelHandle(fd); err != nil {
					return nil, err
				}
				fs.rememberHandle(n.ino, n.tag, h)
			}
		} else {
			h = indexHandle(n.ino, n.tag)
		}
	}
	n.handle = h
	n.key = fs.keyOf(h)
	return n, nil
}

// verifyKernel checks that a node opened by kernel handle lies inside the
// export (see the package documentation for the rules and their limits).
func (fs *FS) verifyKernel(n *node) bool {
	if n.typ == vfs.TypeDirectory {
		return fs.dotdotReachesRoot(n.fd)
	}
	if fs.rootIsFSRoot {
		return true
	}
	if fs.procPathReaches(n) {
		return true
	}
	found, _ := fs.scan(n.ino)
	if found != nil {
		found.closeFDs()
		return true
	}
	return false
}

// dotdotReachesRoot walks ".." from directory fd until it meets the root
// (inside), the top of the tree or another device (outside), or maxDepth.
func (fs *FS) dotdotReachesRoot(fd int) bool {
	cur := fd
	defer func() {
		if cur != fd {
			unix.Close(cur)
		}
	}()
	var prevIno uint64
	for i := 0; i < maxDepth; i++ {
		var stx unix.Statx_t
		if statx(cur, &stx) != nil || devOf(&stx) != fs.rootDev {
			return false
		}
		if stx.Ino == fs.root.ino {
			return true
		}
		if i > 0 && stx.Ino == prevIno {
			return false // ".." of the filesystem's top is itself
		}
		prevIno = stx.Ino
		next, err := unix.Openat(cur, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return false
		}
		if cur != fd {
			unix.Close(cur)
		}
		cur = next
	}
	return false
}

// procPathReaches takes the path the kernel reports for n's descriptor
// as a hint: if it lies below the export, it walks it from the root
// without following symlinks or leaving the device, and accepts n if the
// walk ends at n's inode. The walk, not the hint, is the proof.
func (fs *FS) procPathReaches(n *node) bool {
	p, err := readlink(procPath(n.fd))
	if err != nil {
		return false
	}
	prefix := fs.dir + "/"
	if fs.dir == "/" {
		prefix = "/"
	}
	rel, ok := strings.CutPrefix(p, prefix)
	if !ok || rel == "" {
		return false
	}
	names := strings.Split(rel, "/")
	if len(names) > maxDepth {
		return false
	}
	cur := fs.root.fd
	defer func() {
		if cur != fs.root.fd {
			unix.Close(cur)
		}
	}()
	for _, name := range names {
		if name == "" || name == "." || name == ".." {
			return false
		}
		next, err := unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return false
		}
		if cur != fs.root.fd {
			unix.Close(cur)
		}
		cur = next
		var stx unix.Statx_t
		if statx(cur, &stx) != nil || !fs.inside(&stx) {
			return false
		}
	}
	var stx unix.Statx_t
	return statx(cur, &stx) == nil && stx.Ino == n.ino && fs.inside(&stx)
}

func readlink(path string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlink(path, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

func (fs *FS) resolveIndex(h vfs.Handle) (*node, error) {
	ino, tag, ok := parseIndex(h)
	if !ok {
		return nil, unix.ESTALE
	}
	n := fs.walkIno(ino, 0)
	if n == nil {
		var path []pathStep
		n, path = fs.scan(ino)
		if n == nil {
			return nil, unix.ESTALE
		}
		for _, s := range path {
			fs.idx.put(s.ino, s.parent, s.name)
		}
		n = fs.cache.add(n)
	}
	if n.tag != tag {
		fs.cache.release(n)
		return nil, unix.ESTALE
	}
	return n, nil
}

// walkIno resolves inode ino through the index's parent chain, checking
// the inode reached at every step. It returns nil when the chain is
// missing or broken.
func (fs *FS) walkIno(ino uint64, depth int) *node {
	if ino == fs.root.ino {
		n, _ := fs.resolve(fs.rootHandle)
		return n
	}
	if n := fs.cache.get(string(binary.BigEndian.AppendUint64(nil, ino))); n != nil {
		return n
	}
	if depth >= maxDepth {
		return nil
	}
	parent, name, ok := fs.idx.get(ino)
	if !ok {
		return nil
	}
	p := fs.walkIno(parent, depth+1)
	if p == nil {
		return nil
	}
	fd, err := unix.Openat(p.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	fs.cache.release(p)
	if err != nil {
		return nil
	}
	n, err := fs.newNode(fd, nil)
	if err != nil || n.ino != ino {
		unix.Close(fd)
		return nil
	}
	return fs.cache.add(n)
}

// pathStep is one link of the path a scan found: ino is name in parent.
type pathStep struct {
	ino, parent uint64
	name        string
}

// scan looks for inode ino below the root, depth first, visiting at most
// fs.rescanLimit entries and never leaving the device. It returns an
// uncached node for the first link found and the path to it.
func (fs *FS) scan(ino uint64) (*node, []pathStep) {
	if fs.rescanLimit < 0 {
		return nil, nil
	}
	fs.rescanMu.Lock()
	defer fs.rescanMu.Unlock()
	budget := fs.rescanLimit
	var path []pathStep
	n := fs.scanDir(fs.root.fd, fs.root.ino, ino, 0, &budget, &path)
	return n, path
}

func (fs *FS) scanDir(dirfd int, dirIno, want uint64, depth int, budget *int, path *[]pathStep) *node {
	if depth >= maxDepth/16 {
		return nil
	}
	fd, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var subdirs []string
	buf := make([]byte, 32<<10)
	for *budget > 0 {
		nb, err := unix.Getdents(fd, buf)
		if err != nil || nb <= 0 {
			break
		}
		for d := range dirents(buf[:nb]) {
			if d.name == "." || d.name == ".." {
				continue
			}
			*budget--
			if d.ino == want {
				cfd, err := unix.Openat(fd, d.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err == nil {
					n, err := fs.newNode(cfd, nil)
					if err == nil && n.ino == want {
						*path = append(*path, pathStep{want, dirIno, d.name})
						return n
					}
					unix.Close(cfd)
				}
			}
			if d.typ == unix.DT_DIR || d.typ == unix.DT_UNKNOWN {
				subdirs = append(subdirs, d.name)
			}
		}
	}
	for _, name := range subdirs {
		if *budget <= 0 {
			return nil
		}
		cfd, err := unix.Openat(fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var stx unix.Statx_t
		if statx(cfd, &stx) == nil && fs.inside(&stx) {
			if n := fs.scanDir(cfd, stx.Ino, want, depth+1, budget, path); n != nil {
				*path = append(*path, pathStep{stx.Ino, dirIno, name})
				unix.Close(cfd)
				return n
			}
		}
		unix.Close(cfd)
	}
	return nil
}

// dirent is one parsed linux_dirent64.
type dirent struct {
	ino  uint64
	off  uint64
	typ  uint8
	name string
}

// dirents parses a getdents64 buffer.
func dirents(buf []byte) func(func(dirent) bool) {
	return func(yield func(dirent) bool) {
		for len(buf) >= 19 {
			reclen := int(binary.NativeEndian.Uint16(buf[16:]))
			if reclen < 19 || reclen > len(buf) {
				return
			}
			name := buf[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			d := dirent{
				ino:  binary.NativeEndian.Uint64(buf[0:]),
				off:  binary.NativeEndian.Uint64(buf[8:]),
				typ:  buf[18],
				name: string(name),
			}
			buf = buf[reclen:]
			if !yield(d) {
				return
			}
		}
	}
}
