package state

import (
	"bytes"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// NFSv4.0 owner seqids (RFC 7530 §9.1.7-§9.1.9). Each open-owner and
// lock-owner of an NFSv4.0 client orders its requests with a seqid: a
// request whose seqid is one more than the last runs; one with the last
// seqid is a retransmission, answered with the reply the owner's last
// request got, byte for byte; anything else is NFS4ERR_BAD_SEQID. The
// seqid advances on every reply except those listed in §9.1.7
// (seqidKeeps), which are also not kept for replay.
//
// The COMPOUND layer brackets each seqid-bearing operation (OPEN,
// OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU) with BeginSeqid and
// EndSeqid: the owner is busy in between, so its requests run one at a
// time without any lock held across the backend work.

// OwnerKind says whether a seqid belongs to an open-owner or a lock-owner.
type OwnerKind uint8

// Owner kinds.
const (
	OpenOwner OwnerKind = ownerOpen40
	LockOwner OwnerKind = ownerLock40
)

const (
	ownerOpen40 = 1
	ownerLock40 = 2
)

type ownerKey40 struct {
	kind OwnerKind
	id   string
}

// owner40 is the seqid state of one NFSv4.0 owner.
type owner40 struct {
	key     ownerKey40
	client  *client
	seqid   uint32 // last seqid that advanced the owner
	started bool   // seqid is real
	// confirmed: an open-owner has done OPEN_CONFIRM or a reclaim (RFC
	// 7530 §16.18); lock-owners need no confirmation.
	confirmed bool
	busy      bool
	gen       uint64 // tells a Token from an earlier request apart
	used      time.Time
	// The last reply: the operation's encoded result (status first), and
	// for OPEN the filehandle it made current.
	reply  []byte
	op     uint32
	status Status
	fh     []byte
	// closed is the stateid its last CLOSE ended (state40.closed).
	closed    [12]byte
	hasClosed bool
}

// SeqidArgs name the owner of a seqid-bearing NFSv4.0 operation and its
// seqid. An OPEN names its open-owner (ClientID, Owner); the others name
// it through a stateid of it (ByStateid): CLOSE, OPEN_CONFIRM and
// OPEN_DOWNGRADE an open stateid, LOCKU and LOCK with exist_lock_owner4 a
// lock stateid, and LOCK with open_to_lock_owner4 the open stateid, the
// open-owner's seqid (open_seqid) ordering the request, and NewLockOwner
// and LockSeqid the lock-owner it starts (RFC 7530 §16.10.4).
type SeqidArgs struct {
	Kind      OwnerKind
	ClientID  ClientID
	Owner     []byte
	ByStateid bool
	Stateid   Stateid
	Seqid     uint32
	// Op is the operation number: a request with the last seqid is a
	// retransmission only of the operation that used it (else
	// NFS4ERR_BAD_SEQID), so a replay never puts one operation's result
	// under another's number.
	Op uint32
	// Reset: an OPEN may start an unconfirmed open-owner afresh (RFC 7530
	// §16.18.5: the server may forget an unconfirmed open-owner; a client
	// that never confirmed it starts over with any seqid), dropping what
	// it opened.
	Reset bool

	NewLockOwner []byte
	LockSeqid    uint32
}

// SeqidToken ties a running operation to its owner. Pass it to EndSeqid
// exactly once.
type SeqidToken struct {
	ow        *owner40
	gen       uint64
	seqid     uint32
	op        uint32
	newLock   []byte
	lockSeqid uint32
}

// Replay40 is the cached reply of an owner's last request.
type Replay40 struct {
	Status Status
	Reply  []byte // the operation's result, status first
	FH     []byte // OPEN: the filehandle to make current, else nil
}

// SeqidResult is what BeginSeqid decided: Replay, or a Token to run the
// operation with.
type SeqidResult struct {
	Replay *Replay40
	Token  SeqidToken
	// ClientID is the owner's client, for the operation's state calls.
	ClientID ClientID
	// Confirmed says whether the open-owner is confirmed: CLOSE, LOCK,
	// OPEN_DOWNGRADE need it (else NFS4ERR_BAD_STATEID), OPEN_CONFIRM
	// needs it not, and an OPEN by an unconfirmed owner asks for
	// confirmation (OPEN4_RESULT_CONFIRM). Lock-owners are confirmed.
	Confirmed bool
}

// seqidKeeps lists the errors after which the owner's seqid does not
// advance (RFC 7530 §9.1.7); their replies are not kept either.
func seqidKeeps(st Status) bool {
	switch st {
	case nfs4xdr.NFS4ERR_STALE_CLIENTID, nfs4xdr.NFS4ERR_STALE_STATEID, nfs4xdr.NFS4ERR_BAD_STATEID,
		nfs4xdr.NFS4ERR_BAD_SEQID, nfs4xdr.NFS4ERR_BADXDR, nfs4xdr.NFS4ERR_RESOURCE,
		nfs4xdr.NFS4ERR_NOFILEHANDLE, nfs4xdr.NFS4ERR_MOVED:
		return true
	}
	return false
}

// BeginSeqid checks the seqid of an NFSv4.0 owner's request (RFC 7530
// §9.1.7) and renews the client's lease (§9.5).
//
// Errors that come before the owner is known do not touch its seqid: an
// unknown or unconfirmed client ID is NFS4ERR_STALE_CLIENTID, a stateid of
// an earlier boot NFS4ERR_STALE_STATEID, an unknown one, one of an NFSv4.1
// client or of the wrong kind NFS4ERR_BAD_STATEID, a revoked one
// NFS4ERR_EXPIRED. A stateid ended by CLOSE still names its owner, for the
// replay of that CLOSE (its next seqid gets NFS4ERR_BAD_STATEID, as the
// stateid is gone). A new owner accepts any seqid. While an owner's request
// runs, another one is NFS4ERR_DELAY.
//
// The stateid's own seqid is checked later by the operation (OLD_STATEID
// and the like advance the owner's seqid, §9.1.7).
func (m *Manager) BeginSeqid(a SeqidArgs) (SeqidResult, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var c *client
	var key ownerKey40
	if a.ByStateid {
		s := a.Stateid
		if s.IsSpecial() {
			return SeqidResult{}, errBadStateid
		}
		if s.Epoch() != m.opts.BootEpoch {
			return SeqidResult{}, errStaleStateid
		}
		st := m.stateids[s.Other]
		if st == nil {
			return m.closedReplay(s.Other, a.Seqid, a.Op)
		}
		switch {
		case st.client.v40 == nil:
			return SeqidResult{}, errBadStateid
		case st.revoked == revokedExpired:
			return SeqidResult{}, errExpired
		case st.revoked == revokedAdmin:
			return SeqidResult{}, errAdminRevoked
		case st.revoked != notRevoked:
			return SeqidResult{}, errBadStateid
		}
		c = st.client
		switch {
		case a.Kind == OpenOwner && st.kind == kindOpen:
			key = ownerKey40{OpenOwner, st.oo.id}
		case a.Kind == LockOwner && st.kind == kindLock:
			key = ownerKey40{LockOwner, st.lo.id}
		default:
			return SeqidResult{}, errBadStateid
		}
		m.renew(c, now)
	} else {
		if len(a.Owner) == 0 {
			return SeqidResult{}, errInval
		}
		var st Status
		if c, st = m.lookupClient40(a.ClientID, now); st != OK {
			return SeqidResult{}, st
		}
		if c.v40 == nil {
			return SeqidResult{}, errStaleClientID
		}
		key = ownerKey40{a.Kind, string(a.Owner)}
	}
	ow := c.v40.owners[key]
	if ow == nil {
		ow = &owner40{key: key, client: c, confirmed: key.kind == LockOwner}
		c.v40.owners[key] = ow
	}
	if ow.busy {
		return SeqidResult{}, errDelay
	}
	ow.used = now
	switch {
	case ow.started && a.Seqid == ow.seqid && ow.reply != nil && ow.op == a.Op:
		return SeqidResult{ClientID: c.id, Replay: ow.replay()}, OK
	case a.Reset && !ow.confirmed && ow.started:
		m.resetOwner(ow)
	case ow.started && a.Seqid != ow.seqid+1:
		return SeqidResult{}, nfs4xdr.NFS4ERR_BAD_SEQID
	}
	ow.busy = true
	ow.gen++
	t := SeqidToken{ow: ow, gen: ow.gen, seqid: a.Seqid, op: a.Op, lockSeqid: a.LockSeqid}
	if a.NewLockOwner != nil {
		t.newLock = bytes.Clone(a.NewLockOwner)
	}
	return SeqidResult{Token: t, ClientID: c.id, Confirmed: ow.confirmed}, OK
}

// closedReplay answers a request naming a stateid that CLOSE ended.
func (m *Manager) closedReplay(other [12]byte, seqid, op uint32) (SeqidResult, Status) {
	ow := m.v40.closed[other]
	switch {
	case ow == nil:
		return SeqidResult{}, m.goneStatus(other)
	case ow.busy:
		return SeqidResult{}, errBadStateid
	case ow.started && seqid == ow.seqid && ow.reply != nil && ow.op == op:
		ow.used = m.now()
		m.renew(ow.client, m.now())
		return SeqidResult{ClientID: ow.client.id, Replay: ow.replay()}, OK
	case ow.started && seqid != ow.seqid+1:
		return SeqidResult{}, nfs4xdr.NFS4ERR_BAD_SEQID
	}
	return SeqidResult{}, errBadStateid
}

func (ow *owner40) replay() *Replay40 {
	return &Replay40{Status: ow.status, Reply: ow.reply, FH: ow.fh}
}

// resetOwner forgets an unconfirmed open-owner's seqid and closes what it
// opened (it can hold no locks: LOCK needs a confirmed open-owner).
func (m *Manager) resetOwner(ow *owner40) {
	c := ow.client
	if oo := c.openOwners[ow.key.id]; oo != nil {
		for file, open := range oo.opens {
			for l := range open.locks {
				m.dropLockState(l)
			}
			m.locks.Unshare(file, oo.owner())
			m.unlinkOpen(open)
			m.forget(open)
			c.live--
		}
	}
	ow.started, ow.reply, ow.fh = false, nil, nil
}

// EndArgs are the outcome of a seqid-bearing operation for EndSeqid.
type EndArgs struct {
	Status Status
	Reply  []byte // the encoded result, status first (copied)
	FH     []byte // OPEN: the current filehandle after it (copied)
	// Confirm marks the open-owner confirmed: a reclaim OPEN
	// (CLAIM_PREVIOUS) needs no OPEN_CONFIRM.
	Confirm bool
}

// EndSeqid ends the request BeginSeqid let through: unless the status is
// one of RFC 7530 §9.1.7's exceptions the owner's seqid advances to the
// request's and the reply is kept for replay; a new lock-owner's seqid
// starts at the LOCK's lock_seqid. When a confirmed open-owner's OPEN
// succeeds, the client's record is persisted (Effects.Persist): from then
// on it holds state it may reclaim after a restart (NFSv4.0 has no
// RECLAIM_COMPLETE; knfsd records 4.0 clients at the same point).
func (m *Manager) EndSeqid(t SeqidToken, a EndArgs) Effects {
	m.mu.Lock()
	defer m.mu.Unlock()
	ow := t.ow
	if ow == nil || !ow.busy || ow.gen != t.gen {
		return Effects{}
	}
	ow.busy = false
	ow.used = m.now()
	if a.Confirm && a.Status == OK {
		ow.confirmed = true
	}
	if !seqidKeeps(a.Status) {
		ow.seqid, ow.started = t.seqid, true
		ow.status, ow.op = a.Status, t.op
		ow.reply = bytes.Clone(a.Reply)
		ow.fh = bytes.Clone(a.FH)
		if t.newLock != nil && ow.client.v40 != nil {
			k := ownerKey40{LockOwner, string(t.newLock)}
			lo := ow.client.v40.owners[k]
			if lo == nil {
				lo = &owner40{key: k, client: ow.client, confirmed: true}
				ow.client.v40.owners[k] = lo
			}
			if !lo.busy {
				lo.seqid, lo.started, lo.used = t.lockSeqid, true, ow.used
				lo.reply, lo.fh = nil, nil
			}
		}
	}
	var eff Effects
	c := ow.client
	if a.Status == OK && ow.key.kind == OpenOwner && ow.confirmed && !c.persisted && m.clients[c.id] == c {
		c.persisted = true
		eff.Persist = append(eff.Persist, ClientRecord{Owner: []byte(c.owner), Principal: c.principal})
	}
	return eff
}

// OpenConfirm runs the state part of OPEN_CONFIRM (RFC 7530 §16.18),
// between BeginSeqid and EndSeqid: the open stateid's seqid must be the
// current one, which is then incremented; the open-owner becomes
// confirmed and the client's record is persisted.
func (m *Manager) OpenConfirm(id ClientID, file lock.FileKey, s Stateid) (Stateid, Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	open, st := m.lookupState(m.clients[id], s, file, kindOpen)
	if st != OK {
		return Stateid{}, Effects{}, st
	}
	c := open.client
	if c.v40 == nil {
		return Stateid{}, Effects{}, errBadStateid
	}
	ow := c.v40.owners[ownerKey40{OpenOwner, open.oo.id}]
	if ow == nil || ow.confirmed {
		return Stateid{}, Effects{}, errBadStateid
	}
	ow.confirmed = true
	open.bump()
	var eff Effects
	if !c.persisted {
		c.persisted = true
		eff.Persist = append(eff.Persist, ClientRecord{Owner: []byte(c.owner), Principal: c.principal})
	}
	return open.stateid(), eff, OK
}

// closed40 is the NFSv4.0 ending of CLOSE, called by Close once the open
// is gone: the reply carries the open stateid with its seqid incremented
// (RFC 7530 §16.2.4; NFSv4.1 answers the invalid special stateid), and the
// stateid is remembered for the replay of this CLOSE.
func (m *Manager) closed40(open *stateRec) Stateid {
	open.bump()
	c := open.client
	if ow := c.v40.owners[ownerKey40{OpenOwner, open.oo.id}]; ow != nil {
		if ow.hasClosed {
			delete(m.v40.closed, ow.closed)
		}
		if m.v40.closed == nil {
			m.v40.closed = make(map[[12]byte]*owner40)
		}
		ow.closed, ow.hasClosed = open.other, true
		m.v40.closed[open.other] = ow
	}
	return open.stateid()
}
