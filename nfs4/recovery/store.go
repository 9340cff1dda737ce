package recovery

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gonfs/gonfs/nfs4/state"
	bolt "go.etcd.io/bbolt"
)

// FileName is the store's file in the state directory.
const FileName = "nfs4-clients.db"

var (
	bucketClients = []byte("clients") // co_ownerid → principal
	bucketMeta    = []byte("meta")
	keyEpoch      = []byte("boot-epoch") // uint32, big-endian
	keyOwner      = []byte("server-owner")
)

// Store is the recovery store. It implements nfs4.RecoveryStore.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	// A short lock timeout: a second server on the same state directory
	// should fail at once rather than hang.
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketClients); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(bucketMeta)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("recovery: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Put writes r, replacing any record with the same owner.
func (s *Store) Put(r state.ClientRecord) error {
	if len(r.Owner) == 0 {
		return errors.New("recovery: record without owner")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClients).Put(r.Owner, []byte(r.Principal))
	})
}

// Delete removes the record of r.Owner; a missing record is no error.
func (s *Store) Delete(r state.ClientRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClients).Delete(r.Owner)
	})
}

// List returns every record, ordered by owner: the clients allowed to
// reclaim (state.Options.PreviousClients).
func (s *Store) List() ([]state.ClientRecord, error) {
	var out []state.ClientRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClients).ForEach(func(k, v []byte) error {
			out = append(out, state.ClientRecord{Owner: append([]byte(nil), k...), Principal: string(v)})
			return nil
		})
	})
	return out, err
}

// NextEpoch increments the stored boot epoch and returns the new value
// (at least the start time in seconds). Call it once per server start, before the
// state.Manager is made (state.Options.BootEpoch).
func (s *Store) NextEpoch() (uint32, error) {
	var epoch uint32
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keyEpoch); len(v) == 4 {
			epoch = binary.BigEndian.Uint32(v)
		}
		// At least the start time in seconds, so that a server whose
		// store was lost still does not reuse a recent epoch, and epochs
		// are not small numbers a client could guess; always more than
		// the last one, so a clock set back cannot repeat one.
		epoch = max(epoch+1, uint32(time.Now().Unix()))
		if epoch == 0 { // 0 would look unset
			epoch = 1
		}
		return b.Put(keyEpoch, binary.BigEndian.AppendUint32(nil, epoch))
	})
	return epoch, err
}

// ServerOwner returns this server's identity for eir_server_owner and
// eir_server_scope (RFC 8881 §2.5): made at random on the first call and
// kept, so that it is the same after a restart (clients then know they
// may reclaim here) and differs from any other server's.
func (s *Store) ServerOwner() ([]byte, error) {
	var owner []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keyOwner); len(v) > 0 {
			owner = append([]byte(nil), v...)
			return nil
		}
		var id [12]byte
		if _, err := rand.Read(id[:]); err != nil {
			return err
		}
		owner = []byte("gonfs-" + hex.EncodeToString(id[:]))
		return b.Put(keyOwner, owner)
	})
	return owner, err
}
