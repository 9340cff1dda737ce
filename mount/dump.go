package mount

import (
	"cmp"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// Mount is one entry of the mount list.
type Mount struct {
	Host string    // the client's IP address
	Path string    // the path it mounted, cleaned
	Time time.Time // when it last mounted it
}

type mountKey struct{ host, path string }

// mountList is the advisory record of MNT minus UMNT.
type mountList struct {
	max int

	mu sync.Mutex
	m  map[mountKey]time.Time
}

func (l *mountList) add(host, p string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := mountKey{host, p}
	if _, ok := l.m[k]; !ok && len(l.m) >= l.max {
		return // full: the list is advisory, the mount still succeeds
	}
	if l.m == nil {
		l.m = make(map[mountKey]time.Time)
	}
	l.m[k] = now
}

func (l *mountList) remove(host, p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, mountKey{host, p})
}

func (l *mountList) removeHost(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.m {
		if k.host == host {
			delete(l.m, k)
		}
	}
}

// list returns the entries sorted by host, then path.
func (l *mountList) list() []Mount {
	l.mu.Lock()
	out := make([]Mount, 0, len(l.m))
	for k, t := range l.m {
		out = append(out, Mount{Host: k.host, Path: k.path, Time: t})
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b Mount) int {
		return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.Path, b.Path))
	})
	return out
}

// Mounts returns the mount list, for the admin view.
func (s *Server) Mounts() []Mount { return s.mounts.list() }

// dump serves MOUNTPROC3_DUMP: the mount list as a mountlist (RFC 1813
// Appendix I, "Procedure 2: DUMP").
func (s *Server) dump(w *xdr.Writer) {
	var head *mountxdr.Mountbody
	ms := s.mounts.list()
	for i := len(ms) - 1; i >= 0; i-- {
		head = &mountxdr.Mountbody{
			MlHostname:  mountxdr.Name(ms[i].Host),
			MlDirectory: mountxdr.Dirpath(ms[i].Path),
			MlNext:      head,
		}
	}
	w.Bool(head != nil)
	if head != nil {
		head.Encode(w)
	}
}

// umnt serves MOUNTPROC3_UMNT: it forgets the caller's mount of p. Like
// MNT it cleans the path, so the client may spell it either way.
func (s *Server) umnt(call *sunrpc.Call, p string) {
	s.mounts.remove(hostOf(call), path.Clean(p))
}

// umntall serves MOUNTPROC3_UMNTALL: it forgets every mount of the caller.
func (s *Server) umntall(call *sunrpc.Call) {
	s.mounts.removeHost(hostOf(call))
}
