package debuglog

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// A Subsystem is one part of the server whose debug logs can be switched
// on and off on its own.
type Subsystem uint8

// The subsystems. Their names (String) are what loggers carry in their
// "sub" attribute and what operators type.
const (
	RPC      Subsystem = iota // sunrpc: records, dispatch, duplicate request cache
	Auth                      // credentials, flavors, squashing, export access
	NFS3                      // NFSv3 procedures
	NFS4                      // NFSv4 COMPOUND and operations
	State                     // NFSv4 state: clients, sessions, stateids, leases
	Lock                      // the byte-range lock table
	Callback                  // NFSv4 callbacks (backchannel)
	Backend                   // vfs backends
	Exports                   // the exports table and namespace
	Mount                     // the MOUNT protocol
	NLM                       // NLM and NSM
	Portmap                   // the built-in portmapper and rpcbind registration

	numSubsystems
)

var subsystemNames = [numSubsystems]string{
	RPC: "rpc", Auth: "auth", NFS3: "nfs3", NFS4: "nfs4", State: "state", Lock: "lock",
	Callback: "callback", Backend: "backend", Exports: "exports", Mount: "mount", NLM: "nlm",
	Portmap: "portmap",
}

// String returns the subsystem's name.
func (s Subsystem) String() string {
	if s < numSubsystems {
		return subsystemNames[s]
	}
	return fmt.Sprintf("Subsystem(%d)", uint8(s))
}

// Subsystems lists every subsystem, in order.
func Subsystems() []Subsystem {
	all := make([]Subsystem, numSubsystems)
	for i := range all {
		all[i] = Subsystem(i)
	}
	return all
}

// ParseSubsystem finds a subsystem by name. A name of the form
// "NAME-detail" (the server's "portmap-rpc") counts as NAME, so that a
// helper logger of a subsystem follows its switch.
func ParseSubsystem(name string) (Subsystem, bool) {
	for i, n := range subsystemNames {
		if name == n {
			return Subsystem(i), true
		}
	}
	if base, _, ok := strings.Cut(name, "-"); ok && base != "" {
		for i, n := range subsystemNames {
			if base == n {
				return Subsystem(i), true
			}
		}
	}
	return 0, false
}

// Switches is the set of subsystems whose debug logs are on. The zero value
// has every switch off; a nil *Switches reads as all off and must not be
// changed.
type Switches struct {
	bits atomic.Uint32
}

// Enabled reports whether the switch of sub is on.
func (w *Switches) Enabled(sub Subsystem) bool {
	return w != nil && sub < numSubsystems && w.bits.Load()&(1<<sub) != 0
}

// Set turns the switches of subs on.
func (w *Switches) Set(subs ...Subsystem) {
	w.bits.Or(mask(subs))
}

// Clear turns the switches of subs off.
func (w *Switches) Clear(subs ...Subsystem) {
	w.bits.And(^mask(subs))
}

// SetAll turns every switch on, ClearAll every switch off.
func (w *Switches) SetAll()   { w.bits.Store(1<<numSubsystems - 1) }
func (w *Switches) ClearAll() { w.bits.Store(0) }

// On lists the subsystems whose switch is on.
func (w *Switches) On() []Subsystem {
	var on []Subsystem
	for s := range numSubsystems {
		if w.Enabled(s) {
			on = append(on, s)
		}
	}
	return on
}

// String lists the names of the switches that are on, comma-separated
// ("" when none is).
func (w *Switches) String() string {
	var b strings.Builder
	for _, s := range w.On() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// Apply changes the switches as an operator writes it, the way
// `gonfs ctl debug` passes it on: a comma- or space-separated list of
// subsystem names, each turned on, or off when prefixed with '-'; "all"
// and "-all" (or "none") name every subsystem. Nothing changes when a name
// is unknown.
func (w *Switches) Apply(spec string) error {
	var set, clear uint32
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' }) {
		off := strings.HasPrefix(f, "-")
		name := strings.TrimPrefix(f, "-")
		var m uint32
		switch name {
		case "all":
			m = 1<<numSubsystems - 1
		case "none":
			m, off = 1<<numSubsystems-1, true
		default:
			s, ok := ParseSubsystem(name)
			if !ok || strings.Contains(name, "-") {
				return fmt.Errorf("debuglog: unknown subsystem %q", name)
			}
			m = 1 << s
		}
		if off {
			clear |= m
			set &^= m
		} else {
			set |= m
			clear &^= m
		}
	}
	// One compare-and-swap, so that no reader sees half of the change.
	for {
		old := w.bits.Load()
		if w.bits.CompareAndSwap(old, old&^clear|set) {
			return nil
		}
	}
}

func mask(subs []Subsystem) uint32 {
	var m uint32
	for _, s := range subs {
		if s < numSubsystems {
			m |= 1 << s
		}
	}
	return m
}
