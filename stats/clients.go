package stats

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// clientTable counts per client address, for at most max clients. It is
// sharded by address so that clients on different shards never share a
// lock; a shard evicts its least recently seen client when full.
type clientTable struct {
	shards   []clientShard
	mask     uint64
	perShard int
}

type clientShard struct {
	mu      sync.RWMutex
	m       map[netip.Addr]*clientCounter
	tick    atomic.Uint64 // recency clock of this shard
	evicted ClientCounts  // totals of evicted clients; under mu
	nEvict  uint64        // under mu
	_       [64]byte      // keep shards' locks off each other's cache line
}

type clientCounter struct {
	last      atomic.Uint64 // shard tick when last seen
	calls     atomic.Uint64
	rpcErrors atomic.Uint64
	ops       atomic.Uint64
	opErrors  atomic.Uint64
	opNanos   atomic.Uint64
}

// clientDelta is what one record adds to a client.
type clientDelta struct {
	calls, rpcErrors, ops, opErrors, opNanos uint64
}

func (t *clientTable) init(max int) {
	n := 1
	if max >= 256 {
		n = 16 // a shard still holds at least 16 clients
	}
	t.shards = make([]clientShard, n)
	t.mask = uint64(n - 1)
	t.perShard = (max + n - 1) / n
	for i := range t.shards {
		t.shards[i].m = make(map[netip.Addr]*clientCounter)
	}
}

func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	x := binary.LittleEndian.Uint64(b[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[8:]), 29)
	x *= 0x9e3779b97f4a7c15
	return x >> 40
}

// record adds d to the client a. A known client costs a read lock; the
// counters are added under it so that an eviction, which takes the write
// lock, never loses them.
func (t *clientTable) record(a netip.Addr, d clientDelta) {
	sh := &t.shards[hashAddr(a)&t.mask]
	sh.mu.RLock()
	if c := sh.m[a]; c != nil {
		c.add(&d, sh.tick.Add(1))
		sh.mu.RUnlock()
		return
	}
	sh.mu.RUnlock()
	sh.mu.Lock()
	c := sh.m[a]
	if c == nil {
		if len(sh.m) >= t.perShard {
			sh.evictLocked()
		}
		c = new(clientCounter)
		sh.m[a] = c
	}
	c.add(&d, sh.tick.Add(1))
	sh.mu.Unlock()
}

func (c *clientCounter) add(d *clientDelta, now uint64) {
	c.last.Store(now)
	if d.calls != 0 {
		c.calls.Add(d.calls)
	}
	if d.rpcErrors != 0 {
		c.rpcErrors.Add(d.rpcErrors)
	}
	if d.ops != 0 {
		c.ops.Add(d.ops)
	}
	if d.opErrors != 0 {
		c.opErrors.Add(d.opErrors)
	}
	if d.opNanos != 0 {
		c.opNanos.Add(d.opNanos)
	}
}

func (c *clientCounter) counts() ClientCounts {
	return ClientCounts{
		Calls: c.calls.Load(), RPCErrors: c.rpcErrors.Load(),
		Ops: c.ops.Load(), OpErrors: c.opErrors.Load(), OpTime: time.Duration(c.opNanos.Load()),
	}
}

// evictLocked drops the least recently seen client, keeping its counts in
// the evicted totals. The scan is over one shard, and happens only when a
// new client arrives at a full table.
func (sh *clientShard) evictLocked() {
	var (
		victim netip.Addr
		oldest uint64 = 1<<64 - 1
	)
	for a, c := range sh.m {
		if l := c.last.Load(); l < oldest {
			victim, oldest = a, l
		}
	}
	if c := sh.m[victim]; c != nil {
		sh.evicted.add(c.counts())
		sh.nEvict++
		delete(sh.m, victim)
	}
}

// ClientCounts are the totals of one client.
type ClientCounts struct {
	Calls     uint64        // RPC calls, of any program
	RPCErrors uint64        // calls whose RPC status was not SUCCESS
	Ops       uint64        // NFS operations (NFSv3 procedures, NFSv4 operations)
	OpErrors  uint64        // operations whose NFS status was not OK
	OpTime    time.Duration // total time of the operations
}

func (c *ClientCounts) add(o ClientCounts) {
	c.Calls += o.Calls
	c.RPCErrors += o.RPCErrors
	c.Ops += o.Ops
	c.OpErrors += o.OpErrors
	c.OpTime += o.OpTime
}

// ClientStats are the counts of one client address.
type ClientStats struct {
	Addr netip.Addr
	ClientCounts
}

func (t *clientTable) snapshot() (list []ClientStats, evicted ClientCounts, nEvict uint64) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for a, c := range sh.m {
			list = append(list, ClientStats{Addr: a, ClientCounts: c.counts()})
		}
		evicted.add(sh.evicted)
		nEvict += sh.nEvict
		sh.mu.RUnlock()
	}
	return list, evicted, nEvict
}

// exportTable counts per export in a fixed open-addressed table: slot
// keys (ID+1) are claimed by compare-and-swap and never released, as
// exports are few and long-lived.
type exportTable struct {
	slots    [maxExports]exportCounter
	overflow exportCounter
}

type exportCounter struct {
	key    atomic.Uint64 // export ID + 1; 0 while free
	ops    atomic.Uint64
	errors atomic.Uint64
	nanos  atomic.Uint64
}

func (t *exportTable) record(id uint32, failed uint64, d time.Duration) {
	c := t.find(id)
	c.ops.Add(1)
	if failed != 0 {
		c.errors.Add(failed)
	}
	c.nanos.Add(uint64(max(d, 0)))
}

func (t *exportTable) find(id uint32) *exportCounter {
	key := uint64(id) + 1
	h := uint64(id) * 0x9e3779b97f4a7c15 >> 56
	for i := range uint64(maxExports) {
		c := &t.slots[(h+i)%maxExports]
		k := c.key.Load()
		if k == 0 {
			if c.key.CompareAndSwap(0, key) {
				return c
			}
			k = c.key.Load()
		}
		if k == key {
			return c
		}
	}
	return &t.overflow
}

// ExportStats are the counts of one export.
type ExportStats struct {
	// ID is the export's ID (namespace.Export.ID), or OtherExport for
	// the exports beyond the table's size together.
	ID     uint32
	Ops    uint64        // NFS operations on the export's files
	Errors uint64        // of which failed
	OpTime time.Duration // total time of the operations
}

func (c *exportCounter) snapshot(id uint32) ExportStats {
	return ExportStats{ID: id, Ops: c.ops.Load(), Errors: c.errors.Load(), OpTime: time.Duration(c.nanos.Load())}
}

func (t *exportTable) snapshot() []ExportStats {
	var list []ExportStats
	for i := range t.slots {
		if k := t.slots[i].key.Load(); k != 0 {
			if e := t.slots[i].snapshot(uint32(k - 1)); e.Ops > 0 {
				list = append(list, e)
			}
		}
	}
	if e := t.overflow.snapshot(OtherExport); e.Ops > 0 {
		list = append(list, e)
	}
	return list
}
