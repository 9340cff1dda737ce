package localfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// Options configures an FS. The zero value works.
type Options struct {
	// StateDir holds the persistent index used when kernel file handles
	// are unavailable. Empty keeps the index in memory only: handles then
	// survive a restart only through the bounded scan.
	StateDir string

	// ForceIndex uses index handles even when kernel handles work (tests
	// run both code paths this way).
	ForceIndex bool

	// NoIdentity runs every operation as the process even when it is root.
	NoIdentity bool

	// CacheSize bounds the resolved-handle cache (each entry holds up to
	// two file descriptors). Zero means 4096.
	CacheSize int

	// RescanLimit bounds the directory entries one scan for a lost inode
	// visits. Zero means 100,000; negative disables scans.
	RescanLimit int
}

// FS serves one directory. Create it with New and release it with Close.
type FS struct {
	dir        string // absolute path of the root as the kernel reports it
	root       *node
	rootHandle vfs.Handle
	rootFD     int // O_RDONLY|O_DIRECTORY; mount fd for open_by_handle_at
	rootDev    uint64
	// rootMnt is the mount ID of the root (statx STATX_MNT_ID and
	// name_to_handle_at report the same ID), when the kernel reports it.
	rootMnt      uint64
	rootMntKnown bool
	// rootIsFSRoot: the root is the root of its filesystem, so every file
	// on the device is inside the export.
	rootIsFSRoot bool

	kernel bool // kernel handles (else index handles)
	// handleFS is the statfs magic of the filesystem when handleIno can
	// read inode numbers from its kernel handles, else 0.
	handleFS int64
	switchID bool // identity switching
	// genericPerm: the filesystem's permission check is the kernel's
	// generic_permission (mode bits and POSIX ACLs), so that perm.go may
	// decide for files without ACLs from their mode.
	genericPerm bool
	procGroups  []uint32
	procGID     uint32        // the process's fsgid, restored after each switch
	switches    atomic.Uint64 // identity switches made, for tests of perm.go
	fsid        uint64
	info        vfs.Info

	cache *cache
	seen  *seenSet // kernel mode: handles issued by listings
	idx   *index   // nil in kernel mode
	// handles caches kernel handles by file identity (see handleCacheOn).
	handles *handleCache
	// handleCalls counts name_to_handle_at calls, for tests of handles.
	handleCalls atomic.Uint64

	rescanLimit int
	rescanMu    sync.Mutex // one scan at a time bounds the work a flood of stale handles causes

	closeOnce sync.Once
}

var _ vfs.FS = (*FS)(nil)
var _ vfs.Informer = (*FS)(nil)

// New serves dir. dir must be a directory; symlinks in dir itself are
// resolved once, here.
func New(dir string, opts Options) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	rootFD, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("localfs: open %s: %w", abs, err)
	}
	fs := &FS{rootFD: rootFD, rescanLimit: opts.RescanLimit}
	if fs.rescanLimit == 0 {
		fs.rescanLimit = 100000
	}
	ok := false
	defer func() {
		if !ok {
			fs.Close()
		}
	}()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, fmt.Errorf("localfs: /proc must be mounted: %w", err)
	}
	fs.dir, err = os.Readlink(procPath(rootFD))
	if err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	// The root node gets its own O_PATH fd so that the cache's close
	// logic never touches rootFD.
	pfd, err := unix.Openat(rootFD, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	var stx unix.Statx_t
	if err := statx(pfd, &stx); err != nil {
		unix.Close(pfd)
		return nil, fmt.Errorf("localfs: statx %s: %w", abs, err)
	}
	fs.rootDev = devOf(&stx)
	fs.rootMnt, fs.rootMntKnown = stx.Mnt_id, stx.Mask&unix.STATX_MNT_ID != 0
	fs.root = &node{fd: pfd, ioFD: -1, ino: stx.Ino, tag: tagOf(&stx), typ: vfs.TypeDirectory, refs: 1 << 30}
	fs.rootIsFSRoot = fs.isFSRoot()

	var sfs unix.Statfs_t
	if err := unix.Fstatfs(rootFD, &sfs); err != nil {
		return nil, fmt.Errorf("localfs: statfs: %w", err)
	}
	fs.fsid = uint64(uint32(sfs.Fsid.Val[0]))<<32 | uint64(uint32(sfs.Fsid.Val[1]))
	if fs.fsid == 0 {
		fs.fsid = fs.rootDev
	}
	fs.info = infoFor(&sfs)
	switch sfs.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC, unix.TMPFS_MAGIC:
		// None has an inode permission method of its own but btrfs,
		// whose only additions are for read-only subvolumes, where
		// writes fail anyway.
		fs.genericPerm = true
	}

	size := opts.CacheSize
	if size <= 0 {
		size = 4096
	}
	fs.cache = newCache(size)
	fs.seen = newSeenSet(2 * size)

	if !opts.ForceIndex {
		if h, ok := fs.kernelRootHandle(); ok {
			fs.kernel = true
			fs.rootHandle = h
			fs.handleFS = sfs.Type
			if ino, ok := fs.handleIno(h); !ok || ino != fs.root.ino {
				fs.handleFS = 0
			} else {
				fs.handles = newHandleCache(handleSetBits)
			}
		}
	}
	if !fs.kernel {
		fs.rootHandle = indexHandle(fs.root.ino, fs.root.tag)
		fs.idx, err = openIndex(opts.StateDir, fs.root.ino, fs.root.tag)
		if err != nil {
			return nil, err
		}
	}
	fs.root.handle = fs.rootHandle
	fs.root.key = fs.keyOf(fs.rootHandle)

	if os.Geteuid() == 0 && !opts.NoIdentity {
		groups, err := unix.Getgroups()
		if err != nil {
			return nil, fmt.Errorf("localfs: getgroups: %w", err)
		}
		for _, g := range groups {
			fs.procGroups = append(fs.procGroups, uint32(g))
		}
		fs.procGID = uint32(os.Getegid())
		fs.switchID = true
	}
	ok = true
	return fs, nil
}

// kernelRootHandle reports the root's kernel handle if handles can be
// made and opened again here, and fit in vfs.MaxHandle.
func (fs *FS) kernelRootHandle() (vfs.Handle, bool) {
	h, err := fs.kernelHandle(fs.root.fd)
	if err != nil {
		return nil, false
	}
	fh, ok := parseKernel(h)
	if !ok {
		return nil, false
	}
	fd, err := unix.OpenByHandleAt(fs.rootFD, fh, unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if statx(fd, &stx) != nil || stx.Ino != fs.root.ino || devOf(&stx) != fs.rootDev {
		return nil, false
	}
	return h, true
}

// isFSRoot reports whether ".." of the root leaves its device or is the
// root itself.
func (fs *FS) isFSRoot() bool {
	fd, err := unix.Openat(fs.root.fd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if statx(fd, &stx) != nil {
		return false
	}
	return devOf(&stx) != fs.rootDev || stx.Ino == fs.root.ino
}

// Close releases the cached descriptors and flushes the index. The FS must
// not be used afterwards.
func (fs *FS) Close() error {
	var err error
	fs.closeOnce.Do(func() {
		if fs.idx != nil {
			err = fs.idx.close()
		}
		if fs.cache != nil {
			fs.cache.closeAll()
		}
		if fs.root != nil {
			fs.root.closeFDs()
		}
		unix.Close(fs.rootFD)
	})
	return err
}

// KernelHandles reports whether the FS issues kernel file handles (true)
// or index handles.
func (fs *FS) KernelHandles() bool { return fs.kernel }

// SwitchesIdentity reports whether operations run as their Cred.
func (fs *FS) SwitchesIdentity() bool { return fs.switchID }

// Root implements vfs.FS.
func (fs *FS) Root() vfs.Handle { return append(vfs.Handle(nil), fs.rootHandle...) }

// Info implements vfs.Informer.
func (fs *FS) Info() vfs.Info { return fs.info }

// infoFor fills vfs.Info from statfs. Link limits are the on-disk formats'
// (ext4 EXT4_LINK_MAX, btrfs BTRFS_LINK_MAX, xfs XFS_MAXLINK).
func infoFor(s *unix.Statfs_t) vfs.Info {
	in := vfs.DefaultInfo
	if s.Namelen > 0 {
		in.MaxName = uint32(s.Namelen)
	}
	switch s.Type {
	case unix.EXT4_SUPER_MAGIC:
		in.MaxLink = 65000
		in.MaxFileSize = 16<<40 - 1
	case unix.BTRFS_SUPER_MAGIC:
		in.MaxLink = 65535
	case unix.XFS_SUPER_MAGIC, unix.TMPFS_MAGIC:
		in.MaxLink = 1<<31 - 1
	}
	in.TimeDelta = time.Nanosecond
	return in
}

// GetAttr implements vfs.FS.
func (fs *FS) GetAttr(ctx context.Context, h vfs.Handle) (vfs.Attr, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return vfs.Attr{}, err
	}
	defer fs.cache.release(n)
	return fs.attrOf(n)
}

// attrOf stats a resolved node. A file whose last link is gone is stale,
// and leaves the cache.
func (fs *FS) attrOf(n *node) (vfs.Attr, error) {
	var stx unix.Statx_t
	if err := statx(n.fd, &stx); err != nil {
		return vfs.Attr{}, err
	}
	if stx.Nlink == 0 {
		fs.cache.evictIno(n.ino)
		fs.dropHandles(n.ino)
		return vfs.Attr{}, unix.ESTALE
	}
	return fs.toAttr(&stx), nil
}

// StatFS implements vfs.FS.
func (fs *FS) StatFS(ctx context.Context, h vfs.Handle) (vfs.FSStat, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return vfs.FSStat{}, err
	}
	defer fs.cache.release(n)
	var s unix.Statfs_t
	if err := unix.Fstatfs(n.fd, &s); err != nil {
		return vfs.FSStat{}, err
	}
	bs := uint64(s.Bsize)
	if s.Frsize > 0 {
		bs = uint64(s.Frsize)
	}
	return vfs.FSStat{
		TotalBytes: s.Blocks * bs,
		FreeBytes:  s.Bfree * bs,
		AvailBytes: s.Bavail * bs,
		TotalFiles: s.Files,
		FreeFiles:  s.Ffree,
		AvailFiles: s.Ffree,
	}, nil
}

// procPath names fd through /proc, for the operations that have no
// fd-based form usable with O_PATH descriptors (reopening, linking).
func procPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// checkName rejects names that are not a single component. dots says
// whether "." and ".." are allowed (Lookup only).
func checkName(name string, dots bool) error {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return unix.EINVAL
	}
	if !dots && (name == "." || name == "..") {
		return unix.EINVAL
	}
	return nil
}
