package fattr

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"sync"
	"testing"
	"time"
)

// dir is a Directory held in maps, counting lookups.
type dir struct {
	mu            sync.Mutex
	users, groups map[uint32]string
	lookups       int
}

func fakeDir() *dir {
	return &dir{
		users:  map[uint32]string{1000: "alice", 0: "root"},
		groups: map[uint32]string{100: "users", 0: "root"},
	}
}

func (d *dir) count() { d.mu.Lock(); d.lookups++; d.mu.Unlock() }

func (d *dir) n() int { d.mu.Lock(); defer d.mu.Unlock(); return d.lookups }

func find(m map[uint32]string, name string) (uint32, bool) {
	for id, n := range m {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

func (d *dir) UserName(uid uint32) (string, bool)  { d.count(); n, ok := d.users[uid]; return n, ok }
func (d *dir) GroupName(gid uint32) (string, bool) { d.count(); n, ok := d.groups[gid]; return n, ok }
func (d *dir) UserID(name string) (uint32, bool)   { d.count(); return find(d.users, name) }
func (d *dir) GroupID(name string) (uint32, bool)  { d.count(); return find(d.groups, name) }

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		s  string
		id uint32
		ok bool
	}{
		{"0", 0, true},
		{"1000", 1000, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"99999999999", 0, false},
		{"", 0, false},
		{"01000", 0, false}, // one spelling per id
		{"-1", 0, false},
		{"+1", 0, false},
		{"1000 ", 0, false},
		{"1e3", 0, false},
		{"alice", 0, false},
	} {
		id, ok := parseID(tc.s)
		if id != tc.id || ok != tc.ok {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", tc.s, id, ok, tc.id, tc.ok)
		}
	}
}

func TestMapperNumeric(t *testing.T) {
	for name, m := range map[string]*Mapper{"zero": {}, "NewMapper": NewMapper(MapperOptions{})} {
		t.Run(name, func(t *testing.T) {
			if got := m.UserName(1000); got != "1000" {
				t.Errorf("UserName = %q", got)
			}
			if got := m.GroupName(0); got != "0" {
				t.Errorf("GroupName = %q", got)
			}
			if got := string(m.AppendGroupName([]byte("x"), 65534)); got != "x65534" {
				t.Errorf("AppendGroupName = %q", got)
			}
			if id, err := m.UID("1000"); id != 1000 || err != nil {
				t.Errorf("UID(1000) = %d, %v", id, err)
			}
			for _, bad := range []string{"alice", "alice@example.com", "", "01"} {
				if _, err := m.UID(bad); !errors.Is(err, ErrBadOwner) {
					t.Errorf("UID(%q) err = %v", bad, err)
				}
				if _, err := m.GID(bad); !errors.Is(err, ErrBadOwner) {
					t.Errorf("GID(%q) err = %v", bad, err)
				}
			}
		})
	}
}

func TestMapperDomain(t *testing.T) {
	d := fakeDir()
	m := NewMapper(MapperOptions{Domain: "example.com", Directory: d})
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"user", m.UserName(1000), "alice@example.com"},
		{"root", m.UserName(0), "root@example.com"},
		{"unknown uid falls back to numeric", m.UserName(4321), "4321"},
		{"group", m.GroupName(100), "users@example.com"},
		{"unknown gid", m.GroupName(7), "7"},
		{"append", string(m.AppendUserName([]byte("<"), 1000)), "<alice@example.com"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		name  string
		group bool
		id    uint32
		ok    bool
	}{
		{"alice@example.com", false, 1000, true},
		{"alice@EXAMPLE.COM", false, 1000, true},
		{"1000", false, 1000, true},
		{"4321", false, 4321, true},
		{"users@example.com", true, 100, true},
		{"alice@example.org", false, 0, false},
		{"bob@example.com", false, 0, false},
		{"alice", false, 0, false},
		{"@example.com", false, 0, false},
		{"users@example.com", false, 0, false}, // a group is not a user
	} {
		f := m.UID
		if tc.group {
			f = m.GID
		}
		id, err := f(tc.name)
		if tc.ok && (err != nil || id != tc.id) {
			t.Errorf("%q: %d, %v; want %d", tc.name, id, err, tc.id)
		}
		if !tc.ok && !errors.Is(err, ErrBadOwner) {
			t.Errorf("%q: %d, %v; want ErrBadOwner", tc.name, id, err)
		}
	}
}

func TestMapperCache(t *testing.T) {
	d := fakeDir()
	now := time.Unix(1000, 0)
	m := NewMapper(MapperOptions{Domain: "example.com", Directory: d, TTL: time.Minute,
		Now: func() time.Time { return now }})
	m.UserName(1000)
	m.UserName(1000)
	m.UserName(5) // a miss is remembered too
	m.UserName(5)
	m.UID("alice@example.com")
	m.UID("alice@example.com")
	m.UID("nobody@example.com")
	m.UID("nobody@example.com")
	m.UID("1000") // numeric never reaches the directory
	if got := d.n(); got != 4 {
		t.Errorf("%d lookups, want 4", got)
	}
	// A user added later shows once the entry expires.
	d.mu.Lock()
	d.users[5] = "eve"
	d.mu.Unlock()
	if got := m.UserName(5); got != "5" {
		t.Errorf("before expiry: %q", got)
	}
	now = now.Add(time.Minute)
	if got := m.UserName(5); got != "eve@example.com" {
		t.Errorf("after expiry: %q", got)
	}
}

func TestMapperCacheBound(t *testing.T) {
	m := NewMapper(MapperOptions{Domain: "d", Directory: fakeDir()})
	for i := uint32(0); i < maxCached+10; i++ {
		m.UserName(i)
	}
	m.users.mu.RLock()
	n := len(m.users.m)
	m.users.mu.RUnlock()
	if n > maxCached {
		t.Errorf("cache holds %d entries, bound %d", n, maxCached)
	}
}

func TestMapperConcurrent(t *testing.T) {
	m := NewMapper(MapperOptions{Domain: "example.com", Directory: fakeDir()})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint32(0); i < 200; i++ {
				m.UserName(i % 7)
				m.GID("users@example.com")
			}
		}()
	}
	wg.Wait()
	if got := m.UserName(1000); got != "alice@example.com" {
		t.Errorf("UserName = %q", got)
	}
}

func TestMapperAppendDoesNotAllocate(t *testing.T) {
	m := NewMapper(MapperOptions{Domain: "example.com", Directory: fakeDir()})
	buf := make([]byte, 0, 64)
	m.AppendUserName(buf, 1000) // fill the cache
	for name, mm := range map[string]*Mapper{"domain": m, "numeric": {}} {
		if n := testing.AllocsPerRun(100, func() { buf = mm.AppendUserName(buf[:0], 1000) }); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func TestOSDirectory(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skipf("no current user to look up: %v", err)
	}
	uid, _ := strconv.ParseUint(me.Uid, 10, 32)
	if uint64(os.Getuid()) != uid {
		t.Skip("user.Current disagrees with os.Getuid")
	}
	d := OSDirectory()
	name, ok := d.UserName(uint32(uid))
	if !ok || name != me.Username {
		t.Fatalf("UserName(%d) = %q, %v; want %q", uid, name, ok, me.Username)
	}
	if id, ok := d.UserID(me.Username); !ok || uint64(id) != uid {
		t.Errorf("UserID(%q) = %d, %v", me.Username, id, ok)
	}
	if _, ok := d.UserID("no such user, surely"); ok {
		t.Error("found a user that cannot exist")
	}
	if _, ok := d.GroupName(4294967290); ok {
		t.Error("found a group that should not exist")
	}
}
