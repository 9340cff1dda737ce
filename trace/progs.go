package trace

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/xdr"
)

// progInfo says how to name and decode one version of one program. args
// and results are nil where we only know the procedure names (MOUNT v1,
// NLM v1/v3: same procedure numbers, other argument types).
type progInfo struct {
	name, vers    string
	procName      func(uint32) string
	args, results func(uint32) xdr.Codec
	compound      bool // NFSv4: procedure 1 is COMPOUND
	callback      bool // NFSv4 callback: procedure 1 is CB_COMPOUND
}

var (
	progPmap2  = &progInfo{"PORTMAP", "2", pmapxdr.PMAP_VERSProcName, pmapxdr.PMAP_VERSArgs, pmapxdr.PMAP_VERSResults, false, false}
	progRpcb3  = &progInfo{"RPCBIND", "3", pmapxdr.RPCBVERSProcName, pmapxdr.RPCBVERSArgs, pmapxdr.RPCBVERSResults, false, false}
	progRpcb4  = &progInfo{"RPCBIND", "4", pmapxdr.RPCBVERS4ProcName, pmapxdr.RPCBVERS4Args, pmapxdr.RPCBVERS4Results, false, false}
	progNFS3   = &progInfo{"NFS", "3", nfs3xdr.NFS_V3ProcName, nfs3xdr.NFS_V3Args, nfs3xdr.NFS_V3Results, false, false}
	progNFS4   = &progInfo{"NFS", "4", nfs4xdr.NFS_V4ProcName, nfs4xdr.NFS_V4Args, nfs4xdr.NFS_V4Results, true, false}
	progMount3 = &progInfo{"MOUNT", "3", mountxdr.MOUNT_V3ProcName, mountxdr.MOUNT_V3Args, mountxdr.MOUNT_V3Results, false, false}
	progMount1 = &progInfo{"MOUNT", "1", mountxdr.MOUNT_V3ProcName, nil, nil, false, false}
	progNLM4   = &progInfo{"NLM", "4", nlmxdr.NLM4_VERSProcName, nlmxdr.NLM4_VERSArgs, nlmxdr.NLM4_VERSResults, false, false}
	progNLM1   = &progInfo{"NLM", "1", nlmxdr.NLM4_VERSProcName, nil, nil, false, false}
	progNSM    = &progInfo{"NSM", "1", nsmxdr.SM_VERSProcName, nsmxdr.SM_VERSArgs, nsmxdr.SM_VERSResults, false, false}
	progNFSCB  = &progInfo{"NFS_CB", "1", nfs4xdr.NFS_CBProcName, nfs4xdr.NFS_CBArgs, nfs4xdr.NFS_CBResults, false, true}
)

// lookupProg returns what we know of program prog version vers, or nil.
func (a *analyzer) lookupProg(prog, vers uint32) *progInfo {
	switch prog {
	case pmapxdr.PMAP_PROG:
		switch vers {
		case pmapxdr.PMAP_VERS:
			return progPmap2
		case pmapxdr.RPCBVERS:
			return progRpcb3
		case pmapxdr.RPCBVERS4:
			return progRpcb4
		}
	case nfs3xdr.NFS_PROGRAM:
		switch vers {
		case nfs3xdr.NFS_V3:
			return progNFS3
		case nfs4xdr.NFS_V4:
			return progNFS4
		case 2:
			return nil // NFSv2 procedures are numbered differently
		}
	case mountxdr.MOUNT_PROGRAM:
		switch vers {
		case mountxdr.MOUNT_V3:
			return progMount3
		case 1, 2:
			return progMount1
		}
	case nlmxdr.NLM_PROG:
		switch vers {
		case nlmxdr.NLM4_VERS:
			return progNLM4
		case 1, 3:
			return progNLM1
		}
	case nsmxdr.SM_PROG:
		if vers == nsmxdr.SM_VERS {
			return progNSM
		}
	}
	if a.cbProgs[prog] && vers == nfs4xdr.NFS_CB {
		return progNFSCB
	}
	return nil
}

// knownProg reports whether a call header for prog/vers is something we
// would look for: the test that recognises RPC by structure.
func (a *analyzer) knownProg(prog, vers uint32) bool {
	switch prog {
	case pmapxdr.PMAP_PROG:
		return vers >= 2 && vers <= 4
	case nfs3xdr.NFS_PROGRAM:
		return vers >= 2 && vers <= 4
	case mountxdr.MOUNT_PROGRAM:
		return vers >= 1 && vers <= 3
	case nlmxdr.NLM_PROG:
		return vers == 1 || vers == 3 || vers == 4
	case nsmxdr.SM_PROG:
		return vers == 1
	}
	return a.cbProgs[prog] && vers == nfs4xdr.NFS_CB
}

// progNames names a call for display.
func progNames(p *progInfo, prog, vers, proc uint32) (name, version, procName string) {
	version = strconv.FormatUint(uint64(vers), 10)
	if p == nil {
		name = "PROG " + strconv.FormatUint(uint64(prog), 10)
		if prog == nfs3xdr.NFS_PROGRAM {
			name = "NFS"
		}
		return name, version, "proc " + strconv.FormatUint(uint64(proc), 10)
	}
	procName = p.procName(proc)
	if procName == "" {
		procName = "proc " + strconv.FormatUint(uint64(proc), 10)
	}
	return p.name, version, procName
}

func majorOf(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}

func (p *progInfo) decodeCall(a *analyzer, m *Message, c *call, body []byte, f flow, ts time.Time) {
	switch {
	case p.compound && c.proc == nfs4xdr.NFSPROC4_COMPOUND:
		a.compoundCall(m, c, body, f, ts)
		return
	case p.callback && c.proc == nfs4xdr.CB_COMPOUND:
		a.cbCompoundCall(m, c, body)
		return
	case p.args == nil:
		return
	}
	v := p.args(c.proc)
	if v == nil {
		m.Problem = "unknown procedure"
		return
	}
	r := xdr.NewReader(body)
	v.Decode(r)
	if err := r.Err(); err != nil {
		m.Problem = "arguments do not decode: " + err.Error()
		return
	}
	m.Detail = argDetail(v)
	// NLM's asynchronous *_RES procedures carry a result in a call
	// (RFC 1813 does not cover NLM; see the Open Group XNFS, ch. 10).
	if strings.HasSuffix(c.procName, "_RES") {
		if st, ok := statusOf(v); ok {
			m.Status = st
			if !okStatus[st] {
				a.diag.failed(c.progName+"v"+c.version+" "+c.procName, st, m.Frame, f.src.Addr())
			}
		}
	}
}

func (p *progInfo) decodeReply(a *analyzer, m *Message, c *call, body []byte, f flow, ts time.Time) {
	switch {
	case p.compound && c.proc == nfs4xdr.NFSPROC4_COMPOUND:
		a.compoundReply(m, c, body, f, ts, nfs4Ops)
		return
	case p.callback && c.proc == nfs4xdr.CB_COMPOUND:
		a.compoundReply(m, c, body, f, ts, cbOps)
		return
	case p.results == nil:
		return
	}
	v := p.results(c.proc)
	if v == nil {
		return
	}
	r := xdr.NewReader(body)
	v.Decode(r)
	if err := r.Err(); err != nil {
		m.Problem = "results do not decode: " + err.Error()
	}
	if st, ok := statusOf(v); ok {
		m.Status = st
	}
}

// okStatus are the statuses that are not failures.
var okStatus = map[string]bool{
	"NFS3_OK": true, "NFS4_OK": true, "MNT3_OK": true, "NLM4_GRANTED": true,
	"NLM4_BLOCKED": true, "STAT_SUCC": true,
}

var stringerType = reflect.TypeFor[fmt.Stringer]()

// statusOf finds the status of a decoded result: the first enum-typed
// field named like a status (nfsstat3 status, mountstat3 fhs_status,
// nlm4_stats stat, res res_stat), looking into nested structs, because
// every result of these programs starts with one but the generated types
// spell it differently.
func statusOf(v any) (string, bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", false
		}
		rv = rv.Elem()
	}
	return findStatus(rv, 0)
}

func findStatus(v reflect.Value, depth int) (string, bool) {
	if v.Kind() != reflect.Struct || depth > 2 {
		return "", false
	}
	t := v.Type()
	for i := range v.NumField() {
		f, sf := v.Field(i), t.Field(i)
		if !sf.IsExported() {
			continue
		}
		if f.Kind() == reflect.Int32 && sf.Type.Implements(stringerType) &&
			(strings.Contains(strings.ToLower(sf.Name), "stat") || strings.Contains(strings.ToLower(sf.Type.Name()), "stat") ||
				strings.Contains(strings.ToLower(sf.Type.Name()), "res")) {
			return f.Interface().(fmt.Stringer).String(), true
		}
		if f.Kind() == reflect.Struct {
			if s, ok := findStatus(f, depth+1); ok {
				return s, true
			}
		}
	}
	return "", false
}

// argDetail describes the arguments worth a glance in the Info column.
func argDetail(v xdr.Codec) string {
	switch v := v.(type) {
	case *nfs3xdr.LOOKUP3args:
		return quote(string(v.What.Name))
	case *nfs3xdr.CREATE3args:
		return quote(string(v.Where.Name))
	case *nfs3xdr.MKDIR3args:
		return quote(string(v.Where.Name))
	case *nfs3xdr.REMOVE3args:
		return quote(string(v.Object.Name))
	case *nfs3xdr.RMDIR3args:
		return quote(string(v.Object.Name))
	case *nfs3xdr.READ3args:
		return fmt.Sprintf("offset %d count %d", v.Offset, v.Count)
	case *nfs3xdr.WRITE3args:
		return fmt.Sprintf("offset %d count %d", v.Offset, v.Count)
	case *mountxdr.Dirpath:
		return quote(string(*v))
	case *nlmxdr.Nlm4Lockargs:
		return fmt.Sprintf("%s svid %d offset %d len %d", quote(v.Alock.CallerName), v.Alock.Svid, v.Alock.LOffset, v.Alock.LLen)
	}
	return ""
}

// quote shows a name from the wire safely on one line.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%q", s)
	}
	return strconv.Quote(s)
}

// NFSv4 COMPOUND and CB_COMPOUND are decoded one op at a time (RFC 8881
// §16.2.3, RFC 7530 §16.2): the generated COMPOUND4args would reject the
// whole request for one op it does not know, and the ops before it are
// what an operator needs to see.

// opSet says how to decode the ops of one kind of compound.
type opSet struct {
	prefix   string // for statistics: "NFSv4 " or "NFS_CB "
	newArg   func() xdr.Codec
	newRes   func() xdr.Codec
	name     func(int32) string
	argNote  func(a *analyzer, op xdr.Codec, f flow, frame int, ts time.Time) string
	resNote  func(a *analyzer, op xdr.Codec, f flow, frame int) string
	hasIdent bool // CB_COMPOUND4args carries callback_ident
}

var nfs4Ops = &opSet{
	prefix: "NFSv4 ",
	newArg: func() xdr.Codec { return new(nfs4xdr.NfsArgop4) },
	newRes: func() xdr.Codec { return new(nfs4xdr.NfsResop4) },
	name: func(n int32) string {
		return strings.TrimPrefix(nfs4xdr.NfsOpnum4(n).String(), "OP_")
	},
	argNote: nfs4ArgNote,
	resNote: nfs4ResNote,
}

var cbOps = &opSet{
	prefix: "NFS_CB ",
	newArg: func() xdr.Codec { return new(nfs4xdr.NfsCbArgop4) },
	newRes: func() xdr.Codec { return new(nfs4xdr.NfsCbResop4) },
	name: func(n int32) string {
		return strings.TrimPrefix(nfs4xdr.NfsCbOpnum4(n).String(), "OP_")
	},
	argNote:  func(*analyzer, xdr.Codec, flow, int, time.Time) string { return "" },
	resNote:  func(*analyzer, xdr.Codec, flow, int) string { return "" },
	hasIdent: true,
}

func (a *analyzer) compoundCall(m *Message, c *call, body []byte, f flow, ts time.Time) {
	a.opsCall(m, c, body, f, ts, nfs4Ops)
}

func (a *analyzer) cbCompoundCall(m *Message, c *call, body []byte) {
	a.opsCall(m, c, body, flow{}, time.Time{}, cbOps)
}

func (a *analyzer) opsCall(m *Message, c *call, body []byte, f flow, ts time.Time, set *opSet) {
	r := xdr.NewReader(body)
	var tag nfs4xdr.Utf8strCs
	tag.Decode(r)
	minor := r.Uint32()
	if set.hasIdent {
		r.Uint32()
	}
	n := r.Uint32()
	if r.Err() != nil {
		m.Problem = "compound header does not decode"
		return
	}
	if set == nfs4Ops {
		c.version = "4." + strconv.FormatUint(uint64(minor), 10)
	}
	for i := uint32(0); i < n; i++ {
		start := r.Offset()
		name := opNameAt(body, start, set)
		op := set.newArg()
		op.Decode(r)
		if err := r.Err(); err != nil {
			m.Ops = append(m.Ops, Op{Name: name})
			m.Problem = fmt.Sprintf("op %d (%s) does not decode: %v", i+1, name, err)
			break
		}
		m.Ops = append(m.Ops, Op{Name: name, Detail: set.argNote(a, op, f, m.Frame, ts)})
	}
	c.stat = set.prefix + mainOp(m.Ops)
}

func (a *analyzer) compoundReply(m *Message, c *call, body []byte, f flow, ts time.Time, set *opSet) {
	r := xdr.NewReader(body)
	var st nfs4xdr.Nfsstat4
	st.Decode(r)
	var tag nfs4xdr.Utf8strCs
	tag.Decode(r)
	n := r.Uint32()
	if r.Err() != nil {
		m.Problem = "compound header does not decode"
		return
	}
	m.Status = st.String()
	for i := uint32(0); i < n; i++ {
		start := r.Offset()
		o := Op{Name: opNameAt(body, start, set)}
		if start+8 <= len(body) {
			// Every op's result starts with its nfsstat4 (RFC 8881 §16.2.3).
			o.Status = nfs4xdr.Nfsstat4(binary.BigEndian.Uint32(body[start+4:])).String()
		}
		op := set.newRes()
		op.Decode(r)
		if err := r.Err(); err != nil {
			m.Ops = append(m.Ops, o)
			m.Problem = fmt.Sprintf("op %d (%s) result does not decode: %v", i+1, o.Name, err)
			if o.Status != "" && o.Status != "NFS4_OK" {
				a.diag.failed(set.prefix+o.Name, o.Status, m.Frame, f.dst.Addr())
			}
			break
		}
		o.Detail = set.resNote(a, op, f, m.Frame)
		m.Ops = append(m.Ops, o)
		if o.Status != "NFS4_OK" {
			a.diag.failed(set.prefix+o.Name, o.Status, m.Frame, f.dst.Addr())
		}
	}
}

// opNameAt names the op whose number starts at body[off].
func opNameAt(body []byte, off int, set *opSet) string {
	if off+4 > len(body) {
		return "?"
	}
	return set.name(int32(binary.BigEndian.Uint32(body[off:])))
}

// mainOp picks the op a COMPOUND is for, to file its latency under: the
// first one that is not SEQUENCE or a PUTFH-like prologue.
func mainOp(ops []Op) string {
	if len(ops) == 0 {
		return "COMPOUND"
	}
	for _, o := range ops {
		switch o.Name {
		case "SEQUENCE", "PUTFH", "PUTROOTFH", "PUTPUBFH", "CB_SEQUENCE":
		default:
			return o.Name
		}
	}
	return ops[len(ops)-1].Name
}

func nfs4ArgNote(a *analyzer, v xdr.Codec, f flow, frame int, ts time.Time) string {
	op, ok := v.(*nfs4xdr.NfsArgop4)
	if !ok {
		return ""
	}
	src := f.src.Addr()
	switch {
	case op.OpexchangeId != nil:
		o := op.OpexchangeId.EiaClientowner
		a.diag.owner("EXCHANGE_ID", o.CoOwnerid, o.CoVerifier, src, frame, ts)
		return "owner " + quote(string(o.CoOwnerid))
	case op.Opsetclientid != nil:
		o := op.Opsetclientid.Client
		a.diag.owner("SETCLIENTID", o.Id, o.Verifier, src, frame, ts)
		a.cbProgs[op.Opsetclientid.Callback.CbProgram] = true
		return "id " + quote(string(o.Id))
	case op.OpcreateSession != nil:
		a.cbProgs[op.OpcreateSession.CsaCbProgram] = true
		a.diag.clientOp(src, "CREATE_SESSION", frame)
		return fmt.Sprintf("clientid %016x", uint64(op.OpcreateSession.CsaClientid))
	case op.Opsequence != nil:
		s := op.Opsequence
		return fmt.Sprintf("slot %d seq %d", s.SaSlotid, s.SaSequenceid)
	case op.Oplookup != nil:
		return quote(string(op.Oplookup.Objname))
	case op.Opread != nil:
		return fmt.Sprintf("offset %d count %d", op.Opread.Offset, op.Opread.Count)
	case op.Opwrite != nil:
		return fmt.Sprintf("offset %d count %d", op.Opwrite.Offset, len(op.Opwrite.Data))
	}
	return ""
}

func nfs4ResNote(a *analyzer, v xdr.Codec, f flow, frame int) string {
	op, ok := v.(*nfs4xdr.NfsResop4)
	if !ok {
		return ""
	}
	switch {
	case op.OpexchangeId != nil && op.OpexchangeId.EirStatus == nfs4xdr.NFS4_OK:
		return fmt.Sprintf("clientid %016x", uint64(op.OpexchangeId.EirResok4.EirClientid))
	}
	return ""
}
