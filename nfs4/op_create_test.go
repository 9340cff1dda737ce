package nfs4

import (
	"strings"
	"testing"

	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

func argCreate(typ nfs4xdr.Createtype4, name string, attrs nfs4xdr.Fattr4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_CREATE, Opcreate: &nfs4xdr.CREATE4args{Objtype: typ, Objname: nfs4xdr.Component4(name), Createattrs: attrs}}
}

// RFC 8881 §18.4: CREATE makes each non-regular type, reports the
// attributes it set and the directory's change_info4, and makes the new
// object the current filehandle.
func TestCreate(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	dirFH := fhOf(t, s)
	mode := mkFattr(u32Val(nfs4xdr.FATTR4_MODE, 0o710))
	tests := []struct {
		name  string
		typ   nfs4xdr.Createtype4
		attrs nfs4xdr.Fattr4
		check func(t *testing.T, a attrMap)
	}{
		{"dir", nfs4xdr.Createtype4{Type: nfs4xdr.NF4DIR}, mode, func(t *testing.T, a attrMap) {
			if a.u64(t, nfs4xdr.FATTR4_MODE) != 0o710 {
				t.Errorf("mode %o", a[nfs4xdr.FATTR4_MODE])
			}
		}},
		{"symlink", nfs4xdr.Createtype4{Type: nfs4xdr.NF4LNK, Linkdata: nfs4xdr.Linktext4("target/x")}, nfs4xdr.Fattr4{}, func(t *testing.T, a attrMap) {
			if a.u64(t, nfs4xdr.FATTR4_SIZE) != uint64(len("target/x")) {
				t.Errorf("symlink size %d", a[nfs4xdr.FATTR4_SIZE])
			}
		}},
		{"block device", nfs4xdr.Createtype4{Type: nfs4xdr.NF4BLK, Devdata: nfs4xdr.Specdata4{Specdata1: 8, Specdata2: 1}}, nfs4xdr.Fattr4{}, func(t *testing.T, a attrMap) {
			if a[nfs4xdr.FATTR4_RAWDEV] != [2]uint64{8, 1} {
				t.Errorf("rawdev %v", a[nfs4xdr.FATTR4_RAWDEV])
			}
		}},
		{"char device", nfs4xdr.Createtype4{Type: nfs4xdr.NF4CHR, Devdata: nfs4xdr.Specdata4{Specdata1: 1, Specdata2: 3}}, nfs4xdr.Fattr4{}, func(t *testing.T, a attrMap) {
			if a[nfs4xdr.FATTR4_RAWDEV] != [2]uint64{1, 3} {
				t.Errorf("rawdev %v", a[nfs4xdr.FATTR4_RAWDEV])
			}
		}},
		{"socket", nfs4xdr.Createtype4{Type: nfs4xdr.NF4SOCK}, nfs4xdr.Fattr4{}, nil},
		{"fifo", nfs4xdr.Createtype4{Type: nfs4xdr.NF4FIFO}, mode, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := getattrOf(t, s, dirFH, nfs4xdr.FATTR4_CHANGE)
			res := s.call(opPutfh(dirFH), argCreate(tt.typ, tt.name, tt.attrs), opGetfh(),
				argGetattr(nfs4xdr.FATTR4_TYPE, nfs4xdr.FATTR4_MODE, nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_RAWDEV))
			f.wantStatus(res, nfs4xdr.NFS4_OK, 5)
			ok := res.Resarray[2].Opcreate.Resok4
			if got, want := fattr.FromWords(ok.Attrset), fattr.FromWords(tt.attrs.Attrmask); got != want {
				t.Errorf("attrset %v, want %v", got, want)
			}
			after, _ := getattrOf(t, s, dirFH, nfs4xdr.FATTR4_CHANGE)
			if uint64(ok.Cinfo.Before) != after.u64(t, nfs4xdr.FATTR4_CHANGE) && uint64(ok.Cinfo.Before) != before.u64(t, nfs4xdr.FATTR4_CHANGE) ||
				uint64(ok.Cinfo.After) != after.u64(t, nfs4xdr.FATTR4_CHANGE) || ok.Cinfo.Before == ok.Cinfo.After {
				t.Errorf("cinfo %+v; directory change before %v after %v", ok.Cinfo, before[nfs4xdr.FATTR4_CHANGE], after[nfs4xdr.FATTR4_CHANGE])
			}
			a := decodeAttrs(t, &res.Resarray[4].Opgetattr.Resok4.ObjAttributes)
			if want, _ := createType(tt.typ.Type); a.u64(t, nfs4xdr.FATTR4_TYPE) != uint64(tt.typ.Type) {
				t.Errorf("current filehandle has type %d, want %v", a[nfs4xdr.FATTR4_TYPE], want)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
			// The new object is found under its name.
			if fh := res.Resarray[3].Opgetfh.Resok4.Object; string(fhOf(t, s, tt.name)) != string(fh) {
				t.Errorf("LOOKUP finds another handle than CREATE made")
			}
		})
	}
}

// RFC 8881 §18.4.3: CREATE errors.
func TestCreateErrors(t *testing.T) {
	f := newFixture(t, "/export *(rw,no_root_squash)\n/ro *(ro,no_root_squash)\n")
	s := f.newSession(root)
	dir := nfs4xdr.Createtype4{Type: nfs4xdr.NF4DIR}
	fileFH := f.wireFH("/export", f.mkfileB("/export", nil, "file", 0))
	exportFH := fhOf(t, s, "export")
	rootFH := fhOf(t, s)
	roFH := fhOf(t, s, "ro")
	tests := []struct {
		name  string
		fh    []byte
		typ   nfs4xdr.Createtype4
		oname string
		attrs nfs4xdr.Fattr4
		want  nfs4xdr.Nfsstat4
	}{
		{"regular file", exportFH, nfs4xdr.Createtype4{Type: nfs4xdr.NF4REG}, "x", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_BADTYPE},
		{"named attribute dir", exportFH, nfs4xdr.Createtype4{Type: nfs4xdr.NF4ATTRDIR}, "x", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_BADTYPE},
		{"exists", exportFH, dir, "file", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_EXIST},
		{"not a directory", fileFH, dir, "x", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_NOTDIR},
		{"empty name", exportFH, dir, "", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_INVAL},
		{"dot", exportFH, dir, ".", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_BADNAME},
		{"slash", exportFH, dir, "a/b", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_BADCHAR},
		{"too long", exportFH, dir, strings.Repeat("n", 256), nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_NAMETOOLONG},
		{"empty symlink", exportFH, nfs4xdr.Createtype4{Type: nfs4xdr.NF4LNK}, "l", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_INVAL},
		{"read-only attribute", exportFH, dir, "y", mkFattr(u64Val(nfs4xdr.FATTR4_FILEID, 5)), nfs4xdr.NFS4ERR_INVAL},
		{"pseudo-filesystem", rootFH, dir, "z", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_ROFS},
		{"read-only export", roFH, dir, "z", nfs4xdr.Fattr4{}, nfs4xdr.NFS4ERR_ROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call(opPutfh(tt.fh), argCreate(tt.typ, tt.oname, tt.attrs), opGetfh())
			f.wantStatus(res, tt.want, 3)
		})
	}
	// Without a current filehandle.
	res := s.call(argCreate(dir, "x", nfs4xdr.Fattr4{}))
	f.wantStatus(res, nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	// Device nodes need privilege (mknod(2)): the backend decides.
	user := f.newSession(cred{1000, 1000})
	res = user.call(opPutfh(exportFH), argCreate(nfs4xdr.Createtype4{Type: nfs4xdr.NF4CHR}, "dev", nfs4xdr.Fattr4{}))
	f.wantStatus(res, nfs4xdr.NFS4ERR_PERM, 3)
}
