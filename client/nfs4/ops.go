package nfs4

import (
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// Builders of the ops the client sends, to keep COMPOUNDs readable: each
// returns one nfs_argop4 (RFC 8881 §16.2) for Client.Compound. Ops that
// take the current or saved filehandle say so; the rest are as in the RFC.

func PutRootFH() x.NfsArgop4 { return x.NfsArgop4{Argop: x.OP_PUTROOTFH} }
func PutFH(fh x.NfsFh4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_PUTFH, Opputfh: &x.PUTFH4args{Object: fh}}
}
func GetFH() x.NfsArgop4     { return x.NfsArgop4{Argop: x.OP_GETFH} }
func SaveFH() x.NfsArgop4    { return x.NfsArgop4{Argop: x.OP_SAVEFH} }
func RestoreFH() x.NfsArgop4 { return x.NfsArgop4{Argop: x.OP_RESTOREFH} }
func Readlink() x.NfsArgop4  { return x.NfsArgop4{Argop: x.OP_READLINK} }
func Lookup(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOOKUP, Oplookup: &x.LOOKUP4args{Objname: x.Component4(name)}}
}
func Getattr(b x.Bitmap4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_GETATTR, Opgetattr: &x.GETATTR4args{AttrRequest: b}}
}
func Setattr(sid x.Stateid4, s *SetAttr) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SETATTR, Opsetattr: &x.SETATTR4args{Stateid: sid, ObjAttributes: s.Encode()}}
}
func Remove(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_REMOVE, Opremove: &x.REMOVE4args{Target: x.Component4(name)}}
}

// Rename renames within SAVED_FH (source directory) to CURRENT_FH
// (target directory), RFC 8881 §18.26.
func Rename(from, to string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_RENAME, Oprename: &x.RENAME4args{Oldname: x.Component4(from), Newname: x.Component4(to)}}
}

// Link makes CURRENT_FH/name a link to SAVED_FH (RFC 8881 §18.9).
func Link(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LINK, Oplink: &x.LINK4args{Newname: x.Component4(name)}}
}
func Mkdir(name string, s *SetAttr) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_CREATE, Opcreate: &x.CREATE4args{Objtype: x.Createtype4{Type: x.NF4DIR}, Objname: x.Component4(name), Createattrs: s.Encode()}}
}
func Symlink(name, target string, s *SetAttr) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_CREATE, Opcreate: &x.CREATE4args{Objtype: x.Createtype4{Type: x.NF4LNK, Linkdata: x.Linktext4(target)}, Objname: x.Component4(name), Createattrs: s.Encode()}}
}
func Read(sid x.Stateid4, off uint64, count uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_READ, Opread: &x.READ4args{Stateid: sid, Offset: x.Offset4(off), Count: x.Count4(count)}}
}
func Write(sid x.Stateid4, off uint64, data []byte, stable x.StableHow4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_WRITE, Opwrite: &x.WRITE4args{Stateid: sid, Offset: x.Offset4(off), Stable: stable, Data: data}}
}
func Commit(off uint64, count uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_COMMIT, Opcommit: &x.COMMIT4args{Offset: x.Offset4(off), Count: x.Count4(count)}}
}
func Readdir(cookie uint64, verf x.Verifier4, attrs x.Bitmap4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_READDIR, Opreaddir: &x.READDIR4args{Cookie: x.NfsCookie4(cookie), Cookieverf: verf,
		Dircount: 16 << 10, Maxcount: 64 << 10, AttrRequest: attrs}}
}
func Access(mask uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_ACCESS, Opaccess: &x.ACCESS4args{Access: mask}}
}

// Seek finds the next data or hole at or after off (RFC 7862 §15.11).
func Seek(sid x.Stateid4, off uint64, what x.DataContent4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SEEK, Opseek: &x.SEEK4args{SaStateid: sid, SaOffset: x.Offset4(off), SaWhat: what}}
}

// Copy copies within the server from SAVED_FH to CURRENT_FH (RFC 7862
// §15.2), synchronously.
func Copy(src, dst x.Stateid4, srcOff, dstOff, count uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_COPY, Opcopy: &x.COPY4args{CaSrcStateid: src, CaDstStateid: dst,
		CaSrcOffset: x.Offset4(srcOff), CaDstOffset: x.Offset4(dstOff), CaCount: x.Length4(count), CaConsecutive: true, CaSynchronous: true}}
}
func GetXattr(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_GETXATTR, Opgetxattr: &x.GETXATTR4args{GxaName: x.Xattrkey4(name)}}
}
func SetXattr(name string, value []byte, opt x.SetxattrOption4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SETXATTR, Opsetxattr: &x.SETXATTR4args{SxaOption: opt, SxaKey: x.Xattrkey4(name), SxaValue: value}}
}
func ListXattrs(cookie uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LISTXATTRS, Oplistxattrs: &x.LISTXATTRS4args{LxaCookie: x.NfsCookie4(cookie), LxaMaxcount: 64 << 10}}
}
func RemoveXattr(name string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_REMOVEXATTR, Opremovexattr: &x.REMOVEXATTR4args{RxaName: x.Xattrkey4(name)}}
}
