package nfs4

import (
	"net/netip"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/portmap"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// The NFSv4.0 client ID operations (RFC 7530 §16.33, §16.34, §16.29,
// §16.37). The state package decides; these decode, check the callback
// address, and encode.

// opSetclientid runs SETCLIENTID (RFC 7530 §16.33). The callback address
// is kept only if it is one the server will dial: netid "tcp" with an
// IPv4 or "tcp6" with an IPv6 universal address, of the same family as
// the connection the request came on (RFC 7530 §16.33.4 lets the server
// accept an unusable callback; the client then gets no delegations).
// NFS4ERR_CLID_INUSE carries an empty client_using, as knfsd sends: the
// other client's address is none of this caller's business.
func (c *compound) opSetclientid(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var a x.SETCLIENTID4args
	if !c.decode(r, w, &a) {
		return x.NFS4ERR_BADXDR
	}
	cb := state.Callback40{Program: a.Callback.CbProgram, Ident: a.CallbackIdent}
	if netid, addr, ok := callbackAddr40(a.Callback.CbLocation, c.call.Remote.Addr()); ok {
		cb.Netid, cb.Addr = netid, addr
	}
	res, st := c.s.state.SetClientID(state.SetClientIDArgs{
		Owner:     c.clientOwner(a.Client.Id),
		Verifier:  state.Verifier(a.Client.Verifier),
		Principal: principal(c.call),
		Callback:  cb,
		Addr:      c.call.Remote.String(),
	})
	if st != x.NFS4_OK {
		out := x.SETCLIENTID4res{Status: st}
		out.Encode(w)
		return st
	}
	out := x.SETCLIENTID4res{Status: x.NFS4_OK, Resok4: x.SETCLIENTID4resok{
		Clientid: x.Clientid4(res.ClientID), SetclientidConfirm: x.Verifier4(res.Confirm)}}
	out.Encode(w)
	return x.NFS4_OK
}

// callbackAddr40 checks a SETCLIENTID callback location: a TCP netid whose
// universal address parses, of the family of the client's own address
// (remote), and not a wildcard, multicast or port-0 address. It returns
// the netid and the address in canonical form.
func callbackAddr40(loc x.Netaddr4, remote netip.Addr) (netid, addr string, ok bool) {
	ap, err := portmap.ParseUAddr(loc.NaRAddr)
	if err != nil || ap.Port() == 0 {
		return "", "", false
	}
	a := ap.Addr()
	if a.IsUnspecified() || a.IsMulticast() {
		return "", "", false
	}
	remote = remote.Unmap()
	switch loc.NaRNetid {
	case "tcp":
		ok = a.Is4() && remote.Is4()
	case "tcp6":
		ok = a.Is6() && !a.Is4In6() && remote.Is6()
	}
	if !ok {
		return "", "", false
	}
	return loc.NaRNetid, portmap.FormatUAddr(ap), true
}

// opSetclientidConfirm runs SETCLIENTID_CONFIRM (RFC 7530 §16.34). A new
// or changed callback path is probed with CB_NULL, off the request path
// (§16.34.4: the server checks the path after the confirm).
func (c *compound) opSetclientidConfirm(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var a x.SETCLIENTID_CONFIRM4args
	if !c.decode(r, w, &a) {
		return x.NFS4ERR_BADXDR
	}
	id := state.ClientID(a.Clientid)
	changed, eff, st := c.s.state.SetClientIDConfirm(id, state.Verifier(a.SetclientidConfirm), principal(c.call))
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	// Replacing an earlier incarnation removes its recovery record.
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, x.NFS4ERR_SERVERFAULT)
	}
	if changed {
		c.s.cb.probe40(id)
	}
	return c.fail(w, x.NFS4_OK)
}

// opRenew runs RENEW (RFC 7530 §16.29).
func (c *compound) opRenew(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var a x.RENEW4args
	if !c.decode(r, w, &a) {
		return x.NFS4ERR_BADXDR
	}
	eff, st := c.s.state.Renew(state.ClientID(a.Clientid))
	_ = c.s.apply(eff)
	return c.fail(w, st)
}

// opReleaseLockowner runs RELEASE_LOCKOWNER (RFC 7530 §16.37).
func (c *compound) opReleaseLockowner(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var a x.RELEASE_LOCKOWNER4args
	if !c.decode(r, w, &a) {
		return x.NFS4ERR_BADXDR
	}
	eff, st := c.s.state.ReleaseLockOwner(state.ClientID(a.LockOwner.Clientid), a.LockOwner.Owner)
	_ = c.s.apply(eff)
	return c.fail(w, st)
}
