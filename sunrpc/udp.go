package sunrpc

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// udpSock is a socket ServeUDP serves.
type udpSock struct {
	pc    net.PacketConn
	udp   *net.UDPConn // pc when it is one: reads and writes then do not allocate
	local netip.AddrPort
}

// ServeUDP serves calls arriving as datagrams on pc until Shutdown or
// Close, when it returns ErrServerClosed; pc is closed then. Each datagram
// is one call (RFC 5531 §11 applies to streams only). Calls run
// concurrently within the server's total in-flight limit; when it is reached
// the socket is not read, and the kernel's buffer and the clients'
// retransmissions absorb the load.
func (s *Server) ServeUDP(pc net.PacketConn) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	s.packets[pc] = struct{}{}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()

	u := &udpSock{pc: pc, local: addrPort(pc.LocalAddr())}
	u.udp, _ = pc.(*net.UDPConn)
	var running sync.WaitGroup
	defer func() {
		running.Wait()
		pc.Close()
		s.mu.Lock()
		delete(s.packets, pc)
		s.mu.Unlock()
	}()
	var in interner
	buf := make([]byte, maxDatagram)
	for {
		var (
			n    int
			peer netip.AddrPort
			addr net.Addr
			err  error
		)
		if u.udp != nil {
			n, peer, err = u.udp.ReadFromUDPAddrPort(buf)
		} else {
			n, addr, err = pc.ReadFrom(buf)
			peer = addrPort(addr)
		}
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				continue
			}
			return err
		}
		req := getRequest()
		req.rec = append(req.rec[:0], buf[:n]...)
		req.udp = u
		req.call.Transport = "udp"
		req.call.Local = u.local
		req.call.Remote = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
		if t := s.opts.Tap; t != nil {
			t.Record(u.local, req.call.Remote, "udp", true, req.rec)
		}
		req.peer, req.peerAddr = peer, addr
		switch s.admit(req, &in) {
		case vClose, vReply:
			// RFC 5531 gives no way to answer garbage, and the
			// server makes no calls over UDP that a REPLY could
			// answer.
			putRequest(req)
			continue
		case vReplied:
			if len(req.w.Buf) > req.start {
				u.send(req, s.opts.Tap)
			}
			putRequest(req)
			continue
		}
		if !s.acquire(nil) {
			if req.drc {
				s.drc.abort(req.key)
			}
			putRequest(req)
			return ErrServerClosed
		}
		running.Add(1)
		go s.handleUDP(req, &running)
	}
}

func (s *Server) handleUDP(req *request, running *sync.WaitGroup) {
	if s.run(s.ctx, req) {
		if err := req.udp.send(req, s.opts.Tap); err != nil {
			s.log.Debug("sunrpc: udp reply failed", "remote", req.call.Remote.String(), "err", err)
		}
	}
	putRequest(req)
	<-s.global
	running.Done()
}

func (u *udpSock) send(req *request, tap Tap) error {
	if tap != nil {
		tap.Record(u.local, req.call.Remote, "udp", false, req.w.Buf)
	}
	var err error
	if u.udp != nil {
		_, err = u.udp.WriteToUDPAddrPort(req.w.Buf, req.peer)
	} else {
		_, err = u.pc.WriteTo(req.w.Buf, req.peerAddr)
	}
	return err
}
