package capture

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ErrRunning is returned by Switch.Start while a capture runs.
var ErrRunning = errors.New("capture: a capture is already running")

// ErrNotRunning is returned by Switch.Stop when no capture runs.
var ErrNotRunning = errors.New("capture: no capture is running")

// Switch is a sunrpc.Tap that passes records to the capture started on
// it, if any. The zero value is ready and captures nothing.
type Switch struct {
	mu sync.Mutex // serializes Start and Stop
	w  atomic.Pointer[Writer]
}

// Record implements sunrpc.Tap.
func (s *Switch) Record(local, remote netip.AddrPort, proto string, inbound bool, data []byte) {
	if w := s.w.Load(); w != nil {
		w.Record(local, remote, proto, inbound, data)
	}
}

// Idle reports that no capture runs, so that the server may send file
// data without it passing through memory (sunrpc.IdleTap).
func (s *Switch) Idle() bool { return s.w.Load() == nil }

// Start begins a capture into the file at path.
func (s *Switch) Start(path string, opts Options) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Load() != nil {
		return Status{}, ErrRunning
	}
	w, err := Create(path, opts)
	if err != nil {
		return Status{}, err
	}
	s.w.Store(w)
	return w.Status(), nil
}

// Stop ends the running capture and returns its final status.
func (s *Switch) Stop() (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.w.Swap(nil)
	if w == nil {
		return Status{}, ErrNotRunning
	}
	err := w.Close()
	return w.Status(), err
}

// Status reports the running capture, if any.
func (s *Switch) Status() (Status, bool) {
	if w := s.w.Load(); w != nil {
		return w.Status(), true
	}
	return Status{}, false
}
