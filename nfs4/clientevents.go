package nfs4

import (
	"log/slog"
	"strings"

	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nfs4/state"
)

// CollisionCounter counts client owner collisions (stats.Stats does).
// It must be safe for concurrent use.
type CollisionCounter interface {
	ClientOwnerCollision()
}

// ClientEventHook returns a state.Options.OnClientEvent that feeds the
// state's client record events to d and says what d finds: a collision
// (several clients sharing one owner string, see package collide) as one
// rate-limited WARN line naming the owner, every address, how often its
// state was torn down and the fix, counted in counter once per episode;
// a client restarting repeatedly as an INFO line. log should carry
// sub=nfs4; counter may be nil.
func ClientEventHook(d *collide.Detector, log *slog.Logger, counter CollisionCounter) func(state.ClientEvent) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ev state.ClientEvent) {
		a, ok := d.Observe(CollideEvent(ev))
		if !ok {
			return
		}
		if a.Count && counter != nil {
			counter.ClientOwnerCollision()
		}
		if !a.Warn {
			return
		}
		f := a.Finding
		attrs := []any{"owner", f.Owner, "addrs", strings.Join(f.Addrs, ","), "teardowns", f.Teardowns,
			"verifiers", len(f.Verifiers), "window", d.Window()}
		if f.Kind == collide.Collision {
			log.Warn("several NFSv4 clients share one client owner string: each one's EXCHANGE_ID destroys the others' "+
				"sessions, opens and locks (BADSESSION, STALE_CLIENTID, failed reclaims, EIO on soft mounts)",
				append(attrs, "fix", collide.Fix)...)
			return
		}
		log.Info("NFSv4 client restarted repeatedly, its state destroyed each time", attrs...)
	}
}

// CollideEvent converts a state event for the detector.
func CollideEvent(ev state.ClientEvent) collide.Event {
	out := collide.Event{Time: ev.Time, Owner: string(ev.Owner), Addr: ev.Addr, Verifier: ev.Verifier,
		Principal: ev.Principal, PrevAddrs: ev.PrevAddrs}
	switch ev.Kind {
	case state.ClientNew:
		out.Outcome = collide.OutcomeNew
	case state.ClientRestart:
		out.Outcome = collide.OutcomeRestart
	case state.ClientReplaced:
		out.Outcome = collide.OutcomeReplaced
	case state.ClientInUse:
		out.Outcome = collide.OutcomeInUse
	}
	return out
}
