package admin

import (
	"encoding/json"
	"time"

	"github.com/gonfs/gonfs/capture"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/stats"
)

// Commands a server answers.
const (
	CmdExports     = "exports"
	CmdClients     = "clients"
	CmdSessions    = "sessions"
	CmdOpens       = "opens"
	CmdLocks       = "locks"
	CmdDelegations = "delegations"
	CmdInflight    = "inflight"
	CmdStats       = "stats"
	CmdDebug       = "debug"
	CmdRevoke      = "revoke"
	CmdReload      = "reload"
	CmdCapture     = "capture"
)

// Request is one line from the client.
type Request struct {
	Cmd string `json:"cmd"`
	// Args are the command's words: debug switches ("nfs4", "-rpc"),
	// the client to revoke, "start FILE" or "stop" for capture.
	Args []string `json:"args,omitempty"`
	// NLM makes revoke take an NLM host name instead of an NFSv4 client
	// ID.
	NLM bool `json:"nlm,omitempty"`
	// Port and MaxSize are the capture start options (capture.Options).
	Port    uint16 `json:"port,omitempty"`
	MaxSize int64  `json:"max_size,omitempty"`
}

// Response is one line from the server: Data on success, else Error.
type Response struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// ExportsReply answers "exports".
type ExportsReply struct {
	Exports []ExportView `json:"exports"`
	// Table is the exports table in exports(5) syntax with every option
	// spelled out (exports.Table.Format).
	Table string `json:"table"`
	// Pseudo lists the NFSv4 pseudo-filesystem directories that are not
	// exports themselves.
	Pseudo []string `json:"pseudo,omitempty"`
}

// ExportView is one export.
type ExportView struct {
	ID    uint32     `json:"id"`
	Path  string     `json:"path"`
	Dir   string     `json:"dir"`
	Fsid  string     `json:"fsid,omitempty"`
	Rules []RuleView `json:"rules"`
}

// RuleView is one client rule of an export.
type RuleView struct {
	Client  string `json:"client"`
	Options string `json:"options"`
}

// ClientsReply answers "clients".
type ClientsReply struct {
	NFS4 NFS4Info `json:"nfs4"`
	NLM  NLMInfo  `json:"nlm"`
	// Findings are client-owner collisions and restart series, newest
	// first (package nfs4/collide).
	Findings []collide.Finding `json:"findings,omitempty"`
}

// NFS4Info is the NFSv4 state's summary and its clients.
type NFS4Info struct {
	// Available is false when the server has no NFSv4.
	Available bool          `json:"available"`
	Lease     time.Duration `json:"lease_ns"`
	InGrace   bool          `json:"in_grace"`
	GraceEnds time.Time     `json:"grace_ends,omitzero"`
	Clients   []ClientView  `json:"clients"`
}

// ClientView is one NFSv4 client record.
type ClientView struct {
	// ID is the client ID in hexadecimal, as revoke takes it.
	ID        string   `json:"id"`
	Owner     string   `json:"owner"` // printable: non-printable owners are Go-quoted
	Principal string   `json:"principal"`
	Addrs     []string `json:"addrs"`
	// Lease is active, courtesy (expired, state kept until someone
	// conflicts), expired (past its lease, not yet reaped) or
	// unconfirmed.
	Lease           string         `json:"lease"`
	Created         time.Time      `json:"created"`
	LastRenew       time.Time      `json:"last_renew"`
	Expires         time.Time      `json:"expires"`
	Reboots         int            `json:"reboots"`
	Verifiers       []VerifierView `json:"verifiers"`
	Callback        string         `json:"callback"` // "up", "down" or "none" (no back channel)
	Sessions        int            `json:"sessions"`
	Opens           int            `json:"opens"`
	Locks           int            `json:"locks"`
	ReclaimComplete bool           `json:"reclaim_complete"`
	Revoked         int            `json:"revoked"`
}

// VerifierView is one EXCHANGE_ID that created a record for the owner.
type VerifierView struct {
	Time     time.Time `json:"time"`
	Verifier string    `json:"verifier"` // hex
	Addr     string    `json:"addr"`
	ClientID string    `json:"client_id"`
}

// NLMInfo is what the lock manager knows of NFSv3 clients.
type NLMInfo struct {
	// Hosts are the clients NSM monitors (those that held locks), to be
	// told of a server restart.
	Hosts []NLMHost `json:"hosts"`
	// Table counts the shared lock table (NLM and NFSv4 together).
	Table lock.Stats `json:"table"`
}

// NLMHost is one monitored NLM client.
type NLMHost struct {
	Name  string   `json:"name"` // caller_name, as revoke --nlm takes it
	Addrs []string `json:"addrs"`
}

// SessionsReply answers "sessions".
type SessionsReply struct {
	Available bool          `json:"available"`
	Sessions  []SessionView `json:"sessions"`
}

// SessionView is one NFSv4.1 session.
type SessionView struct {
	Client    string    `json:"client"`
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Slots     int       `json:"slots"`
	Busy      int       `json:"busy"`
	MaxReq    uint32    `json:"max_request"`
	MaxResp   uint32    `json:"max_response"`
	MaxOps    uint32    `json:"max_ops"`
	BackSlots uint32    `json:"back_slots"`
	Conns     int       `json:"conns"`
	BackConns int       `json:"back_conns"`
	CBProgram uint32    `json:"cb_program"`
}

// OpensReply answers "opens".
type OpensReply struct {
	Available bool       `json:"available"`
	Opens     []OpenView `json:"opens"`
}

// OpenView is one NFSv4 open stateid.
type OpenView struct {
	Client  string  `json:"client"`
	Stateid string  `json:"stateid"`
	Owner   string  `json:"owner"`
	File    FileRef `json:"file"`
	Access  string  `json:"access"`
	Deny    string  `json:"deny"`
}

// FileRef is a lock table file key decoded: the export it is in and the
// backend handle (hex).
type FileRef struct {
	ExportID uint32 `json:"export_id"`
	Export   string `json:"export,omitempty"` // path; empty when the export is gone
	Handle   string `json:"handle"`
}

// LocksReply answers "locks".
type LocksReply struct {
	Locks []LockView `json:"locks"`
	// NLMListed is false when the lock table cannot list the NLM locks
	// (only NFSv4 locks, from the NFSv4 state, are then in Locks); Table
	// still counts them.
	NLMListed bool       `json:"nlm_listed"`
	Table     lock.Stats `json:"table"`
}

// LockView is one held byte-range lock.
type LockView struct {
	Proto   string  `json:"proto"` // "NFS4" or "NLM"
	Client  string  `json:"client"`
	Owner   string  `json:"owner"`
	Stateid string  `json:"stateid,omitempty"`
	File    FileRef `json:"file"`
	Start   uint64  `json:"start"`
	// End is the last byte, or null when the lock runs to end of file.
	End  *uint64 `json:"end"`
	Type string  `json:"type"` // "read" or "write"
}

// DelegationsReply answers "delegations".
type DelegationsReply struct {
	Available   bool            `json:"available"`
	Delegations []DelegView     `json:"delegations"`
	Counters    []DelegCounters `json:"counters"`
}

// DelegView is one delegation, live or revoked and not yet freed.
type DelegView struct {
	Client   string    `json:"client"`
	Stateid  string    `json:"stateid"`
	File     FileRef   `json:"file"`
	Type     string    `json:"type"` // "read" or "write"
	Recalled bool      `json:"recalled"`
	RecallAt time.Time `json:"recall_at,omitzero"`
	Revoked  bool      `json:"revoked"`
}

// DelegCounters count what happened to the delegations of one export.
type DelegCounters struct {
	ExportID    uint32 `json:"export_id"`
	Export      string `json:"export,omitempty"`
	Grants      uint64 `json:"grants"`
	Recalls     uint64 `json:"recalls"`
	Returns     uint64 `json:"returns"`
	Revocations uint64 `json:"revocations"`
}

// InflightReply answers "inflight".
type InflightReply struct {
	Requests []InFlight `json:"requests"`
}

// InFlight is one call running now.
type InFlight struct {
	Transport string        `json:"transport"`
	Client    string        `json:"client"`
	XID       uint32        `json:"xid"`
	Prog      uint32        `json:"prog"`
	Vers      uint32        `json:"vers"`
	Proc      string        `json:"proc"`          // "NFSv3 READ", "NFSv4 COMPOUND", ...
	Ops       []string      `json:"ops,omitempty"` // NFSv4 COMPOUND: the first operations
	Started   time.Time     `json:"started"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// StatsReply answers "stats".
type StatsReply struct {
	// Text is stats.FormatNFSStat's report.
	Text     string          `json:"text"`
	Snapshot *stats.Snapshot `json:"snapshot"`
}

// DebugReply answers "debug": the switches after the change, if any.
type DebugReply struct {
	On         []string `json:"on"`
	Subsystems []string `json:"subsystems"`
}

// RevokeReply answers "revoke".
type RevokeReply struct {
	Proto  string `json:"proto"` // "NFS4" or "NLM"
	Client string `json:"client"`
	// Files is how many files the NLM host held locks or shares on.
	Files int `json:"files,omitempty"`
}

// ReloadReply answers "reload".
type ReloadReply struct {
	File string `json:"file"`
	namespace.ReloadResult
	Warnings []string `json:"warnings,omitempty"`
}

// CaptureReply answers "capture": the capture running (after start), the
// one just stopped (after stop), or none.
type CaptureReply struct {
	Running bool            `json:"running"`
	Status  *capture.Status `json:"status,omitempty"`
}
