package nlm

import (
	"context"
	"net/netip"

	"github.com/gonfs/gonfs/proto/nsmxdr"
)

// notifyPeer tells the client of r, from a goroutine, that our state is
// now state (SM_NOTIFY to its statd, XNFS chapter 11), trying each address
// it locked from, over TCP and then UDP (Linux statd listens on both, but
// some networks carry only one), with bounded retries. A delivered
// notification removes the record of the previous run; an undelivered one
// stays for the next start.
func (s *Server) notifyPeer(r record, state int32) {
	local, _ := netip.ParseAddr(r.Local)
	args := nsmxdr.StatChge{MonName: s.opts.Hostname, State: state}
	if !s.named && local.IsValid() {
		args.MonName = local.String()
	}
	var peers []netip.Addr
	for _, a := range r.Addrs {
		if p, err := netip.ParseAddr(a); err == nil {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return
	}
	s.goSafe(func() {
		err := s.retry(func(ctx context.Context) error {
			var err error
			for _, p := range peers {
				for _, network := range []string{"tcp", "udp"} {
					if err = s.callPeer(ctx, network, local, p, nsmxdr.SM_PROG, nsmxdr.SM_VERS, nsmxdr.SM_NOTIFY, &args, nil); err == nil {
						return nil
					}
				}
			}
			return err
		})
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("nlm: could not notify client of our restart", "client", r.Name, "addrs", r.Addrs, "err", err)
			}
			return
		}
		s.log.Info("nlm: notified client of our restart", "client", r.Name, "state", state)
		if s.store != nil {
			if err := s.store.removeNotified(r.Name); err != nil {
				s.log.Warn("nlm: removing client record", "client", r.Name, "err", err)
			}
		}
	})
}
