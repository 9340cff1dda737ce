package nfs4

import (
	"bytes"
)

// clientOwner is the owner string EXCHANGE_ID (and SETCLIENTID) hand to
// the state for co_ownerid.
//
// By default it is co_ownerid as sent: RFC 8881 §2.4 makes the owner
// string the client's identity, wherever it connects from, so that a
// multi-homed client, or one whose address changed, is still itself and
// can reclaim its state.
//
// With Options.ClientKeyByAddress the source host (not the port, which
// changes on reconnect) is appended as " @ADDR", so that two machines
// that send one owner string ("Linux NFSv4.2 localhost", cloned VMs)
// become two clients instead of evicting each other for ever (package
// nfs4/collide). The key stays unambiguous: an address never contains
// " @", so the last " @" splits it. This is for AUTH_SYS networks where
// the clients cannot be given unique identities, and it has a price: a
// client reached through NAT shares its key with the other clients
// behind the same address; a multi-homed client (or one using session
// trunking) is a different client on each address; and a client whose
// address changes (DHCP, failover, a restart with another address)
// cannot reclaim its opens and locks after a server restart, and its
// old state lingers as a courtesy client until its lease expires.
func (c *compound) clientOwner(owner []byte) []byte {
	if !c.s.keyByAddr {
		return bytes.Clone(owner)
	}
	host := c.call.Remote.Addr().Unmap().String()
	out := make([]byte, 0, len(owner)+2+len(host))
	out = append(out, owner...)
	out = append(out, " @"...)
	return append(out, host...)
}
