package state

import (
	"slices"
	"sync"
	"time"
)

// ClientEventKind says what happened to the records of one client owner.
type ClientEventKind uint8

// Client event kinds.
const (
	// ClientNew: EXCHANGE_ID (or SETCLIENTID) made a record for an owner
	// with no confirmed record (RFC 8881 §18.35.4 cases 1, 3 without
	// state, and 4).
	ClientNew ClientEventKind = iota + 1
	// ClientRestart: a new record beside the owner's confirmed one, with
	// another verifier or principal: the client says it restarted (case
	// 5). Nothing is destroyed yet.
	ClientRestart
	// ClientReplaced: the new record was confirmed and the previous
	// incarnation destroyed with its sessions and state (§18.36.4): a
	// teardown. Prev* describe the destroyed record.
	ClientReplaced
	// ClientInUse: refused with NFS4ERR_CLID_INUSE, another principal
	// holds the owner's state (case 3).
	ClientInUse
)

var eventKindNames = [...]string{ClientNew: "new", ClientRestart: "restart", ClientReplaced: "replaced", ClientInUse: "in-use"}

func (k ClientEventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return "unknown"
}

// ClientEvent is one change to an owner's client records, for
// Options.OnClientEvent: the raw material for telling a client that
// restarted from two machines that share one owner string.
type ClientEvent struct {
	Kind      ClientEventKind
	Time      time.Time // the Manager's clock
	Owner     []byte    // co_ownerid (or the SETCLIENTID id), raw
	Addr      string    // source address of the request, as the caller gave it
	Verifier  Verifier
	Principal string
	ClientID  ClientID
	// For ClientReplaced: the destroyed record.
	PrevClientID  ClientID
	PrevVerifier  Verifier
	PrevPrincipal string
	PrevAddrs     []string
}

// eventQueue holds client events produced under the Manager's lock until
// they are handed to Options.OnClientEvent outside it. sendMu keeps the
// batches in order when two methods finish at once.
type eventQueue struct {
	pending []ClientEvent // under Manager.mu
	sendMu  sync.Mutex
}

// noteEvent queues ev (under m.mu). Without a hook nothing is kept.
func (m *Manager) noteEvent(ev ClientEvent) {
	if m.opts.OnClientEvent == nil {
		return
	}
	ev.Time = m.now()
	// Bounded, should a method that queues events lack its flush: the
	// oldest go first.
	m.events.pending = appendBounded(m.events.pending, ev, maxPendingEvents)
}

const maxPendingEvents = 256

// noteNewRecord queues the event of a record EXCHANGE_ID or SETCLIENTID
// just made for c's owner; conf is the owner's confirmed record, if any.
func (m *Manager) noteNewRecord(c, conf *client) {
	kind := ClientNew
	if conf != nil {
		kind = ClientRestart
	}
	m.noteEvent(ClientEvent{Kind: kind, Owner: []byte(c.owner), Addr: lastAddr(c), Verifier: c.verifier,
		Principal: c.principal, ClientID: c.id})
}

// noteReplaced queues the teardown of old by its new incarnation c.
func (m *Manager) noteReplaced(c, old *client) {
	m.noteEvent(ClientEvent{Kind: ClientReplaced, Owner: []byte(c.owner), Addr: lastAddr(c), Verifier: c.verifier,
		Principal: c.principal, ClientID: c.id, PrevClientID: old.id, PrevVerifier: old.verifier,
		PrevPrincipal: old.principal, PrevAddrs: slices.Clone(old.addrs)})
}

func lastAddr(c *client) string {
	if len(c.addrs) == 0 {
		return ""
	}
	return c.addrs[len(c.addrs)-1]
}

// flushEvents hands the queued events to the hook. Methods that can queue
// events (ExchangeID, CreateSession; SetClientID and SetClientIDConfirm
// for NFSv4.0) defer it before taking m.mu, so it runs after the unlock.
func (m *Manager) flushEvents() {
	if m.opts.OnClientEvent == nil {
		return
	}
	m.events.sendMu.Lock()
	defer m.events.sendMu.Unlock()
	m.mu.Lock()
	evs := m.events.pending
	m.events.pending = nil
	m.mu.Unlock()
	for _, ev := range evs {
		m.opts.OnClientEvent(ev)
	}
}
