package trace

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/ip4defrag"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// retxWindow is how long an xid is remembered to recognise a
// retransmission of it. Linux clients retry for minutes on hard mounts,
// far less than the time for the xid counter to wrap.
const retxWindow = 10 * time.Minute

// flow is where a record came from.
type flow struct {
	proto    string
	src, dst netip.AddrPort
	conn     *tcpConn // nil for UDP
}

// pendKey finds the call a reply answers: same transport, same two ends,
// same xid (RFC 5531 §9: the xid only pairs a reply with its call).
type pendKey struct {
	proto          string
	client, server netip.AddrPort
	xid            uint32
}

// retxKey recognises a call sent again, possibly on a new connection
// from another source port of the same client.
type retxKey struct {
	client netip.Addr
	server netip.AddrPort
	xid    uint32
}

// call is an outstanding (or answered) call.
type call struct {
	key        pendKey
	frame      int // latest transmission
	first      time.Time
	prog       *progInfo
	progNum    uint32
	vers, proc uint32
	progName   string
	version    string
	procName   string
	stat       string // name for statistics
	gss        rpcxdr.RpcGssServiceT
	conn       *tcpConn
	answered   bool
	retx       int
	retxFrames []int
}

type analyzer struct {
	opts    Options
	rep     *Report
	defrag  *ip4defrag.IPv4Defragmenter
	conns   map[connKey]*tcpConn
	pending map[pendKey]*call
	recent  map[retxKey]*call
	cbProgs map[uint32]bool
	nCalls  int

	truncated bool
	snapCut   int
	snapFirst int
	cutShort  []cutRecord
	internal  []string

	diag diagnosis
}

func newAnalyzer(opts Options) *analyzer {
	return &analyzer{
		opts:    opts,
		rep:     &Report{},
		defrag:  ip4defrag.NewIPv4Defragmenter(),
		conns:   map[connKey]*tcpConn{},
		pending: map[pendKey]*call{},
		recent:  map[retxKey]*call{},
		cbProgs: map[uint32]bool{},
		diag:    newDiagnosis(),
	}
}

func (a *analyzer) note(s string) { a.rep.Notes = append(a.rep.Notes, s) }

func (a *analyzer) knownPort(p uint16) bool {
	for _, q := range a.opts.Ports {
		if p == q {
			return true
		}
	}
	return false
}

// record decodes one complete RPC message. It reports false when rec is
// not an RPC message at all, so the stream can resynchronise.
func (a *analyzer) record(f flow, rec []byte, frame int, ts time.Time) (ok bool) {
	defer func() {
		// A decoder bug must not cost the operator the rest of the
		// capture; fuzzing fails on any entry in a.internal.
		if v := recover(); v != nil {
			a.internal = append(a.internal, fmt.Sprintf("frame %d: %v", frame, v))
			a.note(fmt.Sprintf("internal error decoding frame %d: %v", frame, v))
			ok = true
		}
	}()
	r := xdr.NewReader(rec)
	xid := r.Uint32()
	mtype := rpcxdr.MsgType(r.Int32())
	if r.Err() != nil {
		return false
	}
	m := Message{
		Frame: frame, Time: a.rel(ts), Proto: f.proto, Src: f.src, Dst: f.dst, XID: xid,
	}
	switch mtype {
	case rpcxdr.CALL:
		var cb rpcxdr.CallBody
		cb.Decode(r)
		if r.Err() != nil || cb.Rpcvers != 2 {
			return false
		}
		a.call(f, &m, &cb, r.Rest(), ts)
	case rpcxdr.REPLY:
		var rb rpcxdr.ReplyBody
		rb.Decode(r)
		if r.Err() != nil {
			return false
		}
		c := a.pending[pendKey{f.proto, f.dst, f.src, xid}]
		if c == nil {
			if f.conn != nil && !f.conn.rpc {
				return false
			}
			a.rep.Orphans++
			m.Reply = true
			m.Program = "?"
			m.Problem = "reply to a call not in the capture"
			a.emit(m)
			return true
		}
		a.reply(f, &m, c, &rb, r.Rest(), ts)
	default:
		return false
	}
	if f.conn != nil {
		f.conn.rpc = true
	}
	return true
}

func (a *analyzer) call(f flow, m *Message, cb *rpcxdr.CallBody, body []byte, ts time.Time) {
	a.rep.Calls++
	p := a.lookupProg(cb.Prog, cb.Vers)
	c := &call{
		key: pendKey{f.proto, f.src, f.dst, m.XID}, frame: m.Frame, first: ts, prog: p,
		progNum: cb.Prog, vers: cb.Vers, proc: cb.Proc, conn: f.conn,
	}
	c.progName, c.version, c.procName = progNames(p, cb.Prog, cb.Vers, cb.Proc)
	m.Program, m.Version, m.Proc = c.progName, c.version, c.procName

	body, decode := a.unwrapGSS(m, c, cb.Cred, body, false)
	if decode && p != nil {
		p.decodeCall(a, m, c, body, f, ts)
	}
	m.Version = c.version
	if c.stat == "" {
		c.stat = c.progName + "v" + majorOf(c.version) + " " + c.procName
	}
	a.diag.called(c.stat)

	rk := retxKey{f.src.Addr(), f.dst, m.XID}
	if old := a.recent[rk]; old != nil && old.progNum == c.progNum && old.proc == c.proc &&
		ts.Sub(old.first) < retxWindow && ts.Sub(old.first) >= 0 {
		m.Retransmit = true
		a.rep.Retransmissions++
		a.diag.retransmitted(f.src.Addr(), f.dst, m.XID, m.Frame, old.frame)
		if !old.answered {
			// The first transmission is still waiting: this one replaces
			// it, so that a reply on a new connection still counts from
			// the first send.
			delete(a.pending, old.key)
			old.retx++
			old.retxFrames = append(old.retxFrames, m.Frame)
			old.key, old.frame, old.conn = c.key, m.Frame, f.conn
			c = old
		}
	}
	a.pending[c.key] = c
	a.recent[rk] = c
	a.nCalls++
	if a.nCalls%65536 == 0 {
		a.prune(ts)
	}
	a.emit(*m)
}

// prune forgets answered calls too old to be retransmitted.
func (a *analyzer) prune(now time.Time) {
	for k, c := range a.recent {
		if c.answered && now.Sub(c.first) > retxWindow {
			delete(a.recent, k)
		}
	}
}

func (a *analyzer) reply(f flow, m *Message, c *call, rb *rpcxdr.ReplyBody, body []byte, ts time.Time) {
	a.rep.Replies++
	delete(a.pending, c.key)
	c.answered = true
	m.Reply = true
	m.Program, m.Version, m.Proc = c.progName, c.version, c.procName
	m.CallFrame = c.frame
	m.Latency = ts.Sub(c.first)
	switch {
	case rb.Stat == rpcxdr.MSG_DENIED && rb.Rreply.Stat == rpcxdr.AUTH_ERROR:
		m.Status = "AUTH_ERROR " + rb.Rreply.Why.String()
	case rb.Stat == rpcxdr.MSG_DENIED:
		m.Status = rb.Rreply.Stat.String()
	case rb.Areply.ReplyData.Stat != rpcxdr.SUCCESS:
		m.Status = rb.Areply.ReplyData.Stat.String()
	default:
		body, decode := a.unwrapGSS(m, c, rb.Areply.Verf, body, true)
		if decode && c.prog != nil {
			c.prog.decodeReply(a, m, c, body, f, ts)
		}
	}
	if m.Status != "" && !okStatus[m.Status] && len(m.Ops) == 0 {
		a.diag.failed(c.stat, m.Status, m.Frame, f.dst.Addr())
	}
	a.diag.answered(c.stat, m.Latency, m.Frame, a.opts.Slow, m.Status != "" && !okStatus[m.Status])
	a.emit(*m)
}

// unwrapGSS strips RPCSEC_GSS integrity protection (RFC 2203 §5.3.2.2)
// from a call or reply body and reports whether the body can be decoded.
func (a *analyzer) unwrapGSS(m *Message, c *call, auth rpcxdr.OpaqueAuth, body []byte, reply bool) ([]byte, bool) {
	if !reply {
		if auth.Flavor != rpcxdr.RPCSEC_GSS {
			return body, true
		}
		var cred rpcxdr.RpcGssCredT
		if err := xdr.Unmarshal(auth.Body, &cred); err != nil {
			m.Problem = "undecodable RPCSEC_GSS credential"
			return body, false
		}
		v1 := cred.RpcCredentialsVers1
		if v1.GssProc != rpcxdr.RPCSEC_GSS_DATA {
			m.Detail = v1.GssProc.String()
			c.gss = -1
			return body, false
		}
		c.gss = v1.Service
	}
	switch c.gss {
	case -1:
		return body, false
	case rpcxdr.Rpc_gss_svc_integrity:
		r := xdr.NewReader(body)
		data := r.Opaque(xdr.Unbounded)
		if r.Err() != nil || len(data) < 4 {
			m.Problem = "truncated RPCSEC_GSS integrity wrapper"
			return body, false
		}
		return data[4:], true // the sequence number comes first
	case rpcxdr.Rpc_gss_svc_privacy:
		m.Detail = "encrypted (krb5p)"
		return body, false
	}
	return body, true
}

// emit keeps a message line unless only the summary is wanted.
func (a *analyzer) emit(m Message) {
	if !a.opts.SummaryOnly {
		a.rep.Messages = append(a.rep.Messages, m)
	}
}
