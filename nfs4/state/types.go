package state

import (
	"encoding/binary"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// Status is an NFSv4 status code. The state layer answers protocol errors
// (BAD_STATEID, SEQ_MISORDERED, GRACE, ...) as typed statuses, never as Go
// errors, so the COMPOUND layer puts them on the wire unchanged.
type Status = nfs4xdr.Nfsstat4

// OK is NFS4_OK, for brevity.
const OK = nfs4xdr.NFS4_OK

// ClientID is a client ID (clientid4). Its high 32 bits are the boot epoch
// of the server instance that issued it, its low 32 bits a counter, so an ID
// from an earlier boot is recognised as stale (RFC 8881 §2.4).
type ClientID uint64

// SessionID is a session ID (sessionid4): the client ID (8 bytes), the boot
// epoch (4) and a counter (4), all big-endian.
type SessionID [16]byte

// Verifier is an 8-byte verifier (verifier4), such as co_verifier.
type Verifier [8]byte

// ConnID names one transport connection. The caller picks the values (any
// unique number per connection for the life of the server) and reports a
// closed connection with ConnClosed; the state package only compares them.
type ConnID uint64

// Stateid is a stateid4 (RFC 8881 §8.2). Other is 4 bytes of boot epoch
// followed by an 8-byte counter that is never reused within a boot.
type Stateid struct {
	Seqid uint32
	Other [12]byte
}

// ConnDir is a channel direction. Request values are those of
// channel_dir_from_client4 and reply values those of
// channel_dir_from_server4 (RFC 8881 §18.34), so the caller converts with
// a cast.
type ConnDir uint32

// Channel directions.
const (
	ConnFore       ConnDir = 1 // CDFC4_FORE, CDFS4_FORE
	ConnBack       ConnDir = 2 // CDFC4_BACK, CDFS4_BACK
	ConnBoth       ConnDir = 3 // CDFS4_BOTH
	ConnForeOrBoth ConnDir = 3 // CDFC4_FORE_OR_BOTH
	ConnBackOrBoth ConnDir = 7 // CDFC4_BACK_OR_BOTH
)

// StateProtect is the spa_how of EXCHANGE_ID (RFC 8881 §18.35).
type StateProtect uint32

// State protection kinds; only ProtectNone is implemented.
const (
	ProtectNone     StateProtect = 0 // SP4_NONE
	ProtectMachCred StateProtect = 1 // SP4_MACH_CRED
	ProtectSSV      StateProtect = 2 // SP4_SSV
)

// ChannelAttrs are channel_attrs4 (RFC 8881 §18.36) without the RDMA
// fields: RDMA is not offered, so ca_rdma_ird is always empty in replies.
type ChannelAttrs struct {
	HeaderPadSize         uint32
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	MaxRequests           uint32 // slots
}

// CallbackSec is one entry of csa_sec_parms: a flavor and its parameters in
// whatever form the callback sender wants (for AUTH_SYS, the encoded
// authsys_parms). The state package stores it and hands it back.
type CallbackSec struct {
	Flavor uint32
	Body   []byte
}

// ClientRecord is what the recovery store keeps about a client so that,
// after a restart, the client may reclaim its state during the grace period
// (RFC 8881 §8.4.2.1). Records are keyed by Owner.
type ClientRecord struct {
	Owner     []byte // co_ownerid
	Principal string
}

// Effects is work the caller must do after a method returns, outside the
// Manager's lock. The zero value means nothing to do. See doc.go.
type Effects struct {
	// Remove lists recovery-store records to delete, Persist records to
	// write (replacing one with the same Owner). Apply Remove first, and
	// both before sending the reply of the operation that produced them.
	Remove  []ClientRecord
	Persist []ClientRecord
	// Woken lists NLM requests granted because NFSv4 locks went away: hand
	// them to nlm.Server.Wake so it sends NLM_GRANTED.
	Woken []*lock.Waiter
	// Recalls are CB_RECALLs to send, each from a goroutine of the
	// caller's, never on the request path (deleg.go).
	Recalls []Recall
}

// Empty reports whether there is nothing to do.
func (e Effects) Empty() bool {
	return len(e.Remove) == 0 && len(e.Persist) == 0 && len(e.Woken) == 0 && len(e.Recalls) == 0
}

// Options configure a Manager. The zero value works.
type Options struct {
	// Now is the clock; nil means time.Now. It is read only by Manager
	// methods, under the Manager's lock.
	Now func() time.Time
	// Lease is the lease time (fattr4 lease_time); zero means 90s.
	Lease time.Duration
	// Grace is how long after New reclaims are accepted; zero means Lease.
	Grace time.Duration
	// CourtesyLimit is how long an expired client that still holds state
	// keeps it while nobody conflicts with it; zero means 24h.
	CourtesyLimit time.Duration
	// MaxCourtesyClients bounds the expired clients kept; beyond it Tick
	// destroys the longest-expired first. Zero means 1024.
	MaxCourtesyClients int
	// Locks is the byte-range lock and share table shared with NLM. Nil
	// means a private table (tests, NFSv4-only servers).
	Locks *lock.Table
	// ServerOwner is eir_server_owner.so_major_id and ServerScope
	// eir_server_scope (RFC 8881 §2.5). Both must be stable across restarts
	// and differ between servers; nil means "gonfs".
	ServerOwner, ServerScope []byte
	// BootEpoch distinguishes this server instance from earlier ones; it is
	// put into every client ID, session ID and stateid. The caller stores
	// and increments it across restarts (recovery store).
	BootEpoch uint32
	// MaxSessionsPerClient: zero means 16. MaxSlots bounds the fore channel
	// slots of a session: zero means 64. MaxBackSlots bounds back channel
	// slots: zero means 1. MaxOpensPerClient bounds open and lock stateids
	// of one client: zero means 65536.
	MaxSessionsPerClient int
	MaxSlots             int
	MaxBackSlots         int
	MaxOpensPerClient    int
	// Fore channel limits offered in CREATE_SESSION; zero means the
	// default: 1 MiB + 16 KiB for requests and responses, 8 KiB for cached
	// responses, 64 operations.
	MaxRequestSize        uint32
	MaxResponseSize       uint32
	MaxResponseSizeCached uint32
	MaxOperations         uint32
	// MaxCachedReplyBytes bounds the bytes of session reply caches, all
	// sessions together: zero means 256 MiB, and it is never less than
	// MaxResponseSizeCached. A SEQUENCE asking for its reply to be cached
	// that would go beyond it gets NFS4ERR_DELAY, and beyond three
	// quarters of it SEQUENCE asks clients to use fewer slots
	// (replycache.go).
	MaxCachedReplyBytes int64
	// PreviousClients are the records the recovery store held at start:
	// the clients allowed to reclaim during the grace period.
	PreviousClients []ClientRecord
	// NoDelegations turns delegations off (RFC 8881 §10.2: a server
	// need not grant any); SetDelegations changes it at run time.
	// DelegCooldown is how long after a recall a file gets no new
	// delegation; zero means 10s (deleg.go).
	NoDelegations bool
	DelegCooldown time.Duration
	// OnClientEvent, when set, hears of client records made, replaced
	// and refused (events.go), in order, after the Manager's lock is
	// released. It must not call the Manager.
	OnClientEvent func(ClientEvent)
}

// Special stateids (RFC 8881 §8.2.3).
var (
	// AnonymousStateid is all zeros.
	AnonymousStateid = Stateid{}
	// BypassStateid (READ bypass) is all ones.
	BypassStateid = Stateid{Seqid: 0xffffffff, Other: [12]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	// CurrentStateid stands for the COMPOUND's current stateid.
	CurrentStateid = Stateid{Seqid: 1}
	// InvalidStateid is never valid; CLOSE returns it (RFC 8881 §18.2.4).
	InvalidStateid = Stateid{Seqid: 0xffffffff}
)

var otherOnes = BypassStateid.Other

// IsSpecial reports whether s has one of the reserved "other" values (all
// zeros or all ones), whatever its seqid.
func (s Stateid) IsSpecial() bool { return s.Other == [12]byte{} || s.Other == otherOnes }

// IsAnonymous reports whether s is the anonymous stateid.
func (s Stateid) IsAnonymous() bool { return s == AnonymousStateid }

// IsBypass reports whether s is the READ bypass stateid.
func (s Stateid) IsBypass() bool { return s == BypassStateid }

// IsCurrent reports whether s is the current-stateid placeholder, which the
// COMPOUND layer replaces with the current stateid before calling in
// (RFC 8881 §16.2.3.1.2).
func (s Stateid) IsCurrent() bool { return s == CurrentStateid }

// IsInvalid reports whether s is the invalid special stateid.
func (s Stateid) IsInvalid() bool { return s == InvalidStateid }

// Epoch returns the boot epoch encoded in a non-special stateid.
func (s Stateid) Epoch() uint32 { return binary.BigEndian.Uint32(s.Other[:4]) }

// Epoch returns the boot epoch of the server that issued id.
func (id ClientID) Epoch() uint32 { return uint32(id >> 32) }

// ClientID returns the client a session belongs to.
func (s SessionID) ClientID() ClientID { return ClientID(binary.BigEndian.Uint64(s[:8])) }
