package lock

import (
	"errors"
	"fmt"
	"slices"
)

// ShareMode is a set of access bits, used both for what a share holder does
// (access) and for what it forbids others (deny). The values are those of
// NLM fsh_access / fsh_mode (fsa_R=1, fsa_W=2, fsm_DR=1, fsm_DW=2; RFC 1813
// Appendix II) and of NFSv4 OPEN4_SHARE_ACCESS_* / OPEN4_SHARE_DENY_*
// (RFC 8881 §18.16.3), so both layers can convert with a plain cast.
type ShareMode uint8

// Share mode bits.
const (
	ShareNone  ShareMode = 0
	ShareRead  ShareMode = 1
	ShareWrite ShareMode = 2
	ShareBoth  ShareMode = ShareRead | ShareWrite
)

// ErrShareDenied reports a share request that conflicts with another
// owner's share: NLM4_DENIED, NFS4ERR_SHARE_DENIED.
var ErrShareDenied = errors.New("lock: share reservation denied")

// ErrInvalidShare reports a share mode with bits other than read and write.
var ErrInvalidShare = errors.New("lock: invalid share mode")

// Share is a share reservation as reported to callers.
type Share struct {
	Owner  Owner
	Access ShareMode
	Deny   ShareMode
}

type share struct {
	owner        *owner
	access, deny ShareMode
}

// shareConflict is the DOS share-mode rule (RFC 8881 §9.7): a request
// conflicts with an existing reservation when what it wants to do is
// denied by it, or when what it denies is being done under it.
func shareConflict(access, deny ShareMode, s *share) bool {
	return access&s.deny != 0 || deny&s.access != 0
}

// Share sets owner's share reservation on file to (access, deny), replacing
// any it had there (NLM SHARE). A caller that lets one owner hold several
// opens, as NFSv4 does, passes the union of their modes. Shares and
// byte-range locks do not interact. ErrShareDenied is returned, changing
// nothing, when another owner's reservation conflicts.
func (t *Table) Share(key FileKey, id Owner, access, deny ShareMode) error {
	if access|deny > ShareBoth {
		return fmt.Errorf("%w: access %d deny %d", ErrInvalidShare, access, deny)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f, o := t.files[key], t.owners[id]
	if f != nil {
		for i := range f.shares {
			if s := &f.shares[i]; s.owner != o && shareConflict(access, deny, s) {
				return fmt.Errorf("%w: held by %s %q %q", ErrShareDenied, s.owner.id.Kind, s.owner.id.Client, s.owner.id.ID)
			}
		}
		for i := range f.shares {
			if s := &f.shares[i]; s.owner == o {
				s.access, s.deny = access, deny
				return nil
			}
		}
	}
	f, o = t.fileFor(key), t.ownerFor(id)
	f.shares = append(f.shares, share{owner: o, access: access, deny: deny})
	t.nshares++
	t.ref(o, f, 1)
	return nil
}

// Unshare removes owner's share reservation on file (NLM UNSHARE) and
// reports whether it had one.
func (t *Table) Unshare(key FileKey, id Owner) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, o := t.files[key], t.owners[id]
	if f == nil || o == nil {
		return false
	}
	ok := t.removeShare(f, o)
	t.release(o, f)
	return ok
}

func (t *Table) removeShare(f *file, o *owner) bool {
	for i := range f.shares {
		if f.shares[i].owner == o {
			f.shares = slices.Delete(f.shares, i, i+1)
			t.nshares--
			t.ref(o, f, -1)
			return true
		}
	}
	return false
}

// Shares lists the share reservations on file, oldest first.
func (t *Table) Shares(key FileKey) []Share {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.files[key]
	if f == nil {
		return nil
	}
	out := make([]Share, 0, len(f.shares))
	for _, s := range f.shares {
		out = append(out, Share{Owner: s.owner.id, Access: s.access, Deny: s.deny})
	}
	return out
}
