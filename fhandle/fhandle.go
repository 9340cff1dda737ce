package fhandle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sync"

	"github.com/gonfs/gonfs/vfs"
)

const (
	version  = 1
	header   = 6
	macSize  = 8
	keySize  = 32
	minSize  = header + macSize
	MaxSize  = header + vfs.MaxHandle + macSize
	keyFile  = "fh.key"
	keyPerms = 0o600
)

var (
	// ErrBadHandle reports bytes that are not a handle of ours at all
	// (wrong size or version): NFS3ERR_BADHANDLE.
	ErrBadHandle = errors.New("fhandle: malformed file handle")
	// ErrStale reports a well-formed handle whose MAC does not verify:
	// from another server or another key, or forged: NFS3ERR_STALE.
	ErrStale = errors.New("fhandle: file handle does not verify")
)

// Codec makes and checks wire handles.
type Codec struct {
	macs sync.Pool // of *macState keyed with the secret
	// seen holds handles that verified under this Codec's key only: a
	// Codec with another key (a new state directory) has its own, so a
	// handle made under an old key is refused as before.
	seen *verified
	// made holds handles Append made with this Codec's key, for Append;
	// likewise its own.
	made *issued
}

// New returns a Codec keyed with key (at least 16 bytes).
func New(key []byte) (*Codec, error) {
	return newSized(key, cacheSetBits, issuedSetBits)
}

// newSized is New with caches of 1<<setBits (Decode) and 1<<madeBits
// (Append) sets.
func newSized(key []byte, setBits, madeBits int) (*Codec, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("fhandle: key of %d bytes is too short", len(key))
	}
	k := append([]byte(nil), key...)
	c := &Codec{seen: newVerified(setBits), made: newIssued(madeBits)}
	c.macs.New = func() any { return &macState{h: hmac.New(sha256.New, k)} }
	return c, nil
}

// LoadKey reads the handle key from dir, creating a random one on first use.
// The key must survive restarts: handles clients hold are only valid under it.
func LoadKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != keySize {
			return nil, fmt.Errorf("fhandle: %s holds %d bytes, want %d", path, len(key), keySize)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key = make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, keyPerms); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return key, nil
}

// macState is pooled whole so that the digest buffer does not escape per call.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func (c *Codec) mac(dst, msg []byte) {
	m := c.macs.Get().(*macState)
	m.h.Reset()
	m.h.Write(msg)
	copy(dst, m.h.Sum(m.sum[:0]))
	c.macs.Put(m)
}

// Append appends the wire handle of backend handle h in export id to dst.
//
// A handle made recently is found by its bytes and its MAC copied rather
// than computed again; the bytes appended are the same either way.
func (c *Codec) Append(dst []byte, export uint32, h vfs.Handle) []byte {
	if len(h) > vfs.MaxHandle {
		panic(fmt.Sprintf("fhandle: backend handle of %d bytes exceeds vfs.MaxHandle", len(h)))
	}
	start := len(dst)
	dst = append(dst, version, byte(len(h)))
	dst = binary.BigEndian.AppendUint32(dst, export)
	dst = append(dst, h...)
	var m [macSize]byte
	if c.made.mac(dst[start:], &m) {
		return append(dst, m[:]...)
	}
	c.mac(m[:], dst[start:])
	dst = append(dst, m[:]...)
	c.made.add(dst[start:])
	return dst
}

// Decode checks a wire handle and returns its export id and backend handle,
// which aliases fh (never the Codec's cache).
//
// A handle that verified recently is recognised by its bytes without
// computing the MAC again; the answer is the same either way.
func (c *Codec) Decode(fh []byte) (export uint32, h vfs.Handle, err error) {
	if len(fh) < minSize || len(fh) > MaxSize || fh[0] != version || int(fh[1]) != len(fh)-minSize {
		return 0, nil, ErrBadHandle
	}
	body := fh[:len(fh)-macSize]
	if !c.seen.contains(fh) {
		var m [macSize]byte
		c.mac(m[:], body)
		if !hmac.Equal(m[:], fh[len(fh)-macSize:]) {
			// Never cached: a flood of forged handles costs MACs, not
			// the hot handles' places.
			return 0, nil, ErrStale
		}
		c.seen.add(fh)
	}
	return binary.BigEndian.Uint32(fh[2:6]), vfs.Handle(body[header:]), nil
}

// Export returns the export id of a handle without verifying it, for
// logging and statistics only.
func Export(fh []byte) (uint32, bool) {
	if len(fh) < minSize || fh[0] != version {
		return 0, false
	}
	return binary.BigEndian.Uint32(fh[2:6]), true
}
