package nfs4

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// The callback sender (RFC 8881 §2.10.3.1, §20): CB_NULL probes and
// CB_COMPOUNDs over the back channel connection the state picks for a
// client, with the credential the client asked for in CREATE_SESSION or
// BACKCHANNEL_CTL. Its verdict on the path goes back to the state
// (SetCallbackDown), which SEQUENCE reports as SEQ4_STATUS_CB_PATH_DOWN
// so that the client binds a new connection.
//
// The back channel has one slot (state.Options.MaxBackSlots defaults to
// 1, and the state grants no more): callbacks to one session go one at a
// time, each CB_SEQUENCE carrying the slot's next sequence ID.

// ErrNoBackchannel is returned by SendCallback when the client has no
// usable back channel.
var ErrNoBackchannel = errors.New("nfs4: client has no back channel")

// callbacks is the callback sender's state: the back channel slot of each
// session.
type callbacks struct {
	s       *Server
	timeout time.Duration

	mu    sync.Mutex
	slots map[state.SessionID]*cbSlot
}

// cbSlot is back channel slot 0 of a session. mu is held for a whole
// callback: the slot carries one request at a time (RFC 8881 §2.10.6.1).
type cbSlot struct {
	mu  sync.Mutex
	seq uint32 // the sequence ID of the last request the client answered
	// minor is the minor version of the CREATE_SESSION that made the
	// session: CB_COMPOUND carries it, since a client answers callbacks
	// of another minor version NFS4ERR_MINOR_VERS_MISMATCH (RFC 8881
	// §20.9.3, RFC 7862 §1.4). Zero (unknown) means 1.
	minor uint32
}

func (cb *callbacks) init(s *Server, timeout time.Duration) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cb.s, cb.timeout = s, timeout
	cb.slots = make(map[state.SessionID]*cbSlot)
}

func (cb *callbacks) slot(id state.SessionID) *cbSlot {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	sl := cb.slots[id]
	if sl == nil {
		sl = &cbSlot{}
		cb.slots[id] = sl
	}
	return sl
}

// setMinor records the minor version of a new session's callbacks.
func (cb *callbacks) setMinor(id state.SessionID, minor uint32) {
	sl := cb.slot(id)
	sl.mu.Lock()
	sl.minor = minor
	sl.mu.Unlock()
}

// forget drops a destroyed session's slot.
func (cb *callbacks) forget(id state.SessionID) {
	cb.mu.Lock()
	delete(cb.slots, id)
	cb.mu.Unlock()
}

// probe checks a client's back channel with CB_NULL in the background and
// records the verdict.
func (cb *callbacks) probe(id state.ClientID) {
	cb.s.spawn(func(ctx context.Context) {
		err := cb.null(ctx, id)
		if err != nil {
			cb.s.log.Info("nfs4: callback probe failed", "client", fmt.Sprintf("%016x", uint64(id)), "err", err)
		} else {
			cb.s.log.Debug("nfs4: callback probe answered", "client", fmt.Sprintf("%016x", uint64(id)))
		}
		cb.s.state.SetCallbackDown(id, err != nil)
	})
}

// target finds the connection and credential for a client's callbacks.
func (cb *callbacks) target(id state.ClientID) (state.Backchannel, *sunrpc.Conn, *rpcxdr.OpaqueAuth, error) {
	bc, ok := cb.s.state.Backchannel(id)
	if !ok {
		return bc, nil, nil, ErrNoBackchannel
	}
	conn := cb.s.conn(bc.Conn)
	if conn == nil {
		return bc, nil, nil, ErrNoBackchannel
	}
	cred, ok := callbackCred(bc.Sec)
	if !ok {
		return bc, nil, nil, fmt.Errorf("%w: no usable callback security flavor", ErrNoBackchannel)
	}
	return bc, conn, cred, nil
}

// callbackCred picks the first flavor the sender can use. An empty list
// (a client that named only RPCSEC_GSS) leaves none.
func callbackCred(sec []state.CallbackSec) (*rpcxdr.OpaqueAuth, bool) {
	for _, s := range sec {
		switch rpcxdr.AuthFlavor(s.Flavor) {
		case rpcxdr.AUTH_NONE:
			return nil, true
		case rpcxdr.AUTH_SYS:
			return &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: s.Body}, true
		}
	}
	return nil, false
}

func (cb *callbacks) null(ctx context.Context, id state.ClientID) error {
	bc, conn, cred, err := cb.target(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cb.timeout)
	defer cancel()
	return conn.Call(ctx, bc.Program, nfs4xdr.NFS_CB, nfs4xdr.CB_NULL, cred, nil, nil)
}

// SendCallback sends ops to a client in one CB_COMPOUND, after the
// CB_SEQUENCE that puts it in the client's back channel slot 0
// (RFC 8881 §20.9, §20.2). For an NFSv4.0 client it is a CB_COMPOUND of
// minor version 0 with the client's callback_ident and no CB_SEQUENCE,
// sent to the address of its SETCLIENTID (RFC 7530 §16.33, callback40.go). It returns the client's reply, whatever its
// status; an error means the callback did not get an answer (no back
// channel, transport failure, timeout), and marks the path down.
//
// The slot's sequence ID advances when the client answered CB_SEQUENCE
// with NFS4_OK; after a lost reply the next callback reuses it, which the
// client answers from its slot, as a retry (§2.10.6.1).
func (s *Server) SendCallback(ctx context.Context, id state.ClientID, ops ...nfs4xdr.NfsCbArgop4) (*nfs4xdr.CB_COMPOUND4res, error) {
	return s.cb.send(ctx, id, ops)
}

func (cb *callbacks) send(ctx context.Context, id state.ClientID, ops []nfs4xdr.NfsCbArgop4) (*nfs4xdr.CB_COMPOUND4res, error) {
	// NFSv4.0 clients are called back at the address they named in
	// SETCLIENTID, without CB_SEQUENCE (callback40.go).
	if path, ok := cb.s.state.Callback40(id); ok {
		return cb.send40(ctx, id, path, ops)
	}
	bc, conn, cred, err := cb.target(id)
	if err != nil {
		cb.s.state.SetCallbackDown(id, true)
		return nil, err
	}
	sl := cb.slot(bc.SessionID)
	sl.mu.Lock()
	defer sl.mu.Unlock()
	seqArg := nfs4xdr.NfsCbArgop4{Argop: nfs4xdr.OP_CB_SEQUENCE, Opcbsequence: nfs4xdr.CB_SEQUENCE4args{
		CsaSessionid:  nfs4xdr.Sessionid4(bc.SessionID),
		CsaSequenceid: nfs4xdr.Sequenceid4(sl.seq + 1),
	}}
	minor := max(sl.minor, 1)
	args := nfs4xdr.CB_COMPOUND4args{Minorversion: minor, Argarray: append([]nfs4xdr.NfsCbArgop4{seqArg}, ops...)}
	var res nfs4xdr.CB_COMPOUND4res
	ctx, cancel := context.WithTimeout(ctx, cb.timeout)
	defer cancel()
	if err := conn.Call(ctx, bc.Program, nfs4xdr.NFS_CB, nfs4xdr.CB_COMPOUND, cred, &args, &res); err != nil {
		var acc *sunrpc.AcceptError
		if !errors.As(err, &acc) {
			cb.s.state.SetCallbackDown(id, true)
		}
		return nil, err
	}
	if len(res.Resarray) > 0 && res.Resarray[0].Resop == nfs4xdr.OP_CB_SEQUENCE &&
		res.Resarray[0].Opcbsequence.CsrStatus == nfs4xdr.NFS4_OK {
		sl.seq++
	}
	cb.s.state.SetCallbackDown(id, false)
	return &res, nil
}
