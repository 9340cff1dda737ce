package namespace

import (
	"encoding/binary"
	"hash/fnv"
	"path"
	"slices"
	"strings"

	"github.com/gonfs/gonfs/vfs"
)

// PseudoExportID is the export id of the NFSv4 pseudo-filesystem's handles
// (RFC 8881 §7.3): the directories above the exports that exist only so a
// client can walk from "/" to each export.
const PseudoExportID = 0

// PseudoNode is a directory of the pseudo-filesystem. A node whose Export
// is set is an export's root: there the client crosses into the export.
type PseudoNode struct {
	Path     string
	Name     string
	FileID   uint64
	Parent   *PseudoNode // nil for the root
	Children []*PseudoNode
	Export   *Export // set where an export is mounted on this node
}

// Child returns the child called name.
func (p *PseudoNode) Child(name string) (*PseudoNode, bool) {
	for _, c := range p.Children {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// buildPseudo makes the pseudo tree holding every export path. Node ids
// derive from paths, so handles to pseudo directories survive restarts
// as long as the exports do.
func (v *view) buildPseudo() {
	root := &PseudoNode{Path: "/", FileID: pseudoFileID("/")}
	v.pseudo = map[uint64]*PseudoNode{root.FileID: root}
	v.pseudoRoot = root
	for _, e := range v.list {
		p := path.Clean(e.Config.Path)
		node := root
		if p != "/" {
			for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
				child, ok := node.Child(part)
				if !ok {
					cp := path.Join(node.Path, part)
					child = &PseudoNode{Path: cp, Name: part, FileID: pseudoFileID(cp), Parent: node}
					node.Children = append(node.Children, child)
					v.pseudo[child.FileID] = child
				}
				node = child
			}
		}
		node.Export = e
		e.Mount = node
	}
	for _, node := range v.pseudo {
		slices.SortFunc(node.Children, func(a, b *PseudoNode) int { return strings.Compare(a.Name, b.Name) })
	}
}

func pseudoFileID(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	// Keep pseudo ids apart from small backend inode numbers.
	return h.Sum64() | 1<<63
}

// PseudoRoot returns the root of the pseudo-filesystem. When an export is
// mounted at "/", the root node carries it and clients land straight in it.
func (n *Namespace) PseudoRoot() *PseudoNode { return n.cur.Load().pseudoRoot }

// PseudoHandle appends the wire handle of a pseudo node to dst.
func (n *Namespace) PseudoHandle(dst []byte, p *PseudoNode) []byte {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], p.FileID)
	return n.codec.Append(dst, PseudoExportID, vfs.Handle(id[:]))
}

// ResolveAny is Resolve that also accepts pseudo-filesystem handles: it
// returns either an export and backend handle, or a pseudo node.
func (n *Namespace) ResolveAny(fh []byte) (*Export, vfs.Handle, *PseudoNode, error) {
	id, h, err := n.codec.Decode(fh)
	if err != nil {
		return nil, nil, nil, err
	}
	v := n.cur.Load()
	if id == PseudoExportID {
		if len(h) != 8 {
			return nil, nil, nil, ErrUnknownExport
		}
		p, ok := v.pseudo[binary.BigEndian.Uint64(h)]
		if !ok {
			return nil, nil, nil, ErrUnknownExport
		}
		return nil, nil, p, nil
	}
	e, ok := v.byID[id]
	if !ok {
		return nil, nil, nil, ErrUnknownExport
	}
	return e, h, nil, nil
}
