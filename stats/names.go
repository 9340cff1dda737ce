package stats

import (
	"strconv"
	"strings"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/pmapxdr"
)

// Names for reports and metric labels. They come from the generated
// protocol packages, lower-cased for programs, procedures and operations
// (as nfsstat and rpcinfo print them) and in RFC spelling for statuses (so
// they grep against the RFCs).

// ProgramName returns the name rpcinfo gives program prog, or its number.
func ProgramName(prog uint32) string {
	switch prog {
	case pmapxdr.PMAP_PROG:
		return "portmapper"
	case nfs3xdr.NFS_PROGRAM:
		return "nfs"
	case mountxdr.MOUNT_PROGRAM:
		return "mountd"
	case nlmxdr.NLM_PROG:
		return "nlockmgr"
	case nsmxdr.SM_PROG:
		return "status"
	case OtherProgram:
		return "other"
	}
	return strconv.FormatUint(uint64(prog), 10)
}

// ProcName returns the lower-case name of procedure proc of (prog, vers),
// or its number.
func ProcName(prog, vers, proc uint32) string {
	if proc == OtherProc {
		return "other"
	}
	var name string
	switch {
	case prog == nfs3xdr.NFS_PROGRAM && vers == 3:
		name = nfs3xdr.NFS_V3ProcName(proc)
	case prog == nfs3xdr.NFS_PROGRAM && vers == 4:
		name = nfs4xdr.NFS_V4ProcName(proc)
	case prog == mountxdr.MOUNT_PROGRAM && vers == 3:
		name = mountxdr.MOUNT_V3ProcName(proc)
	case prog == nlmxdr.NLM_PROG && vers == 4:
		name = nlmxdr.NLM4_VERSProcName(proc)
	case prog == nsmxdr.SM_PROG && vers == 1:
		name = nsmxdr.SM_VERSProcName(proc)
	case prog == pmapxdr.PMAP_PROG && vers == 2:
		name = pmapxdr.PMAP_VERSProcName(proc)
	case prog == pmapxdr.PMAP_PROG && vers == 3:
		name = pmapxdr.RPCBVERSProcName(proc)
	case prog == pmapxdr.PMAP_PROG && vers == 4:
		name = pmapxdr.RPCBVERS4ProcName(proc)
	}
	if name == "" {
		return strconv.FormatUint(uint64(proc), 10)
	}
	return strings.ToLower(name)
}

// VersionName returns "3", "4.0", "4.1" or "4.2".
func VersionName(vers, minor uint32) string {
	if vers == 3 {
		return "3"
	}
	return strconv.FormatUint(uint64(vers), 10) + "." + strconv.FormatUint(uint64(minor), 10)
}

// OpName returns the lower-case name of NFS operation op of version vers:
// the NFSv3 procedure name, or the NFSv4 operation name without "OP_".
func OpName(vers, op uint32) string {
	if op == OtherOp {
		return "other"
	}
	var name string
	if vers == 3 {
		name = nfs3xdr.NFS_V3ProcName(op)
	} else if nfs4xdr.NfsOpnum4(op) >= nfs4xdr.OP_ACCESS && nfs4xdr.NfsOpnum4(op) <= nfs4xdr.OP_REMOVEXATTR {
		name = strings.TrimPrefix(nfs4xdr.NfsOpnum4(op).String(), "OP_")
	}
	if name == "" {
		return "op" + strconv.FormatUint(uint64(op), 10)
	}
	return strings.ToLower(name)
}

// StatusName returns the RFC name of NFS status st of version vers.
func StatusName(vers uint32, st int32) string {
	if st == OtherStatus {
		return "OTHER"
	}
	if vers == 3 {
		return nfs3xdr.Nfsstat3(st).String()
	}
	return nfs4xdr.Nfsstat4(st).String()
}
