package mount

import (
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/xdr"
)

// export serves MOUNTPROC3_EXPORT (RFC 1813 Appendix I, "Procedure 5:
// EXPORT"): every export path with its client specs as the groups, as
// showmount -e prints them. Like mountd it answers any caller; the export
// table is not a secret from the hosts that can reach the server.
func (s *Server) export(w *xdr.Writer) {
	var head *mountxdr.Exportnode
	list := s.ns.Table().List()
	for i := len(list) - 1; i >= 0; i-- {
		var groups *mountxdr.Groupnode
		cl := list[i].Clients
		for j := len(cl) - 1; j >= 0; j-- {
			groups = &mountxdr.Groupnode{GrName: mountxdr.Name(cl[j]), GrNext: groups}
		}
		head = &mountxdr.Exportnode{ExDir: mountxdr.Dirpath(list[i].Path), ExGroups: groups, ExNext: head}
	}
	w.Bool(head != nil)
	if head != nil {
		head.Encode(w)
	}
}
