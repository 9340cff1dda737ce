// Package mount is the MOUNT protocol version 3 server (RFC 1813 Appendix
// I), program 100005. NFSv3 clients use it once per mount: MNT turns an
// export path into the root file handle and the list of auth flavors the
// export accepts; DUMP, UMNT and UMNTALL keep an advisory list of who has
// mounted what; EXPORT lists the exports for showmount -e.
//
// # What it owns
//
// The six procedures and the mount list. It does not own access rules or
// file handles: both come from the namespace package, so MOUNT grants
// exactly what NFSv3 will later enforce on every request.
//
// # MNT
//
// The path is cleaned (so ".." can never climb out of an export) and
// matched against the export with the longest Path that is the path or a
// parent of it. The client's address, source port and auth flavor are
// checked with namespace.Authorize; a refusal (client not listed, insecure
// port on a secure export, flavor not in sec=) is MNT3ERR_ACCES and the
// reason is logged at debug level, since the client is told nothing more.
// A path below an export root is walked one component at a time with the
// backend's Lookup, running as the caller's squashed identity, so a
// directory the user could not search cannot be mounted either. Symlinks
// are never followed: a symlink or any other non-directory on the way, or
// at the end, is MNT3ERR_NOTDIR, and a missing component MNT3ERR_NOENT.
//
// One deliberate exception to the flavor check: when the export's sec=
// list holds an RPCSEC_GSS flavor (krb5, krb5i, krb5p), a MNT over AUTH_SYS
// or AUTH_NONE is allowed. MOUNT itself is not protected by RPCSEC_GSS in
// practice (the Linux kernel sends MNT with AUTH_UNIX whatever sec= the
// mount asks for; RFC 2623 §2.3 has the client learn the flavors from the
// MNT reply), and every NFS request that follows is checked against sec=.
// Such a MNT walks subdirectories as the export's anonymous user, because
// the caller has proved no identity.
//
// # Mount list
//
// DUMP lists (host, path) pairs where host is the client's IP address as a
// string. The AUTH_SYS machine name would read better but is whatever the
// client chose to write, unverified, and absent for AUTH_NONE. The list
// lives in memory only and is bounded (Options.MaxMounts); like knfsd's
// rmtab it is advisory: nothing depends on it, clients routinely vanish
// without UMNT, and a restart forgets it.
//
// # Duplicate request cache
//
// Every procedure counts as idempotent (see Server.Idempotent): a
// retransmitted MNT adds the same entry again and answers with the same
// handle, and a retransmitted UMNT removes an entry that is already gone,
// so running a retransmission twice is harmless and caching it buys
// nothing.
//
// # Concurrency
//
// A Server is safe for concurrent use; the mount list has its own mutex,
// never held across a backend call.
package mount
