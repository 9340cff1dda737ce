package debuglog

import (
	"context"
	"log/slog"
)

// KeySub is the attribute that names a logger's subsystem.
const KeySub = "sub"

// Handler wraps a slog.Handler and filters Debug records by subsystem.
//
// A record below Info from a logger whose "sub" attribute names a known
// subsystem passes only while that subsystem's switch is on, whatever the
// level of the wrapped handler: turning a switch on is how an operator asks
// for those records, so they are handed to the wrapped handler's Handle
// even when its own Enabled would say no (slog's built-in handlers write
// every record they are handed). Records at Info and above, and records of
// loggers without a known subsystem, are decided by the wrapped handler
// alone.
//
// The subsystem is taken from a "sub" attribute added with WithAttrs
// (Logger.With) outside any group; the last one wins. A "sub" attribute on a
// single record does not select a subsystem, because Enabled, which is
// asked before the record is built, cannot see it.
type Handler struct {
	inner   slog.Handler
	sw      *Switches
	sub     Subsystem
	hasSub  bool
	grouped bool // WithGroup was called: later attributes are nested
}

// NewHandler returns a Handler that passes records to inner and Debug
// records of subsystems as sw says. sw may be changed at any time.
func NewHandler(inner slog.Handler, sw *Switches) *Handler {
	return &Handler{inner: inner, sw: sw}
}

// Switches returns the switches the handler obeys.
func (h *Handler) Switches() *Switches { return h.sw }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	if level < slog.LevelInfo && h.hasSub {
		return h.sw.Enabled(h.sub)
	}
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler. It checks the switch again, for callers
// that hand it records without asking Enabled.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo && h.hasSub && !h.sw.Enabled(h.sub) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler, noting a "sub" attribute.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			if a.Key != KeySub {
				continue
			}
			if s, ok := ParseSubsystem(a.Value.Resolve().String()); ok {
				h2.sub, h2.hasSub = s, true
			} else {
				h2.hasSub = false
			}
		}
	}
	return &h2
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithGroup(name)
	h2.grouped = true
	return &h2
}
