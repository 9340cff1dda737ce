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
// Caching (off with Options.NoCache), as RFC 1813 §4 and RFC 8881 §10
// intend and the Linux client does:
//
//   - Attributes are kept per file handle for a tenth of the file's age
//     since its last change, within AcRegMin..AcRegMax (3 s..60 s) for
//     files and AcDirMin..AcDirMax (30 s..60 s) for directories; names
//     (path → handle, and "does not exist") for AcDirMin. The client's own
//     changes drop what they make stale.
//   - File data is cached in blocks of the transfer size, up to
//     CacheSize for all files, validated by the change attribute (NFSv4
//     change; for NFSv3 ctime, mtime and size together).
//   - Close-to-open: OpenFile's OPEN (or GETATTR) revalidates, and cached
//     data whose change attribute moved is dropped; Close writes dirty data
//     back and COMMITs before CLOSE. A File whose attributes expired
//     revalidates before its next read.
//   - Delegations (NFSv4, unless NoDelegations): a held read or write
//     delegation makes revalidation unnecessary; under a write delegation
//     writes stay in the cache (up to 8 MiB dirty per file) until Sync,
//     Close or a recall, which writes them back and COMMITs before
//     DELEGRETURN. CB_GETATTR is answered from the local size and change.
//
// CacheStats counts GETATTRs and cache hits, for tests and tuning.
//
// Hard semantics: a call whose connection fails is sent again on a new
// connection until its context ends, so a server restart stalls calls
// instead of failing them (NFSv4 also recovers its session and client ID
// and reclaims opens in the grace period; see client/nfs4).
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
