// Package exports reads the server's export table in the exports(5) syntax
// that Linux nfs-utils understands and answers the one question the MOUNT
// and NFS layers ask of it: may this client, from this address and port,
// use this export, and with which options (read-only, squashing, anonymous
// ids, secure port, security flavors)?
//
// # What it owns
//
//   - The parser (Parse, ParseFile): paths (quoted, \NNN octal escapes),
//     default options after the path ("/srv -ro a b(rw)"), client specs,
//     the option list, comments, backslash line continuation. Every error
//     names the file and physical line ("exports:3: unknown option ...").
//   - The table (Table, Export, ClientRule, Options), its listing for MOUNT
//     EXPORT (Table.List), and the embedded default of "gonfs serve DIR"
//     (Default).
//   - Access decisions (Table.Access, Export.Match) and the identity helpers
//     that follow from them (Options.Squash, Options.PortAllowed).
//
// It does not own file handles, the pseudo file system, or authentication:
// callers pass the client's address and port and apply the returned
// Decision.
//
// # Path and Dir
//
// An Export has two paths. Dir is the directory on disk; Path is the name a
// client gives to MOUNT (and the position in the NFSv4 pseudo file system).
// In an exports file they are the same. Default(dir) exports dir under the
// name "/" so that "mount server:/ /mnt" works.
//
// # Which client rule applies
//
// An export may list several clients, and one address can match more than
// one of them. Like nfs-utils' mountd, which keeps its client list grouped by
// kind (support/include/exportfs.h: MCL_FQDN, then MCL_SUBNETWORK, then
// MCL_WILDCARD, then MCL_ANONYMOUS), Match tries the kinds in that order and,
// within one kind, the rules in file order:
//
//  1. exact host names ("server1.example.com"),
//  2. addresses and networks ("10.0.0.5", "10.0.0.0/8", "::1"),
//  3. wildcard patterns ("*.example.com", "host?.lab"),
//  4. everyone ("*").
//
// So "/srv *(ro) 10.0.0.5(rw)" gives 10.0.0.5 read-write and everyone else
// read-only, whatever the order on the line. IPv4-mapped IPv6 client
// addresses (::ffff:a.b.c.d) are matched as the IPv4 address they carry, so
// a dual-stack listener sees the same decisions as an IPv4 one.
//
// # Names
//
// Host-name and wildcard rules need the client's name. It comes from a
// reverse lookup (Resolver.LookupAddr) of the client's address; when the
// resolver can also do forward lookups (net.Resolver can), each name is kept
// only if it resolves back to the client's address, so whoever controls the
// reverse zone of an address cannot claim any name they like. A failed
// lookup means "no name": name rules then do not match. Results, failures
// included, are cached per address for ParseOptions.NameTTL (30 s unless
// set) measured on an injectable clock; the cache is bounded. Netgroups
// (@group) are refused at parse time.
//
// # Not modelled
//
// nfs-utils lets options after a sec= apply to those flavors only, with
// several sec= in one list ("sec=krb5p,rw,sec=sys,ro"). Here a list may hold
// at most one sec=, and a second one is a parse error rather than a silent
// widening of access. xprtsec= is refused for the same reason (ignoring it
// would drop a TLS requirement). refer=, replicas=, nordirplus and
// security_label are accepted and kept in Options.Other but not acted on.
//
// # Concurrency
//
// A Table and everything reachable from it is immutable once Parse or
// Default returns, apart from the name cache, which has its own lock; all
// methods are safe for concurrent use. No lock is held while a resolver
// call is in flight.
package exports
