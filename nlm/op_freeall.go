package nlm

// freeAll is NLMPROC4_FREE_ALL: the client name (nlm4_notify.name)
// rebooted and tells us directly; everything it held is released (XNFS,
// NLM_FREE_ALL). Its waiters' queued requests go too, and the requests of
// other clients this lets through are granted.
func (s *Server) freeAll(name string) {
	s.mu.Lock()
	woken := s.releaseClient(name)
	s.mu.Unlock()
	s.Wake(woken)
}
