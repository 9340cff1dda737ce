package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// maxLine bounds a request line.
const maxLine = 64 << 10

// idleTimeout closes a connection that sends no request for this long.
const idleTimeout = 5 * time.Minute

// Server is a running admin socket; see Serve.
type Server struct {
	l       *net.UnixListener
	b       Backend
	peerUID func(*net.UnixConn) (uint32, error)
	uid     uint32

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Serve listens on a Unix socket at path (mode 0600) and answers requests
// there with b until ctx ends or Close is called. A stale socket left by a
// server that died is replaced; a socket some running server answers on
// is an error. Only connections whose peer has the server's uid are
// served.
func Serve(ctx context.Context, path string, b Backend) (*Server, error) {
	return serve(ctx, path, b, peerCred)
}

// serve is Serve with the peer credential check given, so tests can play
// another user.
func serve(ctx context.Context, path string, b Backend, peerUID func(*net.UnixConn) (uint32, error)) (*Server, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	// The state directory is 0700 already; the mode is a second wall.
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("admin: %w", err)
	}
	s := &Server{l: l, b: b, peerUID: peerUID, uid: uint32(os.Getuid()),
		stop: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shut()
		case <-s.stop:
		}
	}()
	go s.accept()
	return s, nil
}

// removeStale removes a socket at path that nobody answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("admin: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("admin: another server answers on %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("admin: %w", err)
	}
	return nil
}

// Addr returns the socket's path.
func (s *Server) Addr() string { return s.l.Addr().String() }

// Close stops listening, closes every connection, removes the socket and
// waits for the connection goroutines.
func (s *Server) Close() error {
	s.shut()
	s.wg.Wait()
	return nil
}

func (s *Server) shut() {
	s.once.Do(func() {
		close(s.stop)
		s.l.Close() // unlinks the socket
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		s.mu.Lock()
		select {
		case <-s.stop:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// peerCred is the uid of the process at the other end (SO_PEERCRED:
// credentials taken by the kernel at connect time).
func peerCred(c *net.UnixConn) (uint32, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		cred *unix.Ucred
		serr error
	)
	if err := rc.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return cred.Uid, nil
}

func (s *Server) serveConn(c *net.UnixConn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		s.wg.Done()
	}()
	enc := json.NewEncoder(c)
	uid, err := s.peerUID(c)
	if err != nil || uid != s.uid {
		msg := fmt.Sprintf("admin: refused: peer uid %d is not the server's uid %d", uid, s.uid)
		if err != nil {
			msg = "admin: refused: peer credentials: " + err.Error()
		}
		enc.Encode(Response{Error: msg})
		return
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxLine)
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		if !sc.Scan() {
			return
		}
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = "admin: bad request: " + err.Error()
		} else if data, err := s.handle(req); err != nil {
			resp.Error = err.Error()
		} else if resp.Data, err = json.Marshal(data); err != nil {
			resp.Error = "admin: " + err.Error()
		} else {
			resp.OK = true
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}
