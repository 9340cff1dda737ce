package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gonfs/gonfs/admin"
	"github.com/gonfs/gonfs/capture"
	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nfs4/recovery"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/stats"
	"github.com/gonfs/gonfs/sunrpc"
)

// adminHooks is what the admin interface needs beyond the rest of Server:
// the running calls, the capture switch the RPC layer's tap goes
// through, and the NFSv4 state and store (for revoke).
type adminHooks struct {
	inflight *admin.Requests
	capture  capture.Switch
	nfs4     *state.Manager
	store    *recovery.Store

	mu  sync.Mutex // guards srv (Start holds Server.mu)
	srv *admin.Server
}

// observer is the RPC layer's observer: the statistics, and the registry
// of running calls for `gonfs ctl inflight`.
func (s *Server) observer(st *stats.Stats) sunrpc.Observer {
	s.adm.inflight = admin.NewRequests(s.opts.Now)
	return tee{st, s.adm.inflight}
}

// tee passes each call to both observers.
type tee [2]sunrpc.Observer

func (t tee) Start(c *sunrpc.Call) {
	t[0].Start(c)
	t[1].Start(c)
}

func (t tee) Done(c *sunrpc.Call, st sunrpc.Status, d time.Duration) {
	t[0].Done(c, st, d)
	t[1].Done(c, st, d)
}

// startAdmin opens the admin socket (Options.AdminSocket).
func (s *Server) startAdmin(ctx context.Context) error {
	path := s.opts.AdminSocket
	switch path {
	case "off":
		return nil
	case "":
		path = admin.SocketPath(s.opts.StateDir)
	}
	// Shutdown closes it, not the end of the ctx Start was given.
	srv, err := admin.Serve(context.WithoutCancel(ctx), path, adminBackend{s})
	if err != nil {
		return err
	}
	s.adm.mu.Lock()
	s.adm.srv = srv
	s.adm.mu.Unlock()
	return nil
}

// stopAdmin closes the admin socket and any capture.
func (s *Server) stopAdmin() {
	s.adm.mu.Lock()
	srv := s.adm.srv
	s.adm.srv = nil
	s.adm.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	s.adm.capture.Stop()
}

// adminBackend is the server as package admin sees it.
type adminBackend struct{ s *Server }

func (b adminBackend) Namespace() *namespace.Namespace { return b.s.ns }
func (b adminBackend) NFS4() *state.Manager            { return b.s.adm.nfs4 }
func (b adminBackend) Locks() *lock.Table              { return b.s.locks }
func (b adminBackend) InFlight() []admin.InFlight      { return b.s.adm.inflight.List() }
func (b adminBackend) Stats() *stats.Stats             { return b.s.stats }
func (b adminBackend) Debug() *debuglog.Switches       { return b.s.debug }
func (b adminBackend) Capture() *capture.Switch        { return &b.s.adm.capture }

// NLMHosts reads NSM's monitor list: the records the NLM server keeps in
// <state>/nsm/sm, one JSON file per client, to notify them after a
// restart (as statd's /var/lib/nfs/statd/sm). nlm offers no listing API;
// this reads its documented on-disk records instead.
func (b adminBackend) Collisions() []collide.Finding { return b.s.collisions.Findings() }

func (b adminBackend) NLMHosts() []admin.NLMHost {
	dir := filepath.Join(b.s.opts.StateDir, "nsm", "sm")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var hosts []admin.NLMHost
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var rec struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addrs"`
		}
		if json.Unmarshal(data, &rec) != nil || rec.Name == "" {
			continue
		}
		hosts = append(hosts, admin.NLMHost{Name: rec.Name, Addrs: rec.Addrs})
	}
	slices.SortFunc(hosts, func(a, b admin.NLMHost) int { return strings.Compare(a.Name, b.Name) })
	return hosts
}

// RevokeNFS4 evicts a client and does what the state leaves to the
// caller (nfs4/state doc.go): recovery records first, then NLM grants.
func (b adminBackend) RevokeNFS4(id state.ClientID) (bool, error) {
	m := b.s.adm.nfs4
	if m == nil {
		return false, errors.New("NFSv4 is not served")
	}
	found := false
	for _, c := range m.Snapshot().Clients {
		found = found || c.ClientID == id
	}
	if !found {
		return false, nil
	}
	eff := m.Evict(id)
	if st := b.s.adm.store; st != nil {
		for _, r := range eff.Remove {
			if err := st.Delete(r); err != nil {
				return true, err
			}
		}
		for _, r := range eff.Persist {
			if err := st.Put(r); err != nil {
				return true, err
			}
		}
	}
	if len(eff.Woken) > 0 {
		b.s.nlm.Wake(eff.Woken)
	}
	b.s.log.Info("admin: revoked NFSv4 client", "clientid", id)
	return true, nil
}

// RevokeNLM drops an NLM host's locks, as FREE_ALL would.
func (b adminBackend) RevokeNLM(name string) (int, error) {
	files, woken := b.s.locks.ReleaseClient(lock.NLM, name)
	if len(woken) > 0 {
		b.s.nlm.Wake(woken)
	}
	b.s.log.Info("admin: revoked NLM host", "name", name, "files", len(files))
	return len(files), nil
}

// Reload re-reads Options.ExportsFile into the namespace.
func (b adminBackend) Reload() (string, namespace.ReloadResult, []string, error) {
	file := b.s.opts.ExportsFile
	if file == "" {
		return "", namespace.ReloadResult{}, nil, errors.New("the server was not started with an exports file (--exports): nothing to reload")
	}
	t, err := exports.ParseFile(file)
	if err != nil {
		return file, namespace.ReloadResult{}, nil, err
	}
	res, err := b.s.ns.Reload(t)
	if err != nil {
		return file, res, nil, err
	}
	b.s.log.Info("admin: exports reloaded", "file", file, "kept", res.Kept, "added", res.Added, "removed", res.Removed)
	return file, res, t.Warnings, nil
}
