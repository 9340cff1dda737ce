// Package client is the gonfs NFS client library: NFSv3 (RFC 1813, with
// MOUNT and NLM) and NFSv4.1/4.2 (RFC 8881, RFC 7862) behind one API.
//
//	c, err := client.Dial(ctx, "nfs://server/?version=4.2", client.Options{})
//	data, err := fs.ReadFile(c, "dir/file")
//	f, err := c.OpenFile(ctx, "dir/new", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
//
// URLs follow libnfs: nfs://host[:port]/path?version=3|4.1|4.2 with
// nfsport=, mountport=, uid= and gid= (see URL). Without a version, Dial
// tries 4.2, then 4.1, then 3, moving on only when the server refuses a
// version.
//
// The Client implements fs.FS, fs.ReadDirFS and fs.StatFS for reading;
// OpenFile returns a *File with ReadAt, WriteAt, Seek, Read, Write, Sync,
// Stat, Truncate, Lock, Unlock and Close. Large reads and writes are split
// into the server's transfer size and sent up to Options.MaxInFlight at a
// time. Writes are UNSTABLE and committed by Sync and Close; a write
// verifier that changed by COMMIT time makes the writes it covers go out
// again (package client/internal/unstable).
//
// Layering: client/nfs3 and client/nfs4 are the raw protocol clients (one
// method per procedure or operation, and all NFSv4 session, slot and
// recovery state); this package turns paths into handles and gives both the
// io/fs shape. Over NFSv3, a path resolves through the deepest export above
// it (MOUNT EXPORT, then MNT) and a LOOKUP per component; over NFSv4 every
// path is one COMPOUND from PUTROOTFH.
//
// Credentials are AUTH_SYS, chosen by the caller in Options.Auth (default:
// the process's uid, gid and groups).
//
// Locks are non-blocking in both versions; over NFSv3 they are NLM locks
// at the server's NLM service (found through the portmapper, else on the
// NFS port as gonfs serves it).
//
// Concurrency: a Client and a File are safe for concurrent use. Methods
// with a context stop waiting when it ends; an NFSv4 request already sent
// still completes in the background so its session slot stays in step.
package client
