package admin

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gonfs/gonfs/capture"
	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/stats"
)

// handle answers one request.
func (s *Server) handle(req Request) (any, error) {
	b := s.b
	noArgs := func() error {
		if len(req.Args) > 0 {
			return fmt.Errorf("%s takes no arguments", req.Cmd)
		}
		return nil
	}
	switch req.Cmd {
	case CmdExports:
		return exportsReply(b.Namespace()), noArgs()
	case CmdClients:
		return clientsReply(b), noArgs()
	case CmdSessions:
		return sessionsReply(b.NFS4()), noArgs()
	case CmdOpens:
		return opensReply(b.NFS4(), b.Namespace()), noArgs()
	case CmdLocks:
		return locksReply(b.NFS4(), b.Locks(), b.Namespace()), noArgs()
	case CmdDelegations:
		return delegationsReply(b.NFS4(), b.Namespace()), noArgs()
	case CmdInflight:
		return InflightReply{Requests: b.InFlight()}, noArgs()
	case CmdStats:
		snap := b.Stats().Snapshot()
		var text bytes.Buffer
		if err := stats.FormatNFSStat(&text, snap); err != nil {
			return nil, err
		}
		return StatsReply{Text: text.String(), Snapshot: snap}, noArgs()
	case CmdDebug:
		sw := b.Debug()
		if len(req.Args) > 0 {
			// "+nfs4" reads naturally beside "-rpc"; Apply wants "nfs4".
			spec := make([]string, len(req.Args))
			for i, a := range req.Args {
				spec[i] = strings.TrimPrefix(a, "+")
			}
			if err := sw.Apply(strings.Join(spec, " ")); err != nil {
				return nil, err
			}
		}
		return debugReply(sw), nil
	case CmdRevoke:
		return revoke(b, req)
	case CmdReload:
		if err := noArgs(); err != nil {
			return nil, err
		}
		file, res, warnings, err := b.Reload()
		if err != nil {
			return nil, err
		}
		return ReloadReply{File: file, ReloadResult: res, Warnings: warnings}, nil
	case CmdCapture:
		return captureCmd(b.Capture(), req)
	}
	return nil, fmt.Errorf("unknown command %q", req.Cmd)
}

func exportsReply(ns *namespace.Namespace) ExportsReply {
	var r ExportsReply
	table := ns.Table()
	var text bytes.Buffer
	table.Format(&text)
	r.Table = text.String()
	for _, e := range ns.Exports() {
		v := ExportView{ID: e.ID, Path: e.Config.Path, Dir: e.Config.Dir, Fsid: e.Config.Fsid.String()}
		for _, rule := range e.Config.Rules {
			v.Rules = append(v.Rules, RuleView{Client: rule.Spec, Options: rule.Options.String()})
		}
		r.Exports = append(r.Exports, v)
	}
	var walk func(p *namespace.PseudoNode)
	walk = func(p *namespace.PseudoNode) {
		if p.Export == nil {
			r.Pseudo = append(r.Pseudo, p.Path)
		}
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(ns.PseudoRoot())
	return r
}

// clientIDString is how client IDs are shown and typed: 16 hex digits.
func clientIDString(id state.ClientID) string { return fmt.Sprintf("%016x", uint64(id)) }

// ParseClientID reads a client ID as shown by "clients" (hex, with or
// without 0x).
func ParseClientID(s string) (state.ClientID, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("client ID %q: want the hexadecimal ID that \"clients\" shows", s)
	}
	return state.ClientID(v), nil
}

func clientsReply(b Backend) ClientsReply {
	var r ClientsReply
	if m := b.NFS4(); m != nil {
		snap := m.Snapshot()
		r.NFS4 = NFS4Info{Available: true, Lease: snap.Lease, InGrace: snap.InGrace, GraceEnds: snap.GraceEnds}
		for _, c := range snap.Clients {
			r.NFS4.Clients = append(r.NFS4.Clients, clientView(c, snap))
		}
	}
	r.NLM = NLMInfo{Hosts: b.NLMHosts(), Table: b.Locks().Stats()}
	r.Findings = b.Collisions()
	return r
}

func clientView(c state.ClientInfo, snap state.Snapshot) ClientView {
	v := ClientView{
		ID: clientIDString(c.ClientID), Owner: c.Owner, Principal: c.Principal, Addrs: c.Addrs,
		Created: c.Created, LastRenew: c.LastRenew, Expires: c.Expires, Reboots: c.Reboots,
		Sessions: len(c.Sessions), Opens: len(c.Opens), Locks: len(c.Locks),
		ReclaimComplete: c.ReclaimComplete, Revoked: c.Revoked,
	}
	switch {
	case c.State == state.Active && snap.Now.After(c.Expires):
		v.Lease = "expired" // not yet reaped by the lease tick
	default:
		v.Lease = string(c.State)
	}
	v.Callback = "none"
	for _, s := range c.Sessions {
		if slices.ContainsFunc(mapValues(s.Conns), func(d state.ConnDir) bool { return d&state.ConnBack != 0 }) {
			v.Callback = "up"
		}
	}
	if c.CallbackDown {
		v.Callback = "down"
	}
	for _, e := range c.Verifiers {
		v.Verifiers = append(v.Verifiers, VerifierView{Time: e.Time, Verifier: hex.EncodeToString(e.Verifier[:]),
			Addr: e.Addr, ClientID: clientIDString(e.ClientID)})
	}
	return v
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func sessionsReply(m *state.Manager) SessionsReply {
	if m == nil {
		return SessionsReply{}
	}
	r := SessionsReply{Available: true}
	for _, c := range m.Snapshot().Clients {
		for _, s := range c.Sessions {
			v := SessionView{Client: clientIDString(c.ClientID), ID: hex.EncodeToString(s.SessionID[:]),
				Created: s.Created, Slots: s.Slots, Busy: s.Busy, MaxReq: s.Fore.MaxRequestSize,
				MaxResp: s.Fore.MaxResponseSize, MaxOps: s.Fore.MaxOperations, BackSlots: s.Back.MaxRequests,
				Conns: len(s.Conns), CBProgram: s.CBProgram}
			for _, d := range s.Conns {
				if d&state.ConnBack != 0 {
					v.BackConns++
				}
			}
			r.Sessions = append(r.Sessions, v)
		}
	}
	return r
}

// stateidString shows a stateid as knfsd's debug output does: seqid, then
// the other field in hex.
func stateidString(s state.Stateid) string {
	return fmt.Sprintf("%d:%s", s.Seqid, hex.EncodeToString(s.Other[:]))
}

// fileRef decodes a lock table file key: the export id (4 bytes, big
// endian) and the backend handle, the layout nlm.FileKey defines and
// NFSv4 shares.
func fileRef(key lock.FileKey, ns *namespace.Namespace) FileRef {
	if len(key) < 4 {
		return FileRef{Handle: hex.EncodeToString([]byte(key))}
	}
	r := FileRef{ExportID: binary.BigEndian.Uint32([]byte(key[:4])), Handle: hex.EncodeToString([]byte(key[4:]))}
	r.Export = exportPath(r.ExportID, ns)
	return r
}

func shareString(m lock.ShareMode) string {
	switch m {
	case lock.ShareNone:
		return "none"
	case lock.ShareRead:
		return "read"
	case lock.ShareWrite:
		return "write"
	case lock.ShareBoth:
		return "both"
	}
	return strconv.Itoa(int(m))
}

func opensReply(m *state.Manager, ns *namespace.Namespace) OpensReply {
	if m == nil {
		return OpensReply{}
	}
	r := OpensReply{Available: true}
	for _, c := range m.Snapshot().Clients {
		for _, o := range c.Opens {
			r.Opens = append(r.Opens, OpenView{Client: clientIDString(c.ClientID), Stateid: stateidString(o.Stateid),
				Owner: o.Owner, File: fileRef(o.File, ns), Access: shareString(o.Access), Deny: shareString(o.Deny)})
		}
	}
	return r
}

// allLocker is a lock table that can list every held lock. lock.Table
// offers no such listing yet; when it gains one under this name the NLM
// locks appear in "locks" without a change here.
type allLocker interface {
	All() []lock.FileLock
}

func lockView(l lock.Lock, file lock.FileKey, ns *namespace.Namespace) LockView {
	v := LockView{Proto: l.Owner.Kind.String(), Client: l.Owner.Client, Owner: ownerString(l.Owner),
		File: fileRef(file, ns), Start: l.Range.Start(), Type: "read"}
	if !l.Range.ToEOF() {
		end := l.Range.End()
		v.End = &end
	}
	if l.Exclusive {
		v.Type = "write"
	}
	return v
}

// ownerString shows an owner's ID: NLM packs svid (4 bytes) and the owner
// handle (nlm's ownerID); NFSv4 owners are opaque bytes.
func ownerString(o lock.Owner) string {
	if o.Kind == lock.NLM && len(o.ID) >= 4 {
		return fmt.Sprintf("svid %d oh %s", int32(binary.BigEndian.Uint32([]byte(o.ID[:4]))), hex.EncodeToString([]byte(o.ID[4:])))
	}
	return printable(o.ID)
}

func printable(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func locksReply(m *state.Manager, t *lock.Table, ns *namespace.Namespace) LocksReply {
	r := LocksReply{Table: t.Stats()}
	if all, ok := any(t).(allLocker); ok {
		r.NLMListed = true
		for _, l := range all.All() {
			if l.Owner.Kind == lock.NLM {
				r.Locks = append(r.Locks, lockView(l.Lock, l.File, ns))
			}
		}
	}
	if m != nil {
		for _, c := range m.Snapshot().Clients {
			for _, li := range c.Locks {
				for _, l := range li.Locks {
					v := lockView(l, li.File, ns)
					v.Client, v.Owner, v.Stateid = clientIDString(c.ClientID), li.Owner, stateidString(li.Stateid)
					r.Locks = append(r.Locks, v)
				}
			}
		}
	}
	return r
}

func debugReply(sw *debuglog.Switches) DebugReply {
	r := DebugReply{On: []string{}}
	for _, s := range sw.On() {
		r.On = append(r.On, s.String())
	}
	for _, s := range debuglog.Subsystems() {
		r.Subsystems = append(r.Subsystems, s.String())
	}
	return r
}

func revoke(b Backend, req Request) (any, error) {
	if len(req.Args) != 1 {
		return nil, errors.New("revoke takes one client: an NFSv4 client ID, or an NLM host name with --nlm")
	}
	if req.NLM {
		n, err := b.RevokeNLM(req.Args[0])
		if err != nil {
			return nil, err
		}
		return RevokeReply{Proto: "NLM", Client: req.Args[0], Files: n}, nil
	}
	id, err := ParseClientID(req.Args[0])
	if err != nil {
		return nil, err
	}
	ok, err := b.RevokeNFS4(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no NFSv4 client %s", clientIDString(id))
	}
	return RevokeReply{Proto: "NFS4", Client: clientIDString(id)}, nil
}

func captureCmd(sw *capture.Switch, req Request) (any, error) {
	if sw == nil {
		return nil, errors.New("capture is not available on this server")
	}
	switch {
	case len(req.Args) == 0:
		st, ok := sw.Status()
		if !ok {
			return CaptureReply{}, nil
		}
		return CaptureReply{Running: true, Status: &st}, nil
	case req.Args[0] == "start" && len(req.Args) == 2:
		file := req.Args[1]
		if !path.IsAbs(file) {
			// The server's working directory means nothing to the
			// operator typing the name; ctl sends absolute paths.
			return nil, fmt.Errorf("capture file %q: give an absolute path", file)
		}
		st, err := sw.Start(file, capture.Options{Port: req.Port, MaxSize: req.MaxSize})
		if err != nil {
			return nil, err
		}
		return CaptureReply{Running: true, Status: &st}, nil
	case req.Args[0] == "stop" && len(req.Args) == 1:
		st, err := sw.Stop()
		if errors.Is(err, capture.ErrNotRunning) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("capture stopped with an error: %w", err)
		}
		return CaptureReply{Status: &st}, nil
	}
	return nil, errors.New("capture takes: start FILE, stop, or nothing for its status")
}

func delegationsReply(m *state.Manager, ns *namespace.Namespace) DelegationsReply {
	if m == nil {
		return DelegationsReply{}
	}
	snap := m.Snapshot()
	r := DelegationsReply{Available: true}
	for _, d := range snap.Delegations {
		v := DelegView{Client: clientIDString(d.ClientID), Stateid: stateidString(d.Stateid), File: fileRef(d.File, ns),
			Type: "read", Recalled: d.Recalled, RecallAt: d.RecallAt, Revoked: d.Revoked}
		if d.Type == state.DelegWrite {
			v.Type = "write"
		}
		r.Delegations = append(r.Delegations, v)
	}
	for id, c := range snap.DelegCounters {
		r.Counters = append(r.Counters, DelegCounters{ExportID: id, Export: exportPath(id, ns),
			Grants: c.Grants, Recalls: c.Recalls, Returns: c.Returns, Revocations: c.Revocations})
	}
	slices.SortFunc(r.Counters, func(a, b DelegCounters) int { return cmp.Compare(a.ExportID, b.ExportID) })
	return r
}

// exportPath is the path of the export with id, or "" when it is gone.
func exportPath(id uint32, ns *namespace.Namespace) string {
	for _, e := range ns.Exports() {
		if e.ID == id {
			return e.Config.Path
		}
	}
	return ""
}
