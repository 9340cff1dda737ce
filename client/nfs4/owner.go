package nfs4

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// instances numbers the Clients of this process, so that two of them never
// present the same client owner.
var instances atomic.Uint64

// processNonce tells this process apart from an earlier one with the same
// pid (pids are reused).
var processNonce = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// machineID returns a stable identifier of this machine: /etc/machine-id,
// or a random id persisted under the user's cache directory. Hostnames are
// deliberately not used: containers and cloned guests share them, and two
// clients presenting one owner steal each other's state (RFC 8881 §2.4).
func machineID() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	p := filepath.Join(dir, "gonfs", "client-id")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	var r [16]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	if os.MkdirAll(filepath.Dir(p), 0o700) == nil {
		os.WriteFile(p, []byte(id+"\n"), 0o600)
	}
	return id
}

// defaultOwner builds the co_ownerid of a new Client (RFC 8881 §2.4,
// §18.35): the machine, the process (pid and a random nonce) and the
// Client's number in this process. Each Client is thus its own NFSv4
// client to the server, which is what lets two of them hold conflicting
// locks, and a restarted process does not inherit (or fight over) the
// state of its predecessor.
func defaultOwner() []byte {
	return fmt.Appendf(nil, "gonfs-go/%s/%d-%s/%d", machineID(), os.Getpid(), processNonce, instances.Add(1))
}
