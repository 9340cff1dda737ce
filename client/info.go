package client

import (
	"io/fs"
	"time"
)

// Attr is what the server says about a file beyond fs.FileInfo; it is
// FileInfo.Sys().
type Attr struct {
	Uid, Gid uint32
	Nlink    uint32
	Fileid   uint64
	Used     uint64 // bytes of storage
	Rdev     [2]uint32
	Atime    time.Time
	Ctime    time.Time
	// Change is the change attribute (RFC 8881 §5.8.1.4), or for NFSv3 a
	// value that moves whenever ctime, mtime or size does.
	Change uint64
}

// FileInfo describes a file; it implements fs.FileInfo.
type FileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	attr  Attr
	// key is the file's handle, the key of the attribute and data
	// caches.
	key string
}

func (fi *FileInfo) Name() string       { return fi.name }
func (fi *FileInfo) Size() int64        { return fi.size }
func (fi *FileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *FileInfo) ModTime() time.Time { return fi.mtime }
func (fi *FileInfo) IsDir() bool        { return fi.mode.IsDir() }

// Sys returns the *Attr of the file.
func (fi *FileInfo) Sys() any { return &fi.attr }

// Attr returns the file's further attributes.
func (fi *FileInfo) Attr() *Attr { return &fi.attr }

// File type codes shared by NFSv3 ftype3 and NFSv4 nfs_ftype4 (RFC 1813
// §2.3.5, RFC 8881 §3.3.6): both number REG 1, DIR 2, BLK 3, CHR 4, LNK 5,
// SOCK 6, FIFO 7.
func fileMode(ftype uint32, perm uint32) fs.FileMode {
	m := fs.FileMode(perm & 0o777)
	if perm&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if perm&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if perm&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch ftype {
	case 2:
		m |= fs.ModeDir
	case 3:
		m |= fs.ModeDevice
	case 4:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case 5:
		m |= fs.ModeSymlink
	case 6:
		m |= fs.ModeSocket
	case 7:
		m |= fs.ModeNamedPipe
	}
	return m
}

// PermMode converts the permission, setuid, setgid and sticky bits of
// Unix mode bits to an fs.FileMode (the reverse of UnixMode).
func PermMode(perm uint32) fs.FileMode { return fileMode(0, perm) }

// UnixMode converts the permission, setuid, setgid and sticky bits of m
// to Unix mode bits, as they go on the wire.
func UnixMode(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}
