package sunrpc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a TCP connection the server reads calls from. Handlers see it as
// Call.Conn and may keep it beyond the call: Conn.Call makes calls from server
// to client on the same connection (the NFSv4.1 backchannel, RFC 8881
// §2.10.3.1). Its methods are safe for concurrent use.
type Conn struct {
	srv           *Server
	id            uint64
	nc            net.Conn
	local, remote netip.AddrPort
	ctx           context.Context
	cancel        context.CancelFunc
	slots         chan struct{} // semaphore of MaxInFlightPerConn
	attach        bool          // replies may carry file spans (see Call.AttachFile)

	wmu sync.Mutex // one record written at a time, each whole

	// dlmu orders the reader's idle deadline against Shutdown's wake-up
	// deadline so that the wake-up is never overwritten.
	dlmu sync.Mutex

	running  sync.WaitGroup // handler goroutines of this connection
	inflight atomic.Int32
	in       interner // used by the reading goroutine only

	back backchannel // calls from the server to the client (Call)
}

// LocalAddr returns the server's end of the connection.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the client's end of the connection.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Context returns a context that is cancelled when the connection closes
// or the server is closed. Its Done channel is how a holder of the Conn (an
// NFSv4.1 session keeping its backchannel) learns that the connection is
// gone.
func (c *Conn) Context() context.Context { return c.ctx }

// ServeTCP accepts connections on l and serves each on its own goroutine
// until Shutdown or Close, when it returns ErrServerClosed. Temporary accept
// errors (out of file descriptors) are retried with a growing delay.
func (s *Server) ServeTCP(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()

	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("sunrpc: accept failed; retrying", "err", err, "delay", delay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-s.done:
					t.Stop()
					return ErrServerClosed
				}
				continue
			}
			s.mu.Lock()
			delete(s.listeners, l)
			s.mu.Unlock()
			return err
		}
		delay = 0
		s.startConn(nc)
	}
}

func (s *Server) startConn(nc net.Conn) {
	c := &Conn{
		srv:    s,
		id:     s.connIDs.Add(1),
		nc:     nc,
		local:  addrPort(nc.LocalAddr()),
		remote: addrPort(nc.RemoteAddr()),
		slots:  make(chan struct{}, s.opts.MaxInFlightPerConn),
		attach: connSupportsAttach(nc) && s.opts.Sendfile.sendfileFor(addrPort(nc.RemoteAddr())),
	}
	c.back.init(s.opts.MaxCallsPerConn)
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.cancel()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	go c.serve()
}

func (c *Conn) serve() {
	s := c.srv
	defer s.serving.Done()
	end := c.readLoop()
	// No reply can arrive any more: release the calls waiting for one
	// before waiting for handlers, which may be among them.
	c.back.close()
	switch end {
	case endShutdown:
		// Let running calls send their replies.
		c.running.Wait()
	case endEOF:
		// The client is gone or has half-closed: tell running calls,
		// and let them send what replies they still can.
		c.cancel()
		c.running.Wait()
	}
	c.nc.Close()
	c.cancel()
	c.running.Wait()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// readEnd says why a connection's reading stopped.
type readEnd int

const (
	endShutdown readEnd = iota // the server is shutting down
	endEOF                     // the client closed its side
	endBad                     // bad input, idle, or a broken connection: close at once
)

// readLoop reads and dispatches records until the connection ends.
func (c *Conn) readLoop() readEnd {
	s := c.srv
	br := bufio.NewReaderSize(c.nc, 32<<10)
	for {
		if !c.armDeadline() {
			return endShutdown
		}
		req := getRequest()
		rec, started, err := readRecord(br, req.rec, s.opts.MaxRecordSize)
		req.rec = rec
		if err != nil {
			putRequest(req)
			var ne net.Error
			switch {
			case s.shuttingDown():
				return endShutdown
			case errors.As(err, &ne) && ne.Timeout() && !started && (c.inflight.Load() > 0 || len(c.back.slots) > 0):
				continue // not idle: calls are running in one direction or the other
			case err == io.EOF:
				return endEOF
			case errors.Is(err, ErrRecordTooLarge) || errors.Is(err, errTooManyFragments):
				s.log.Warn("sunrpc: closing connection", "remote", c.remote.String(), "err", err)
			default:
				s.log.Debug("sunrpc: connection read failed", "remote", c.remote.String(), "err", err)
			}
			return endBad
		}
		if t := s.opts.Tap; t != nil {
			t.Record(c.local, c.remote, "tcp", true, rec)
		}
		if s.shuttingDown() {
			// Not started: the client retransmits it after reconnecting.
			putRequest(req)
			return endShutdown
		}
		req.conn = c
		req.framed = true
		req.call.Transport = "tcp"
		req.call.Local, req.call.Remote = c.local, c.remote
		req.call.Conn = c
		switch s.admit(req, &c.in) {
		case vClose:
			putRequest(req)
			s.log.Debug("sunrpc: garbage call header; closing connection", "remote", c.remote.String())
			return endBad
		case vReply:
			if !c.back.deliver(req.rec) {
				s.log.Debug("sunrpc: dropped a reply no call waits for",
					"remote", c.remote.String(), "xid", binary.BigEndian.Uint32(req.rec))
			}
			putRequest(req)
			continue
		case vReplied:
			var err error
			if len(req.w.Buf) > req.start {
				err = c.send(req.w.Buf)
			}
			putRequest(req)
			if err != nil {
				return endBad
			}
			continue
		}
		// A span attached to the reply is sent from the file when the
		// reply is written: not possible when the DRC must keep the
		// reply's bytes or a Tap must see them.
		req.call.attachable = c.attach && !req.drc && tapIdle(s.opts.Tap)
		if !s.acquire(c.slots) {
			if req.drc {
				s.drc.abort(req.key)
			}
			putRequest(req)
			return endShutdown
		}
		c.inflight.Add(1)
		c.running.Add(1)
		s.startWork(req)
	}
}

func (c *Conn) handle(req *request) {
	s := c.srv
	if s.run(c.ctx, req) {
		if err := c.sendReply(req); err != nil {
			c.nc.Close() // the reader sees the error and ends the connection
		}
	}
	c.finish(req)
	c.running.Done()
}

// finish frees a request whose reply is written (or not to be sent) and
// gives back its in-flight slots. Slots are held until the reply is
// written, so that a client that stops reading stops the reader too
// instead of piling up replies in memory.
func (c *Conn) finish(req *request) {
	putRequest(req)
	<-c.srv.global
	<-c.slots
	c.inflight.Add(-1)
}

// sendReply writes the reply of req, with its attached file span if it
// has one, as one record under the write lock.
func (c *Conn) sendReply(req *request) error {
	b, a := req.w.Buf, &req.call.att
	if a.active && (a.at > len(b) || a.at < req.start) {
		// The handler cut its reply back past the span and did not
		// detach it: a bug, but the reply without it is consistent.
		req.call.releaseAttachment()
	}
	if !a.active {
		return c.send(b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if t := c.srv.opts.Tap; !tapIdle(t) {
		c.tapAttached(t, b, a)
	}
	c.armWriteDeadline()
	return c.sendAttached(b, a)
}

// armWriteDeadline bounds the next write: a client that stops reading
// must not hold in-flight slots, which other clients share, for ever.
func (c *Conn) armWriteDeadline() {
	if d := c.srv.opts.WriteTimeout; d > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(d))
	}
}

// send writes one reply record; b starts with room for the record mark.
func (c *Conn) send(b []byte) error {
	setMark(b)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if t := c.srv.opts.Tap; t != nil {
		t.Record(c.local, c.remote, "tcp", false, b[4:])
	}
	c.armWriteDeadline()
	_, err := c.nc.Write(b)
	return err
}

// armDeadline sets the idle deadline for the next record. It reports false
// once the server is shutting down.
func (c *Conn) armDeadline() bool {
	c.dlmu.Lock()
	defer c.dlmu.Unlock()
	if c.srv.shuttingDown() {
		return false
	}
	if d := c.srv.opts.IdleTimeout; d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
	}
	return true
}

// wake makes a blocked read return so that the reader sees a shutdown.
func (c *Conn) wake() {
	c.dlmu.Lock()
	defer c.dlmu.Unlock()
	c.nc.SetReadDeadline(time.Unix(1, 0))
}
