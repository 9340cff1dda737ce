// Package lock is the one byte-range lock table shared by NLM v4 (NFSv3
// clients) and NFSv4, so that a v3 client and a v4 client locking the same
// file conflict with each other exactly as two local processes would.
//
// It is pure protocol state: no I/O, no goroutines, no timers, and no NLM or
// NFSv4 wire types. The protocol layers translate their arguments into the
// neutral types here (FileKey, Owner, Range) and translate decisions back.
//
// # What it owns
//
//   - Byte-range locks with POSIX semantics per owner: locks of one owner
//     never conflict with each other; a new lock over an owner's own range
//     replaces it (and merges with touching locks of the same type);
//     unlocking the middle of a range splits it; changing the type of part of
//     a range splits it.
//   - A FIFO queue of blocking requests (Waiter) per file. Any call that can
//     make a queued request grantable installs the lock for it and returns it
//     in a "woken" list, so the caller only has to send the NLM_GRANTED
//     callback (NLM v4 is RFC 1813 Appendix II; its blocking semantics come
//     from X/Open XNFS). If that callback fails, the caller calls Unlock.
//   - NLM share reservations (SHARE/UNSHARE) with DOS share-mode rules, which
//     are also the NFSv4 OPEN share_access/share_deny rules (RFC 8881 §9.7).
//
// # Ranges
//
// A Range is [Start, End] inclusive, with End == math.MaxUint64 meaning "to
// end of file, however large it grows". Construct one with RangeNLM (length
// 0 means to EOF), RangeNFS4 (length all-ones means to EOF, length 0 and
// offset+length overflow are NFS4ERR_INVAL, RFC 8881 §18.10.3) or Span.
// A Range value that exists is always valid.
//
// # Queue fairness rule
//
// Queued waiters are considered in arrival order. A request R (a new Lock,
// a new Wait, or a queued waiter being reconsidered) is granted when
//
//  1. it conflicts with no lock held by another owner, and
//  2. it conflicts with no earlier queued waiter W of another owner, unless
//     W is itself (directly, or through the waiters it defers to) waiting on
//     R's owner.
//
// Rule 2 is what stops a stream of later compatible requests (say shared
// locks) from starving an earlier exclusive waiter: a queued waiter reserves
// its range. The exception keeps the reservation from creating a deadlock
// that plain POSIX locking would not have: if W waits for a lock that R's
// owner holds, making R wait for W would wait forever (the classic case is
// the holder of a shared lock upgrading it while someone waits for an
// exclusive lock). The exception is computed per file; deadlocks that span
// files are not detected, as NLM has no EDEADLK.
//
// Non-blocking Lock obeys the same rule, so polling cannot jump the queue,
// and Test answers exactly what Lock would: the first conflicting held lock
// or, failing that, the request of the first waiter that reserves the range.
//
// # Cost
//
// Each file keeps its locks in one slice sorted by start offset, with a
// running maximum of end offsets, so finding the locks that overlap a range
// (Test, a refused Lock) is O(log n + k) for n locks on the file and k
// overlapping. Installing or removing a lock splices the slice once, which
// is O(n) memory movement: about 1µs at a thousand locks on one file and
// 0.2ms at a hundred thousand (BenchmarkLockUnlock). Queued requests are
// reconsidered in O(q²) per grant for q waiters on the file; Options bound
// both per client.
//
// # Concurrency
//
// A Table is safe for concurrent use. One mutex guards all of its state;
// every method holds it for its whole (short, allocation-light) duration and
// never calls out while holding it. Values returned (Lock, Share, listings)
// are copies. A *Waiter is immutable after creation, so its accessors may be
// called without any lock.
package lock
