// Package server assembles a complete gonfs server: the RPC layer, the
// built-in portmapper, MOUNT, NFSv3, NLM and NSM over one listening port,
// serving the exports of an exports table from local directories (or any
// vfs backend). It is what `gonfs serve` runs and what a Go program embeds:
//
//	srv, err := server.New(server.Options{Exports: exports.Default("/srv/data")})
//	...
//	err = srv.Start(ctx)
//	defer srv.Shutdown(context.Background())
//
// Concurrency: Start, Addr and Shutdown may be called from any goroutine;
// the server runs its own goroutines until Shutdown returns.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs3"
	"github.com/gonfs/gonfs/nfs4"
	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nlm"
	"github.com/gonfs/gonfs/portmap"
	"github.com/gonfs/gonfs/stats"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/localfs"
)

// DefaultListen is where the server listens unless told otherwise.
const DefaultListen = "127.0.0.1:2049"

// Options configure a Server.
type Options struct {
	// Exports is the exports table to serve (required).
	Exports *exports.Table
	// Listen is the TCP and UDP address for NFS, MOUNT, NLM and NSM
	// (default DefaultListen). Port 0 picks a free port (the same for
	// TCP and UDP).
	Listen string
	// StateDir keeps what must survive a restart: the file handle key,
	// the backend's handle index, the NSM state. Default: DefaultStateDir().
	StateDir string
	// Portmap is the address of the built-in portmapper. Empty: port 111
	// on the host of Listen, if it can be bound (logged otherwise). "off"
	// disables it.
	Portmap string
	// Backend opens the filesystem of an export (default: localfs on
	// the export's directory).
	Backend namespace.Opener
	// Logger receives the server's logs (default: discard).
	Logger *slog.Logger
	// GracePeriod is how long after a restart only lock reclaims are
	// granted (default 90 s, as knfsd).
	GracePeriod time.Duration
	// NoDelegations turns NFSv4 delegations off for every export (each
	// export can also say nodelegations).
	NoDelegations bool
	// Lease is the NFSv4 lease time (default 90 s, as knfsd's
	// nfsv4leasetime): how long a silent client keeps its state.
	Lease time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NSMName is the name this server gives itself in SM_NOTIFY after a
	// restart; it must be the name clients mounted it by, or their statd
	// ignores the notice. Default: the address each client reached.
	NSMName string
	// Stats counts calls and operations (default: a new stats.Stats).
	Stats *stats.Stats
	// Debug holds the per-subsystem debug switches that the logger obeys
	// (default: new switches, all on when Logger is enabled at Debug,
	// else all off). They can be changed while the server runs.
	Debug *debuglog.Switches
	// ClientKeyByAddress makes NFSv4 clients that send one owner string
	// from different addresses different clients (nfs4.Options; see
	// nfs4/clientkey.go for the risks). Off by default, as RFC 8881
	// requires; for AUTH_SYS networks whose clients cannot be given
	// unique identities.
	ClientKeyByAddress bool
	// CollisionWindow is how far back the NFSv4 client owner collision
	// detector looks (default 3 × Lease; package nfs4/collide).
	CollisionWindow time.Duration
	// AdminSocket is the Unix socket of the admin interface (`gonfs
	// ctl`; package admin). Default: admin.sock in StateDir; "off"
	// disables it.
	AdminSocket string
	// ExportsFile is the exports(5) file Exports was read from, if any:
	// the admin "reload" command reads it again.
	ExportsFile string
	// Sendfile says which TCP connections get large READ data sent
	// straight from the file with sendfile(2) (default: clients not on
	// loopback; see sunrpc.SendfileMode).
	Sendfile sunrpc.SendfileMode
}

// DefaultStateDir is $XDG_STATE_HOME/gonfs, or ~/.local/state/gonfs.
func DefaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "gonfs")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "gonfs")
	}
	return filepath.Join(os.TempDir(), "gonfs-state")
}

// Server is a running NFS server.
type Server struct {
	opts  Options
	log   *slog.Logger
	rpc   *sunrpc.Server
	ns    *namespace.Namespace
	nfs3  *nfs3.Server
	nfs4  *nfs4.Server
	locks *lock.Table
	nlm   *nlm.Server
	stats *stats.Stats
	debug *debuglog.Switches
	adm   adminHooks // admin.go
	// collisions watches NFSv4 client owners (nfs4.go).
	collisions *collide.Detector

	mu            sync.Mutex
	tcp           net.Listener
	udp           net.PacketConn
	pmap          *portmap.Server
	pmapRPC       *sunrpc.Server
	pmapTCP       net.Listener
	pmapUDP       net.PacketConn
	pmapNote      string
	rpcbindTarget string
	wg            sync.WaitGroup
	closers       []func() error
}

// New builds a server; nothing listens until Start.
func New(opts Options) (*Server, error) {
	if opts.Exports == nil {
		return nil, errors.New("server: no exports")
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = 90 * time.Second
	}
	if opts.Lease == 0 {
		opts.Lease = 90 * time.Second
	}
	if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: state directory: %w", err)
	}
	// Observability: stats, and every logger through the debug switches.
	if opts.Stats == nil {
		opts.Stats = stats.New(stats.Options{})
	}
	if opts.Debug == nil {
		opts.Debug = new(debuglog.Switches)
		if opts.Logger.Enabled(context.Background(), slog.LevelDebug) {
			opts.Debug.SetAll()
		}
	}
	opts.Logger = slog.New(debuglog.NewHandler(opts.Logger.Handler(), opts.Debug))
	s := &Server{opts: opts, log: opts.Logger, stats: opts.Stats, debug: opts.Debug}
	key, err := fhandle.LoadKey(opts.StateDir)
	if err != nil {
		return nil, err
	}
	codec, err := fhandle.New(key)
	if err != nil {
		return nil, err
	}
	open := opts.Backend
	if open == nil {
		open = s.openLocal
	}
	s.ns, err = namespace.New(opts.Exports, codec, func(e *exports.Export) (vfs.FS, error) {
		fs, err := open(e)
		if c, ok := fs.(io.Closer); ok && err == nil {
			s.closers = append(s.closers, c.Close)
		}
		return fs, err
	})
	if err != nil {
		s.closeAll()
		return nil, err
	}
	s.rpc = sunrpc.NewServer(sunrpc.Options{Logger: s.log.With("sub", "rpc"), Clock: opts.Now,
		Observer: s.observer(opts.Stats), Tap: &s.adm.capture, Sendfile: opts.Sendfile})
	if err := s.registerMore(); err != nil {
		s.closeAll()
		return nil, err
	}
	return s, nil
}

// openLocal serves an export from its directory, with the backend's
// handle index in a per-export directory of the state directory.
func (s *Server) openLocal(e *exports.Export) (vfs.FS, error) {
	st := filepath.Join(s.opts.StateDir, "index", strconv.FormatUint(uint64(hashPath(e.Dir)), 16))
	return localfs.New(e.Dir, localfs.Options{StateDir: st})
}

func hashPath(p string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(p); i++ {
		h ^= uint32(p[i])
		h *= 16777619
	}
	return h
}

func (s *Server) closeAll() {
	for _, c := range s.closers {
		c()
	}
	s.closers = nil
}

// Namespace returns the served exports.
func (s *Server) Namespace() *namespace.Namespace { return s.ns }

// RPC returns the RPC server, to register further programs before Start.
func (s *Server) RPC() *sunrpc.Server { return s.rpc }

// Stats returns the server's statistics.
func (s *Server) Stats() *stats.Stats { return s.stats }

// Debug returns the debug switches the server's loggers obey; changing
// them takes effect at once.
func (s *Server) Debug() *debuglog.Switches { return s.debug }

// Start listens on the configured address over TCP and UDP and serves
// until Shutdown.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The admin socket first: a second server on one state directory
	// fails here, before it takes any port.
	if err := s.startAdmin(ctx); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.stopAdmin()
		}
	}()
	var lc net.ListenConfig
	tcp, err := lc.Listen(ctx, "tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	// UDP on the port TCP got, so that port 0 gives one port for both.
	udp, err := lc.ListenPacket(ctx, "udp", tcp.Addr().String())
	if err != nil {
		tcp.Close()
		return fmt.Errorf("server: %w", err)
	}
	s.tcp, s.udp = tcp, udp
	s.serve(tcp, udp)
	s.startPortmap(ctx)
	s.afterStart(ctx)
	return nil
}

func (s *Server) serve(l net.Listener, pc net.PacketConn) {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.rpc.ServeTCP(l); err != nil && !errors.Is(err, sunrpc.ErrServerClosed) {
			s.log.Error("tcp serve", "addr", l.Addr(), "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.rpc.ServeUDP(pc); err != nil && !errors.Is(err, sunrpc.ErrServerClosed) {
			s.log.Error("udp serve", "addr", pc.LocalAddr(), "err", err)
		}
	}()
}

// Addr returns the TCP address the server listens on (nil before Start).
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return netip.AddrPort{}
	}
	return s.tcp.Addr().(*net.TCPAddr).AddrPort()
}

// PortmapAddr returns where the built-in portmapper listens, or the reason
// it does not.
func (s *Server) PortmapAddr() (netip.AddrPort, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pmapTCP == nil {
		return netip.AddrPort{}, s.pmapNote
	}
	return s.pmapTCP.Addr().(*net.TCPAddr).AddrPort(), ""
}

// Shutdown stops listening, waits for requests in progress (until ctx
// ends) and releases the backends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAdmin()
	s.beforeShutdown()
	s.stopPortmap(ctx)
	err := s.rpc.Shutdown(ctx)
	s.wg.Wait()
	s.mu.Lock()
	s.closeAll()
	s.mu.Unlock()
	return err
}
