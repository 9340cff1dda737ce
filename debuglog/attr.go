package debuglog

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
)

// Attribute keys shared by every subsystem, so that one grep or one log
// query follows a request across them.
const (
	KeyXID    = "xid"
	KeyClient = "client"
	KeyOp     = "op"
	KeyStatus = "status"
	KeyExport = "export"
	KeyErr    = "err"
)

// Sub returns the attribute that puts a logger in subsystem s:
// log.With(debuglog.Sub(debuglog.NFS3)) is log.With("sub", "nfs3").
func Sub(s Subsystem) slog.Attr { return slog.String(KeySub, s.String()) }

// XID returns the attribute of an RPC transaction id, in hex as tshark and
// the kernel's rpc_debug show it, so the two can be matched by eye.
func XID(xid uint32) slog.Attr {
	var b [10]byte
	return slog.String(KeyXID, string(strconv.AppendUint(append(b[:0], "0x"...), uint64(xid), 16)))
}

// Client returns the attribute of a client's address and port.
func Client(a netip.AddrPort) slog.Attr { return slog.String(KeyClient, a.String()) }

// Op returns the attribute of an operation or procedure name.
func Op(name string) slog.Attr { return slog.String(KeyOp, name) }

// Status returns the attribute of a protocol status, by its RFC name
// (nfs3xdr.Nfsstat3, nfs4xdr.Nfsstat4 and sunrpc.Status are Stringers).
func Status(s fmt.Stringer) slog.Attr { return slog.String(KeyStatus, s.String()) }

// Export returns the attribute of an export, by its path.
func Export(path string) slog.Attr { return slog.String(KeyExport, path) }

// Err returns the attribute of an error (an empty string for nil).
func Err(err error) slog.Attr {
	if err == nil {
		return slog.String(KeyErr, "")
	}
	return slog.String(KeyErr, err.Error())
}
