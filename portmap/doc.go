// Package portmap is a built-in portmapper: the port mapper version 2 and
// rpcbind versions 3 and 4 of RFC 1833, all program 100000, answering for
// the programs this server itself serves. It also holds the client side
// used when a system rpcbind is running instead (Register, Unregister) and
// the GETPORT helper NLM uses to find a client's lockd (GetPort).
//
// # Registrations
//
// Only this process registers: cmd/ calls Server.Set for every program,
// version and transport it serves. SET and UNSET received over the network
// are always answered false. A real rpcbind trusts SET from loopback or a
// local socket; this one has no reason to, since nothing else in the
// process space of gonfs needs to register, and a remote SET would let
// anyone who can reach the port redirect clients of NFS, MOUNT or NLM (or
// any program number) to a server of their own.
//
// A Mapping names its transport with an RFC 5665 netid: tcp and udp for
// IPv4, tcp6 and udp6 for IPv6. Version 2 of the protocol only knows IPv4
// (RFC 1833 §3), so its GETPORT and DUMP see the tcp and udp mappings; a
// server listening on a dual-stack wildcard registers both families.
//
// # Lookups
//
// GETPORT (v2) and GETADDR (v3, v4) return the mapping of the version asked
// for or, when that version is not registered, of another version of the
// same program on the same transport, as rpcbind does: the client then
// learns the supported range from the server's PROG_MISMATCH. GETVERSADDR
// and GETADDRLIST (v4) match the version exactly. An unknown program is
// port 0 (v2) or the empty universal address (v3, v4). GETADDR with an
// empty netid means the transport the request came on. A mapping
// registered on a wildcard address (0.0.0.0 or ::) is answered with the
// address the caller reached us at, when that is of the same family and
// not itself a wildcard, so clients get an address they can connect to.
//
// # What is not served
//
// CALLIT (v2), CALLIT (v3), BCAST and INDIRECT (v4) would forward a call to
// another program on the caller's behalf. They are never forwarded and
// never answered (sunrpc.NoReply): RFC 1833 §3.2 has CALLIT stay silent on
// errors, and a forwarder is a well-known amplifier and a way to make a
// request appear to come from the server itself. GETSTAT counts them as
// failures.
//
// UADDR2TADDR and TADDR2UADDR convert between universal addresses and a
// netbuf holding the caller's own struct sockaddr, whose layout and byte
// order belong to the caller's platform. A network server cannot know it,
// so they answer an empty netbuf and an empty string: the wire form of the
// NULL that RFC 1833 §2.2 returns when a conversion fails.
//
// GETSTAT's setinfo and unsetinfo count successful SET and UNSET calls
// (RFC 1833 §2.1); since remote ones are always refused they stay zero.
// The per-address and per-remote-call lists are bounded so that callers
// cycling through program numbers cannot grow them without end.
//
// # Concurrency
//
// A Server is safe for concurrent use: one mutex guards the mappings and
// the statistics, and no call is made while it is held.
package portmap
