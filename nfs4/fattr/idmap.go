package fattr

import (
	"errors"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IDMapper translates between uids and gids and the owner and owner_group
// strings of NFSv4 (RFC 8881 §5.9). Implementations must be safe for
// concurrent use; they are called on every GETATTR, so they should answer
// from memory.
type IDMapper interface {
	// UserName and GroupName always answer: an id with no name becomes
	// its numeric string.
	UserName(uid uint32) string
	GroupName(gid uint32) string
	// UID and GID fail (with an error wrapping ErrBadOwner) for a string
	// they cannot map; SETATTR then answers NFS4ERR_BADOWNER.
	UID(name string) (uint32, error)
	GID(name string) (uint32, error)
}

// NameAppender may be implemented by an IDMapper to write names into an
// encode buffer without allocating a string per GETATTR.
type NameAppender interface {
	AppendUserName(dst []byte, uid uint32) []byte
	AppendGroupName(dst []byte, gid uint32) []byte
}

// ErrBadOwner reports an owner or group string that maps to no id.
var ErrBadOwner = errors.New("fattr: unknown owner or group")

// Directory is where a Mapper looks names up: the local user and group
// databases by default (OSDirectory). Implementations must be safe for
// concurrent use.
type Directory interface {
	UserName(uid uint32) (string, bool)
	UserID(name string) (uint32, bool)
	GroupName(gid uint32) (string, bool)
	GroupID(name string) (uint32, bool)
}

// OSDirectory returns the Directory of os/user: /etc/passwd and
// /etc/group, or the C library's name service when cgo is on.
func OSDirectory() Directory { return osDirectory{} }

type osDirectory struct{}

func (osDirectory) UserName(uid uint32) (string, bool) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", false
	}
	return u.Username, true
}

func (osDirectory) UserID(name string) (uint32, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	return parseID(u.Uid)
}

func (osDirectory) GroupName(gid uint32) (string, bool) {
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10))
	if err != nil {
		return "", false
	}
	return g.Name, true
}

func (osDirectory) GroupID(name string) (uint32, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	return parseID(g.Gid)
}

// MapperOptions configures a Mapper. The zero value gives numeric strings
// only.
type MapperOptions struct {
	// Domain is the NFSv4 id mapping domain (idmapd.conf's Domain). Empty:
	// numeric strings both ways, and no lookups at all.
	Domain string
	// Directory is where names come from; nil means OSDirectory.
	Directory Directory
	// TTL is how long a lookup, found or not, is remembered; 0 means ten
	// minutes.
	TTL time.Duration
	// Now is the clock for TTL; nil means time.Now.
	Now func() time.Time
}

// Mapper is the default IDMapper.
//
// With no domain it sends ids as numeric strings ("1000") and accepts only
// numeric strings: what the Linux client does with AUTH_SYS by default
// (nfs4_disable_idmapping), and correct for any client whose uids agree
// with the server's, which AUTH_SYS assumes anyway.
//
// With a domain it sends "name@domain" for ids the local databases know
// and numeric strings for the rest, and accepts "name@domain" (domain
// compared without case) as well as numeric strings, which RFC 8881 §5.9
// lets AUTH_SYS clients send. Lookups are cached for TTL, misses too, so a
// GETATTR costs a map lookup.
//
// The zero Mapper is ready to use and numeric-only. A Mapper is safe for
// concurrent use.
type Mapper struct {
	domain string
	dir    Directory
	ttl    time.Duration
	now    func() time.Time

	users, groups     cache[uint32, string]
	userIDs, groupIDs cache[string, idEntry]
}

// NewMapper returns a Mapper configured by o.
func NewMapper(o MapperOptions) *Mapper {
	m := &Mapper{domain: o.Domain, dir: o.Directory, ttl: o.TTL, now: o.Now}
	if m.dir == nil {
		m.dir = OSDirectory()
	}
	if m.ttl <= 0 {
		m.ttl = 10 * time.Minute
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Domain returns the configured domain, "" for numeric-only.
func (m *Mapper) Domain() string { return m.domain }

func (m *Mapper) UserName(uid uint32) string {
	if m.domain == "" {
		return strconv.FormatUint(uint64(uid), 10)
	}
	return m.name(&m.users, uid, m.dir.UserName)
}

func (m *Mapper) GroupName(gid uint32) string {
	if m.domain == "" {
		return strconv.FormatUint(uint64(gid), 10)
	}
	return m.name(&m.groups, gid, m.dir.GroupName)
}

func (m *Mapper) AppendUserName(dst []byte, uid uint32) []byte {
	if m.domain == "" {
		return strconv.AppendUint(dst, uint64(uid), 10)
	}
	return append(dst, m.name(&m.users, uid, m.dir.UserName)...)
}

func (m *Mapper) AppendGroupName(dst []byte, gid uint32) []byte {
	if m.domain == "" {
		return strconv.AppendUint(dst, uint64(gid), 10)
	}
	return append(dst, m.name(&m.groups, gid, m.dir.GroupName)...)
}

func (m *Mapper) UID(name string) (uint32, error) {
	return m.id(&m.userIDs, name, m.lookupUser)
}

func (m *Mapper) GID(name string) (uint32, error) {
	return m.id(&m.groupIDs, name, m.lookupGroup)
}

func (m *Mapper) lookupUser(n string) (uint32, bool)  { return m.dir.UserID(n) }
func (m *Mapper) lookupGroup(n string) (uint32, bool) { return m.dir.GroupID(n) }

// name returns the string for id: "name@domain", or numeric when the
// directory has no name for it.
func (m *Mapper) name(c *cache[uint32, string], id uint32, look func(uint32) (string, bool)) string {
	now := m.now()
	if s, ok := c.get(id, now); ok {
		return s
	}
	var s string
	if n, ok := look(id); ok {
		s = n + "@" + m.domain
	} else {
		s = strconv.FormatUint(uint64(id), 10)
	}
	c.put(id, s, now.Add(m.ttl))
	return s
}

// id maps an owner string to an id. Numeric strings never reach the
// directory.
func (m *Mapper) id(c *cache[string, idEntry], s string, look func(string) (uint32, bool)) (uint32, error) {
	if id, ok := parseID(s); ok {
		return id, nil
	}
	if m.domain == "" {
		return 0, ErrBadOwner
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !strings.EqualFold(s[at+1:], m.domain) {
		return 0, ErrBadOwner
	}
	now := m.now()
	e, ok := c.get(s, now)
	if !ok {
		e.id, e.ok = look(s[:at])
		c.put(s, e, now.Add(m.ttl))
	}
	if !e.ok {
		return 0, ErrBadOwner
	}
	return e.id, nil
}

// idEntry is a cached name lookup; ok false remembers a miss.
type idEntry struct {
	id uint32
	ok bool
}

// parseID parses the numeric form of an owner string: decimal digits, no
// sign, no leading zero (so that each id has one spelling, which VERIFY
// compares), fitting in 32 bits.
func parseID(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// maxCached bounds each cache; when full it is emptied, which is simpler
// than an LRU and costs only lookups again.
const maxCached = 4096

// cache is a map with expiring entries, safe for concurrent use.
type cache[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]cached[V]
}

type cached[V any] struct {
	v   V
	exp time.Time
}

func (c *cache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[K, V]) put(k K, v V, exp time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[K]cached[V])
	}
	c.m[k] = cached[V]{v: v, exp: exp}
	c.mu.Unlock()
}
