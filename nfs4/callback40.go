package nfs4

import (
	"context"
	"errors"
	"fmt"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/portmap"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// The NFSv4.0 callback path (RFC 7530 §3.3.3, §16.33, §16.34): the server
// connects to the address the client named in SETCLIENTID (cb_location),
// never to any other, and calls program cb_program version 1 there:
// CB_NULL to probe the path after SETCLIENTID_CONFIRM, CB_COMPOUND with
// minor version 0 and the client's callback_ident for recalls. There is
// no CB_SEQUENCE and no slot.
//
// Each callback dials its own connection and closes it when answered:
// callbacks are rare (a probe per confirm, a recall per conflict), and a
// connection kept open would need a goroutine and a reconnect policy for
// every client. The verdict on the path goes to the state
// (SetCallbackDown): RENEW answers NFS4ERR_CB_PATH_DOWN from it, and no
// delegation is granted while it is down.

// cbCred40 is the credential of NFSv4.0 callbacks: AUTH_SYS as root of
// the server machine, which Linux's callback server accepts (it refuses
// AUTH_NONE for CB_COMPOUND).
var cbCred40 = rpcxdr.AuthsysParms{Machinename: "gonfs", Uid: 0, Gid: 0}

// dial40 connects to a client's callback address.
func (cb *callbacks) dial40(ctx context.Context, path state.Callback40) (*sunrpc.Client, error) {
	if path.Addr == "" {
		return nil, fmt.Errorf("%w: no usable callback address", ErrNoBackchannel)
	}
	ap, err := portmap.ParseUAddr(path.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBackchannel, err)
	}
	network := "tcp4"
	if path.Netid == "tcp6" {
		network = "tcp6"
	}
	return sunrpc.Dial(ctx, network, ap.String(), sunrpc.ClientOptions{Auth: &cbCred40})
}

// probe40 checks an NFSv4.0 client's callback path with CB_NULL in the
// background and records the verdict.
func (cb *callbacks) probe40(id state.ClientID) {
	cb.s.spawn(func(ctx context.Context) {
		path, ok := cb.s.state.Callback40(id)
		switch {
		case !ok:
			return
		case path.Addr == "":
			// No callbacks (pynfs names 0.0.0.0.0.0 for that): the
			// path stays down, nothing to try or to log.
			cb.s.state.SetCallbackDown(id, true)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, cb.timeout)
		defer cancel()
		err := cb.call40(ctx, path, nfs4xdr.CB_NULL, nil, nil)
		if err != nil {
			cb.s.log.Info("nfs4: callback probe failed", "client", fmt.Sprintf("%016x", uint64(id)),
				"addr", path.Addr, "err", err)
		} else {
			cb.s.log.Debug("nfs4: callback probe answered", "client", fmt.Sprintf("%016x", uint64(id)))
		}
		// A path changed again meanwhile is probed again by its own
		// confirm; this verdict is about the path probed.
		if now, ok := cb.s.state.Callback40(id); ok && now == path {
			cb.s.state.SetCallbackDown(id, err != nil)
		}
	})
}

// call40 makes one call to a callback path on a connection of its own.
func (cb *callbacks) call40(ctx context.Context, path state.Callback40, proc uint32, args *nfs4xdr.CB_COMPOUND4args, res *nfs4xdr.CB_COMPOUND4res) error {
	cl, err := cb.dial40(ctx, path)
	if err != nil {
		return err
	}
	defer cl.Close()
	if args == nil {
		return cl.Call(ctx, path.Program, nfs4xdr.NFS_CB, proc, nil, nil)
	}
	return cl.Call(ctx, path.Program, nfs4xdr.NFS_CB, proc, args, res)
}

// send40 is SendCallback for an NFSv4.0 client.
func (cb *callbacks) send40(ctx context.Context, id state.ClientID, path state.Callback40, ops []nfs4xdr.NfsCbArgop4) (*nfs4xdr.CB_COMPOUND4res, error) {
	args := nfs4xdr.CB_COMPOUND4args{Minorversion: 0, CallbackIdent: path.Ident, Argarray: ops}
	var res nfs4xdr.CB_COMPOUND4res
	ctx, cancel := context.WithTimeout(ctx, cb.timeout)
	defer cancel()
	if err := cb.call40(ctx, path, nfs4xdr.CB_COMPOUND, &args, &res); err != nil {
		var acc *sunrpc.AcceptError
		if !errors.As(err, &acc) {
			cb.s.state.SetCallbackDown(id, true)
		}
		return nil, err
	}
	cb.s.state.SetCallbackDown(id, false)
	return &res, nil
}

// openConfirmFlag40 is OPEN4_RESULT_CONFIRM for the NFSv4.0 OPEN of an
// open-owner that has yet to confirm (RFC 7530 §16.16.5), else 0.
func (c *compound) openConfirmFlag40() uint32 {
	if c.minor == 0 && c.confirm40 {
		return nfs4xdr.OPEN4_RESULT_CONFIRM
	}
	return 0
}
