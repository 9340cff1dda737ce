package nfs3

import (
	"context"
	"fmt"

	x "github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// attrOf returns the attributes of a post_op_attr, or nil.
func attrOf(p *x.PostOpAttr) *x.Fattr3 {
	if !p.AttributesFollow {
		return nil
	}
	a := p.Attributes
	return &a
}

// Getattr returns the attributes of fh (RFC 1813 §3.3.1).
func (c *Client) Getattr(ctx context.Context, fh Fh) (*x.Fattr3, error) {
	var res x.GETATTR3res
	if err := c.call(ctx, x.NFSPROC3_GETATTR, &x.GETATTR3args{Object: x.NfsFh3{Data: fh}}, &res); err != nil {
		return nil, err
	}
	if err := statusErr("GETATTR", res.Status); err != nil {
		return nil, err
	}
	a := res.Resok.ObjAttributes
	return &a, nil
}

// Setattr sets the attributes of fh (RFC 1813 §3.3.2), unguarded.
func (c *Client) Setattr(ctx context.Context, fh Fh, s x.Sattr3) error {
	var res x.SETATTR3res
	if err := c.call(ctx, x.NFSPROC3_SETATTR, &x.SETATTR3args{Object: x.NfsFh3{Data: fh}, NewAttributes: s}, &res); err != nil {
		return err
	}
	return statusErr("SETATTR", res.Status)
}

// Lookup finds name in dir (RFC 1813 §3.3.3). The attributes may be nil.
func (c *Client) Lookup(ctx context.Context, dir Fh, name string) (Fh, *x.Fattr3, error) {
	var res x.LOOKUP3res
	if err := c.call(ctx, x.NFSPROC3_LOOKUP, &x.LOOKUP3args{What: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)}}, &res); err != nil {
		return nil, nil, err
	}
	if err := statusErr("LOOKUP", res.Status); err != nil {
		return nil, nil, err
	}
	return res.Resok.Object.Data, attrOf(&res.Resok.ObjAttributes), nil
}

// Access asks which of the ACCESS3_* rights in mask the caller has on fh
// (RFC 1813 §3.3.4).
func (c *Client) Access(ctx context.Context, fh Fh, mask uint32) (uint32, error) {
	var res x.ACCESS3res
	if err := c.call(ctx, x.NFSPROC3_ACCESS, &x.ACCESS3args{Object: x.NfsFh3{Data: fh}, Access: mask}, &res); err != nil {
		return 0, err
	}
	if err := statusErr("ACCESS", res.Status); err != nil {
		return 0, err
	}
	return res.Resok.Access, nil
}

// Readlink returns the target of symbolic link fh (RFC 1813 §3.3.5).
func (c *Client) Readlink(ctx context.Context, fh Fh) (string, error) {
	var res x.READLINK3res
	if err := c.call(ctx, x.NFSPROC3_READLINK, &x.READLINK3args{Symlink: x.NfsFh3{Data: fh}}, &res); err != nil {
		return "", err
	}
	if err := statusErr("READLINK", res.Status); err != nil {
		return "", err
	}
	return string(res.Resok.Data), nil
}

// Read reads up to len(p) bytes at off into p's start (RFC 1813 §3.3.6)
// and returns how many it read and whether the file ends there. The data
// goes from the connection straight into p (see sunrpc.Sink); a reply
// with more data than p holds is an error.
func (c *Client) Read(ctx context.Context, fh Fh, p []byte, off uint64) (n int, eof bool, err error) {
	res := readRes{p: p}
	sunk, err := c.callWith(ctx, x.NFSPROC3_READ, &x.READ3args{File: x.NfsFh3{Data: fh}, Offset: x.Offset3(off), Count: x.Count3(len(p))}, &res,
		&sunrpc.CallOptions{Transient: true, Sink: &sunrpc.Sink{Buf: p, Locate: locateRead3}})
	if err != nil {
		return 0, false, err
	}
	if err := statusErr("READ", res.Status); err != nil {
		return 0, false, err
	}
	if res.tooLong > 0 {
		return 0, false, fmt.Errorf("nfs3: READ: %w: %d bytes of data for a %d-byte READ", sunrpc.ErrBadReply, res.tooLong, len(p))
	}
	if sunk >= 0 {
		res.n = sunk
	}
	return res.n, res.Resok.Eof, nil
}

// readRes decodes the results of a Read whose reply was not read into p
// (an error status, or a layout locateRead3 did not find): it copies the
// data into p while the reply's record is still held (the call is
// Transient) and keeps no slice of it.
type readRes struct {
	x.READ3res
	p       []byte
	n       int
	tooLong int // the data's length if longer than p
}

func (r *readRes) Decode(d *xdr.Reader) {
	r.READ3res.Decode(d)
	if data := r.Resok.Data; len(data) > len(r.p) {
		r.tooLong = len(data)
	} else {
		r.n = copy(r.p, data)
	}
	r.Resok.Data = nil
}

// locateRead3 finds the data in READ3res results (RFC 1813 §3.3.6): a
// status of NFS3_OK, post_op_attr, count, eof, then the opaque data.
func locateRead3(results []byte) (off, n int, ok bool) {
	var r xdr.Reader
	r.Reset(results)
	if x.Nfsstat3(r.Uint32()) != x.NFS3_OK {
		return 0, 0, false
	}
	var attr x.PostOpAttr
	attr.Decode(&r)
	r.Uint32() // count
	r.Bool()   // eof
	n = int(r.Uint32())
	return r.Offset(), n, r.Err() == nil
}

// Write writes p at off with the given stability (RFC 1813 §3.3.7) and
// returns the count written, the stability the server gave and its write
// verifier. p goes out behind the arguments without being copied (see
// sunrpc.CallOptions.Tail).
func (c *Client) Write(ctx context.Context, fh Fh, p []byte, off uint64, stable x.StableHow) (int, x.StableHow, x.Writeverf3, error) {
	var res x.WRITE3res
	// The data is WRITE3args' last field: it is encoded empty and p
	// follows as the Tail.
	args := x.WRITE3args{File: x.NfsFh3{Data: fh}, Offset: x.Offset3(off), Count: x.Count3(len(p)), Stable: stable}
	if _, err := c.callWith(ctx, x.NFSPROC3_WRITE, &args, &res, &sunrpc.CallOptions{Tail: p}); err != nil {
		return 0, 0, x.Writeverf3{}, err
	}
	if err := statusErr("WRITE", res.Status); err != nil {
		return 0, 0, x.Writeverf3{}, err
	}
	return int(res.Resok.Count), res.Resok.Committed, res.Resok.Verf, nil
}

// Commit commits count bytes at off (0, 0: the whole file) to stable
// storage (RFC 1813 §3.3.21) and returns the write verifier.
func (c *Client) Commit(ctx context.Context, fh Fh, off uint64, count uint32) (x.Writeverf3, error) {
	var res x.COMMIT3res
	if err := c.call(ctx, x.NFSPROC3_COMMIT, &x.COMMIT3args{File: x.NfsFh3{Data: fh}, Offset: x.Offset3(off), Count: x.Count3(count)}, &res); err != nil {
		return x.Writeverf3{}, err
	}
	if err := statusErr("COMMIT", res.Status); err != nil {
		return x.Writeverf3{}, err
	}
	return res.Resok.Verf, nil
}

// handleOf returns the handle a create-type reply carried, or looks name
// up when the server left it out (RFC 1813 §3.3.8 allows that).
func (c *Client) handleOf(ctx context.Context, h *x.PostOpFh3, dir Fh, name string) (Fh, error) {
	if h.HandleFollows {
		return h.Handle.Data, nil
	}
	fh, _, err := c.Lookup(ctx, dir, name)
	if err != nil {
		return nil, ErrNoHandle
	}
	return fh, nil
}

// Create creates regular file name in dir (RFC 1813 §3.3.8). With
// EXCLUSIVE, verf identifies this attempt so that a retransmission finds
// the file it created; attr is ignored then and the caller sets the
// attributes afterwards with Setattr, as the RFC requires.
func (c *Client) Create(ctx context.Context, dir Fh, name string, mode x.Createmode3, attr x.Sattr3, verf x.Createverf3) (Fh, error) {
	args := x.CREATE3args{Where: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)},
		How: x.Createhow3{Mode: mode, ObjAttributes: attr, Verf: verf}}
	var res x.CREATE3res
	if err := c.call(ctx, x.NFSPROC3_CREATE, &args, &res); err != nil {
		return nil, err
	}
	if err := statusErr("CREATE", res.Status); err != nil {
		return nil, err
	}
	return c.handleOf(ctx, &res.Resok.Obj, dir, name)
}

// Mkdir creates directory name in dir (RFC 1813 §3.3.9).
func (c *Client) Mkdir(ctx context.Context, dir Fh, name string, attr x.Sattr3) (Fh, error) {
	var res x.MKDIR3res
	if err := c.call(ctx, x.NFSPROC3_MKDIR, &x.MKDIR3args{Where: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)}, Attributes: attr}, &res); err != nil {
		return nil, err
	}
	if err := statusErr("MKDIR", res.Status); err != nil {
		return nil, err
	}
	return c.handleOf(ctx, &res.Resok.Obj, dir, name)
}

// Symlink creates symbolic link name in dir pointing at target (RFC 1813
// §3.3.10).
func (c *Client) Symlink(ctx context.Context, dir Fh, name, target string, attr x.Sattr3) (Fh, error) {
	args := x.SYMLINK3args{Where: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)},
		Symlink: x.Symlinkdata3{SymlinkAttributes: attr, SymlinkData: x.Nfspath3(target)}}
	var res x.SYMLINK3res
	if err := c.call(ctx, x.NFSPROC3_SYMLINK, &args, &res); err != nil {
		return nil, err
	}
	if err := statusErr("SYMLINK", res.Status); err != nil {
		return nil, err
	}
	return c.handleOf(ctx, &res.Resok.Obj, dir, name)
}

// Remove removes non-directory name from dir (RFC 1813 §3.3.12).
func (c *Client) Remove(ctx context.Context, dir Fh, name string) error {
	var res x.REMOVE3res
	if err := c.call(ctx, x.NFSPROC3_REMOVE, &x.REMOVE3args{Object: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)}}, &res); err != nil {
		return err
	}
	return statusErr("REMOVE", res.Status)
}

// Rmdir removes empty directory name from dir (RFC 1813 §3.3.13).
func (c *Client) Rmdir(ctx context.Context, dir Fh, name string) error {
	var res x.RMDIR3res
	if err := c.call(ctx, x.NFSPROC3_RMDIR, &x.RMDIR3args{Object: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)}}, &res); err != nil {
		return err
	}
	return statusErr("RMDIR", res.Status)
}

// Rename renames fromDir/fromName to toDir/toName (RFC 1813 §3.3.14).
func (c *Client) Rename(ctx context.Context, fromDir Fh, fromName string, toDir Fh, toName string) error {
	args := x.RENAME3args{From: x.Diropargs3{Dir: x.NfsFh3{Data: fromDir}, Name: x.Filename3(fromName)},
		To: x.Diropargs3{Dir: x.NfsFh3{Data: toDir}, Name: x.Filename3(toName)}}
	var res x.RENAME3res
	if err := c.call(ctx, x.NFSPROC3_RENAME, &args, &res); err != nil {
		return err
	}
	return statusErr("RENAME", res.Status)
}

// Link makes dir/name a hard link to fh (RFC 1813 §3.3.15).
func (c *Client) Link(ctx context.Context, fh, dir Fh, name string) error {
	var res x.LINK3res
	if err := c.call(ctx, x.NFSPROC3_LINK, &x.LINK3args{File: x.NfsFh3{Data: fh}, Link: x.Diropargs3{Dir: x.NfsFh3{Data: dir}, Name: x.Filename3(name)}}, &res); err != nil {
		return err
	}
	return statusErr("LINK", res.Status)
}

// Entry is one directory entry of ReadDirPlus. Attr and Fh may be nil
// when the server left them out.
type Entry struct {
	Name   string
	Fileid uint64
	Attr   *x.Fattr3
	Fh     Fh
}

// readdirCount is the size asked of each READDIRPLUS reply.
const readdirCount = 64 << 10

// ReadDirPlus lists dir (RFC 1813 §3.3.17), calling fn for each entry
// except "." and "..", following cookies until EOF.
func (c *Client) ReadDirPlus(ctx context.Context, dir Fh, fn func(Entry) error) error {
	var cookie x.Cookie3
	var verf x.Cookieverf3
	for {
		args := x.READDIRPLUS3args{Dir: x.NfsFh3{Data: dir}, Cookie: cookie, Cookieverf: verf, Dircount: readdirCount / 4, Maxcount: readdirCount}
		var res x.READDIRPLUS3res
		if err := c.call(ctx, x.NFSPROC3_READDIRPLUS, &args, &res); err != nil {
			return err
		}
		if err := statusErr("READDIRPLUS", res.Status); err != nil {
			return err
		}
		verf = res.Resok.Cookieverf
		for e := res.Resok.Reply.Entries; e != nil; e = e.Nextentry {
			cookie = e.Cookie
			if e.Name == "." || e.Name == ".." {
				continue
			}
			ent := Entry{Name: string(e.Name), Fileid: uint64(e.Fileid), Attr: attrOf(&e.NameAttributes)}
			if e.NameHandle.HandleFollows {
				ent.Fh = e.NameHandle.Handle.Data
			}
			if err := fn(ent); err != nil {
				return err
			}
		}
		if res.Resok.Reply.Eof {
			return nil
		}
		if res.Resok.Reply.Entries == nil {
			// No progress and no EOF: the reply was too small for
			// even one entry.
			return statusErr("READDIRPLUS", x.NFS3ERR_TOOSMALL)
		}
	}
}

// FSInfo returns the static file system information of the export
// holding fh (RFC 1813 §3.3.19): the transfer sizes above all.
func (c *Client) FSInfo(ctx context.Context, fh Fh) (*x.FSINFO3resok, error) {
	var res x.FSINFO3res
	if err := c.call(ctx, x.NFSPROC3_FSINFO, &x.FSINFO3args{Fsroot: x.NfsFh3{Data: fh}}, &res); err != nil {
		return nil, err
	}
	if err := statusErr("FSINFO", res.Status); err != nil {
		return nil, err
	}
	return &res.Resok, nil
}
