package nlm

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// store is the stable state in the state directory:
//
//	state      the NSM state number, decimal text
//	sm/        one file per monitored client of this run
//	sm.bak/    clients of earlier runs not yet told of our restart
//
// Client files are named by a hash of the client name (names may be up to
// 1024 bytes of anything) and hold a JSON record. Every write goes to a
// temporary file that is synced and renamed over the old one, so a crash
// leaves either version, never a torn one.
type store struct {
	dir string
}

// record is what we keep of a client to notify it after our restart.
type record struct {
	Name  string   `json:"name"`  // caller_name
	Addrs []string `json:"addrs"` // addresses it locked from, newest first
	Local string   `json:"local"` // our address it reached, to send from
}

const (
	stateFile = "state"
	smDir     = "sm"
	bakDir    = "sm.bak"
)

func openStore(dir string) (*store, error) {
	for _, d := range []string{dir, filepath.Join(dir, smDir), filepath.Join(dir, bakDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("nlm: state directory: %w", err)
		}
	}
	return &store{dir: dir}, nil
}

// advanceState reads the state number of the previous run and stores the
// next odd one (statd semantics: odd while up, even while down; XNFS
// chapter 11). rebooted reports that there was a previous run.
func (st *store) advanceState() (state int32, rebooted bool, err error) {
	p := filepath.Join(st.dir, stateFile)
	var prev int64
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		prev, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 32)
		if err != nil || prev < 0 {
			return 0, false, fmt.Errorf("nlm: %s: bad NSM state %q", p, b)
		}
		rebooted = true
	case !errors.Is(err, fs.ErrNotExist):
		return 0, false, fmt.Errorf("nlm: %w", err)
	}
	next := (prev + 1) | 1
	if next > 1<<31-1 {
		next = 1 // wrapped; a change is all peers look for
	}
	if err := writeAtomic(p, []byte(strconv.FormatInt(next, 10)+"\n")); err != nil {
		return 0, false, err
	}
	return int32(next), rebooted, nil
}

// setState stores state (SM_SIMU_CRASH).
func (st *store) setState(state int32) error {
	return writeAtomic(filepath.Join(st.dir, stateFile), []byte(strconv.FormatInt(int64(state), 10)+"\n"))
}

func recordFile(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// put writes the record of a monitored client.
func (st *store) put(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(st.dir, smDir, recordFile(r.Name)), append(b, '\n'))
}

// remove drops the record of name from sm/.
func (st *store) remove(name string) error {
	return removeSynced(filepath.Join(st.dir, smDir, recordFile(name)))
}

// removeNotified drops the record of name from sm.bak/ once the client has
// been told of our restart.
func (st *store) removeNotified(name string) error {
	return removeSynced(filepath.Join(st.dir, bakDir, recordFile(name)))
}

// takePrevious moves the records of the previous run from sm/ to sm.bak/
// (where records of runs before it may still wait) and returns everything
// in sm.bak/. Moving first keeps a client that locks again in this run,
// and so gets a new record in sm/, from losing it when its old one is
// removed after notification.
func (st *store) takePrevious() ([]record, error) {
	sm, bak := filepath.Join(st.dir, smDir), filepath.Join(st.dir, bakDir)
	ents, err := os.ReadDir(sm)
	if err != nil {
		return nil, fmt.Errorf("nlm: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			os.Remove(filepath.Join(sm, e.Name())) // a temporary file left by a crash
			continue
		}
		if err := os.Rename(filepath.Join(sm, e.Name()), filepath.Join(bak, e.Name())); err != nil {
			return nil, fmt.Errorf("nlm: %w", err)
		}
	}
	if len(ents) > 0 {
		syncDir(sm)
		syncDir(bak)
	}
	ents, err = os.ReadDir(bak)
	if err != nil {
		return nil, fmt.Errorf("nlm: %w", err)
	}
	var out []record
	for _, e := range ents {
		p := filepath.Join(bak, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			os.Remove(p) // a temporary file left by a crash
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("nlm: %w", err)
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil || r.Name == "" {
			os.Remove(p) // unreadable: nothing to notify
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// writeAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("nlm: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("nlm: %w", err)
	}
	syncDir(dir)
	return nil
}

func removeSynced(path string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("nlm: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename or removal in dir durable. Errors are ignored:
// some filesystems cannot sync a directory, and the data itself is synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
