package sunrpc

import (
	"hash/crc32"
	"net/netip"
	"sync"
	"time"
)

// DRCOptions bound the duplicate request cache. The zero value gives the
// defaults.
type DRCOptions struct {
	// Disabled turns the cache off: every call runs.
	Disabled bool
	// MaxEntries bounds the completed replies kept (default 4096).
	MaxEntries int
	// MaxBytes bounds the bytes of completed replies kept (default 16 MiB).
	// A reply larger than MaxBytes/16 is not kept.
	MaxBytes int
	// MaxAge is how long a completed reply is kept (default 2 minutes,
	// longer than the retransmission horizon of NFS clients over TCP).
	MaxAge time.Duration
}

// drcKey identifies a call. The client's port is left out on purpose: Linux
// reconnects from a new port after a broken connection and retransmits
// there. The checksum of the arguments guards against a reused xid.
type drcKey struct {
	addr                          netip.Addr
	xid, prog, vers, proc, argsum uint32
	argLen                        int
}

// drcSumLen bounds the bytes of the arguments the key's checksum covers.
// The key only has to tell a retransmission from a new call that reuses
// an xid (a client that restarted, or wrapped its xids); the first bytes
// (file handle, offset, name) and the length do that, as in knfsd, whose
// cache sums the first 256 bytes. Summing a whole 1 MiB WRITE cost 4 % of
// the server's CPU, on the connection's reading goroutine.
const drcSumLen = 256

// argSum is the checksum of the key for arguments args.
func argSum(args []byte) uint32 {
	return crc32.Checksum(args[:min(len(args), drcSumLen)], crcTable)
}

type drcState int

const (
	drcMiss       drcState = iota // not seen: the caller runs it and calls finish
	drcInProgress                 // a copy is running: drop this one
	drcDone                       // answered: replay the reply
)

type drcEntry struct {
	key        drcKey
	done       bool
	reply      []byte // the reply without record mark; nil for NoReply
	at         time.Time
	prev, next *drcEntry // LRU list of done entries, most recent at head
}

// drc is the duplicate request cache for non-idempotent procedures. Entries
// of running calls live only in the map (their number is bounded by the
// in-flight limit); completed ones are also on an LRU list and are evicted
// by count, bytes and age.
type drc struct {
	opts  DRCOptions
	clock func() time.Time

	mu    sync.Mutex
	m     map[drcKey]*drcEntry
	head  drcEntry // sentinel of the LRU ring
	count int      // done entries
	bytes int      // bytes of done replies
}

func newDRC(opts DRCOptions, clock func() time.Time) *drc {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 4096
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 16 << 20
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 2 * time.Minute
	}
	d := &drc{opts: opts, clock: clock, m: make(map[drcKey]*drcEntry)}
	d.head.prev, d.head.next = &d.head, &d.head
	return d
}

// begin looks k up. On drcMiss it records the call as in progress; the
// caller must later call finish or abort. On drcDone it returns the cached
// reply, which is never modified afterwards.
func (d *drc) begin(k drcKey) (drcState, []byte) {
	now := d.clock()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if e, ok := d.m[k]; ok {
		if !e.done {
			return drcInProgress, nil
		}
		if now.Sub(e.at) <= d.opts.MaxAge {
			d.unlink(e)
			d.pushFront(e)
			return drcDone, e.reply
		}
		d.remove(e)
	}
	d.m[k] = &drcEntry{key: k}
	return drcMiss, nil
}

// finish stores reply (copied) for a call begun with drcMiss.
func (d *drc) finish(k drcKey, reply []byte, noReply bool) {
	now := d.clock()
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[k]
	if !ok || e.done {
		return
	}
	if !noReply && len(reply) > d.opts.MaxBytes/16 {
		// Too big to keep: a retransmission runs the call again.
		delete(d.m, k)
		return
	}
	if !noReply {
		e.reply = append([]byte(nil), reply...)
	}
	e.done = true
	e.at = now
	d.pushFront(e)
	d.count++
	d.bytes += len(e.reply)
	for d.count > d.opts.MaxEntries || d.bytes > d.opts.MaxBytes {
		d.remove(d.head.prev)
	}
	d.expire(now)
}

// abort forgets a call begun with drcMiss that will not run.
func (d *drc) abort(k drcKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.m[k]; ok && !e.done {
		delete(d.m, k)
	}
}

// expire drops completed entries older than MaxAge from the tail of the
// LRU list. A hit moves an entry to the head without renewing its age, so an
// old entry can hide behind a younger one at the tail; begin checks the age
// of every hit itself, and the count and byte bounds catch the rest.
func (d *drc) expire(now time.Time) {
	for e := d.head.prev; e != &d.head && now.Sub(e.at) > d.opts.MaxAge; e = d.head.prev {
		d.remove(e)
	}
}

func (d *drc) remove(e *drcEntry) {
	d.unlink(e)
	delete(d.m, e.key)
	d.count--
	d.bytes -= len(e.reply)
}

func (d *drc) unlink(e *drcEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (d *drc) pushFront(e *drcEntry) {
	e.prev = &d.head
	e.next = d.head.next
	d.head.next.prev = e
	d.head.next = e
}
