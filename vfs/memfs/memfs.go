package memfs

import (
	"context"
	"encoding/binary"
	"sync"
	"syscall"
	"time"

	"github.com/gonfs/gonfs/vfs"
)

// Options configures an FS. The zero value works.
type Options struct {
	// Now is the clock for timestamps. Nil means time.Now.
	Now func() time.Time
	// Capacity is the number of data bytes the FS holds before writes fail
	// with ENOSPC. Zero means 1 GiB.
	Capacity uint64
	// MaxFiles is the number of inodes the FS holds before creates fail
	// with ENOSPC. Zero means 1<<20.
	MaxFiles uint64
	// FSID is reported in Attr.FSID. Zero means a fixed default.
	FSID uint64
	// RootMode is the mode of the root directory. Zero means 0755. The root
	// is owned by 0:0.
	RootMode uint32
}

const (
	blockSize     = 64 << 10
	handleLen     = 12
	rootIno       = 1
	dirSize       = 4096
	maxLink       = 65000
	maxName       = 255
	maxFileSize   = 1 << 62
	maxSymlink    = 4096
	defaultFSID   = 0x6d656d6673 // "memfs"
	defaultCap    = 1 << 30
	defaultFiles  = 1 << 20
	readDirBatch  = 128
	firstCookie   = 3 // cookies 0, 1 and 2 mean start, "." and ".."
	compactMinDel = 32
)

// FS is an in-memory filesystem. See the package documentation.
type FS struct {
	now      func() time.Time
	capacity uint64
	maxFiles uint64
	fsid     uint64

	mu      sync.RWMutex
	inodes  map[uint64]*inode
	free    []uint64 // removed inode numbers, reused last-in first-out
	nextIno uint64
	nextGen uint32
	change  uint64 // last Change value handed out; all inodes draw from it
	used    uint64 // data bytes held in blocks
	root    *inode
}

var (
	_ vfs.FS       = (*FS)(nil)
	_ vfs.Informer = (*FS)(nil)
)

// New returns an empty FS.
func New(opts Options) *FS {
	fs := &FS{
		now:      opts.Now,
		capacity: opts.Capacity,
		maxFiles: opts.MaxFiles,
		fsid:     opts.FSID,
		inodes:   map[uint64]*inode{},
		nextIno:  rootIno,
	}
	if fs.now == nil {
		fs.now = time.Now
	}
	if fs.capacity == 0 {
		fs.capacity = defaultCap
	}
	if fs.maxFiles == 0 {
		fs.maxFiles = defaultFiles
	}
	if fs.fsid == 0 {
		fs.fsid = defaultFSID
	}
	m := opts.RootMode & 0o7777
	if m == 0 {
		m = 0o755
	}
	fs.root = fs.newInode(vfs.TypeDirectory, m, vfs.RootCred())
	fs.root.parent = fs.root
	fs.root.nlink = 2
	return fs
}

// Info reports the limits of memfs.
func (fs *FS) Info() vfs.Info {
	return vfs.Info{
		MaxName:       maxName,
		MaxLink:       maxLink,
		MaxFileSize:   maxFileSize,
		TimeDelta:     time.Nanosecond,
		CaseSensitive: true,
		Symlinks:      true,
		HardLinks:     true,
	}
}

// Root returns the handle of the root directory.
func (fs *FS) Root() vfs.Handle { return fs.root.handle() }

// inode is one file. All fields are guarded by FS.mu.
type inode struct {
	ino    uint64
	gen    uint32
	typ    vfs.FileType
	mode   uint32
	nlink  uint32
	uid    uint32
	gid    uint32
	major  uint32
	minor  uint32
	atime  time.Time
	mtime  time.Time
	ctime  time.Time
	change uint64

	// Regular files.
	size   uint64
	blocks map[uint64][]byte // block index → bytes from the block start, len ≤ blockSize
	// Directories.
	dir    *directory
	parent *inode
	// Symlinks.
	target string
	// User extended attributes of regular files and directories (ext.go).
	xattrs map[string][]byte
}

func (n *inode) handle() vfs.Handle {
	h := make(vfs.Handle, handleLen)
	binary.BigEndian.PutUint64(h, n.ino)
	binary.BigEndian.PutUint32(h[8:], n.gen)
	return h
}

// get resolves a handle; callers hold fs.mu. Anything that is not the
// handle of a live inode is ESTALE (vfs.FS), never a panic.
func (fs *FS) get(h vfs.Handle) (*inode, error) {
	if len(h) != handleLen {
		return nil, syscall.ESTALE
	}
	n := fs.inodes[binary.BigEndian.Uint64(h)]
	if n == nil || n.gen != binary.BigEndian.Uint32(h[8:]) {
		return nil, syscall.ESTALE
	}
	return n, nil
}

// getDir resolves a handle that must be a directory.
func (fs *FS) getDir(h vfs.Handle) (*inode, error) {
	n, err := fs.get(h)
	if err != nil {
		return nil, err
	}
	if n.typ != vfs.TypeDirectory {
		return nil, syscall.ENOTDIR
	}
	return n, nil
}

// newInode allocates an inode owned by c; callers hold fs.mu exclusively
// and have checked fs.full.
func (fs *FS) newInode(t vfs.FileType, mode uint32, c *vfs.Cred) *inode {
	var ino uint64
	if k := len(fs.free); k > 0 {
		ino = fs.free[k-1]
		fs.free = fs.free[:k-1]
	} else {
		ino = fs.nextIno
		fs.nextIno++
	}
	fs.nextGen++
	now := fs.now()
	n := &inode{
		ino: ino, gen: fs.nextGen, typ: t, mode: mode & 0o7777, nlink: 1,
		uid: c.UID, gid: c.GID,
		atime: now, mtime: now, ctime: now,
	}
	switch t {
	case vfs.TypeDirectory:
		n.dir = &directory{byName: map[string]*dirent{}}
		n.nlink = 2
	case vfs.TypeRegular:
		n.blocks = map[uint64][]byte{}
	}
	fs.bump(n)
	fs.inodes[ino] = n
	return n
}

// full reports whether no inode can be allocated.
func (fs *FS) full() bool { return uint64(len(fs.inodes)) >= fs.maxFiles }

// release drops an inode that has no names left.
func (fs *FS) release(n *inode) {
	for _, b := range n.blocks {
		fs.used -= uint64(len(b))
	}
	n.blocks = nil
	delete(fs.inodes, n.ino)
	fs.free = append(fs.free, n.ino)
}

// bump advances n's Change attribute. One counter for the whole FS makes
// every value unique, which is more than RFC 8881 §5.8.1.4 asks.
func (fs *FS) bump(n *inode) {
	fs.change++
	n.change = fs.change
}

// touchCtime records an attribute change of n.
func (fs *FS) touchCtime(n *inode) {
	n.ctime = fs.now()
	fs.bump(n)
}

// touchMtime records a data change of n (mtime and ctime).
func (fs *FS) touchMtime(n *inode) {
	now := fs.now()
	n.mtime, n.ctime = now, now
	fs.bump(n)
}

func (fs *FS) attr(n *inode) vfs.Attr {
	a := vfs.Attr{
		Type: n.typ, Mode: n.mode, Nlink: n.nlink, UID: n.uid, GID: n.gid,
		Major: n.major, Minor: n.minor, FSID: fs.fsid, FileID: n.ino,
		Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Change: n.change,
	}
	switch n.typ {
	case vfs.TypeRegular:
		a.Size = n.size
		for _, b := range n.blocks {
			a.Used += uint64(len(b))
		}
	case vfs.TypeDirectory:
		a.Size, a.Used = dirSize, dirSize
	case vfs.TypeSymlink:
		a.Size = uint64(len(n.target))
		a.Used = a.Size
	}
	return a
}

// GetAttr returns the attributes of h.
func (fs *FS) GetAttr(ctx context.Context, h vfs.Handle) (vfs.Attr, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return vfs.Attr{}, err
	}
	return fs.attr(n), nil
}

// StatFS reports the capacity and inode limit given in Options.
func (fs *FS) StatFS(ctx context.Context, h vfs.Handle) (vfs.FSStat, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	if _, err := fs.get(h); err != nil {
		return vfs.FSStat{}, err
	}
	free := fs.capacity - min(fs.used, fs.capacity)
	files := fs.maxFiles - min(uint64(len(fs.inodes)), fs.maxFiles)
	return vfs.FSStat{
		TotalBytes: fs.capacity, FreeBytes: free, AvailBytes: free,
		TotalFiles: fs.maxFiles, FreeFiles: files, AvailFiles: files,
	}, nil
}

// Commit has nothing to do: memory is as stable as memfs gets.
func (fs *FS) Commit(ctx context.Context, h vfs.Handle) error {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	_, err := fs.get(h)
	return err
}
