package exports

import (
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// AnonID is the default anonuid and anongid: nfs-utils' 65534, the
// "nobody" of most systems.
const AnonID = 65534

// SquashMode says which callers are mapped to the anonymous identity.
type SquashMode int

const (
	// SquashNone maps nobody (no_root_squash).
	SquashNone SquashMode = iota
	// SquashRoot maps uid 0 and gid 0 (root_squash, the default).
	SquashRoot
	// SquashAll maps every caller (all_squash).
	SquashAll
)

func (m SquashMode) String() string {
	switch m {
	case SquashNone:
		return "no_root_squash"
	case SquashRoot:
		return "root_squash"
	case SquashAll:
		return "all_squash"
	}
	return "SquashMode(" + strconv.Itoa(int(m)) + ")"
}

// Flavor is an RPC security flavor as sec= names it. The values are the
// numbers that go on the wire in MOUNT3 replies and SECINFO: the auth flavor
// for sys and none, the RPCSEC_GSS pseudo-flavor for krb5* (RFC 2623 §2.2).
type Flavor uint32

const (
	FlavorNone  Flavor = 0      // AUTH_NONE, sec=none (alias null)
	FlavorSys   Flavor = 1      // AUTH_SYS, sec=sys (alias unix)
	FlavorKrb5  Flavor = 390003 // RPCSEC_GSS, Kerberos 5, authentication only
	FlavorKrb5i Flavor = 390004 // RPCSEC_GSS, Kerberos 5 with integrity
	FlavorKrb5p Flavor = 390005 // RPCSEC_GSS, Kerberos 5 with privacy
)

func (f Flavor) String() string {
	switch f {
	case FlavorNone:
		return "none"
	case FlavorSys:
		return "sys"
	case FlavorKrb5:
		return "krb5"
	case FlavorKrb5i:
		return "krb5i"
	case FlavorKrb5p:
		return "krb5p"
	}
	return "Flavor(" + strconv.FormatUint(uint64(f), 10) + ")"
}

// flavorNames maps sec= words to flavors, aliases included (nfs-utils
// accepts unix for sys and null for none).
var flavorNames = map[string]Flavor{
	"sys": FlavorSys, "unix": FlavorSys,
	"none": FlavorNone, "null": FlavorNone,
	"krb5": FlavorKrb5, "krb5i": FlavorKrb5i, "krb5p": FlavorKrb5p,
}

// FsidKind says how an export's fsid was given.
type FsidKind int

const (
	FsidUnset FsidKind = iota // no fsid= option
	FsidNum                   // fsid=N with N > 0
	FsidRoot                  // fsid=root or fsid=0: the NFSv4 pseudo-root
	FsidUUID                  // fsid=<32 hex digits>
)

// Fsid is the fsid= option: the file system identifier a client sees, fixed
// by the administrator so file handles survive a change of device numbers.
type Fsid struct {
	Kind FsidKind
	Num  uint32   // FsidNum
	UUID [16]byte // FsidUUID
}

func (f Fsid) String() string {
	switch f.Kind {
	case FsidNum:
		return strconv.FormatUint(uint64(f.Num), 10)
	case FsidRoot:
		return "root"
	case FsidUUID:
		h := hex.EncodeToString(f.UUID[:])
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	return ""
}

// Options are the options of one client rule, after the export's default
// options ("-ro" after the path) and the rule's own list were applied in
// that order. The zero value is not the default; use DefaultOptions.
type Options struct {
	ReadOnly   bool   // ro (default) / rw
	RootSquash bool   // root_squash (default) / no_root_squash
	AllSquash  bool   // all_squash / no_all_squash (default)
	AnonUID    uint32 // anonuid=N, default AnonID
	AnonGID    uint32 // anongid=N, default AnonID
	// Secure requires a source port below 1024 (secure, the default);
	// insecure clears it.
	Secure bool
	// Sec lists the allowed flavors in the administrator's order of
	// preference (sec=a:b:c, default sys). Never empty.
	Sec          []Flavor
	Fsid         Fsid
	Sync         bool // sync (default) / async
	Wdelay       bool // wdelay (default) / no_wdelay
	SubtreeCheck bool // subtree_check / no_subtree_check (default)
	Hide         bool // hide (default) / nohide
	CrossMnt     bool // crossmnt
	// MountPoint is set by mountpoint or mp: export only if the directory
	// (or MountPointPath, when given as mountpoint=PATH) is a mount point.
	MountPoint     bool
	MountPointPath string
	ACL            bool // acl (default) / no_acl
	PNFS           bool // pnfs / no_pnfs (default)
	// Delegations is our own extension: delegations (default) /
	// nodelegations turns NFSv4 delegations off for this export.
	Delegations bool
	// SecureLocks requires NLM requests to carry credentials that may
	// open the file: secure_locks or auth_nlm (default) / insecure_locks
	// or no_auth_nlm.
	SecureLocks bool
	// Other keeps options nfs-utils documents that are accepted but not
	// acted on (refer=, replicas=, nordirplus, security_label), as written.
	Other []string
}

// DefaultOptions returns the options of a client listed with no options and
// no "-opts" default: those of nfs-utils plus our delegations extension.
func DefaultOptions() Options {
	return Options{
		ReadOnly:    true,
		RootSquash:  true,
		AnonUID:     AnonID,
		AnonGID:     AnonID,
		Secure:      true,
		Sec:         []Flavor{FlavorSys},
		Sync:        true,
		Wdelay:      true,
		Hide:        true,
		ACL:         true,
		Delegations: true,
		SecureLocks: true,
	}
}

// clone returns a copy that shares no slices with o.
func (o Options) clone() Options {
	o.Sec = slices.Clone(o.Sec)
	o.Other = slices.Clone(o.Other)
	return o
}

// SquashMode folds the two squash flags into one mode: all_squash wins over
// no_root_squash, as in knfsd.
func (o *Options) SquashMode() SquashMode {
	switch {
	case o.AllSquash:
		return SquashAll
	case o.RootSquash:
		return SquashRoot
	}
	return SquashNone
}

// Squash returns the credentials a request runs with. all_squash maps every
// caller to anonuid/anongid with no supplementary groups; root_squash maps
// uid 0 to anonuid and gid 0, primary or supplementary, to anongid (each id
// independently, as knfsd's nfsd_setuser does). gids is never modified; the
// returned slice is a new one whenever anything changed.
func (o *Options) Squash(uid, gid uint32, gids []uint32) (uint32, uint32, []uint32) {
	switch o.SquashMode() {
	case SquashAll:
		return o.AnonUID, o.AnonGID, nil
	case SquashRoot:
		if uid == 0 {
			uid = o.AnonUID
		}
		if gid == 0 {
			gid = o.AnonGID
		}
		if slices.Contains(gids, 0) {
			gids = slices.Clone(gids)
			for i, g := range gids {
				if g == 0 {
					gids[i] = o.AnonGID
				}
			}
		}
	}
	return uid, gid, gids
}

// PortAllowed reports whether a request from source port port is allowed:
// always with insecure, otherwise only from a reserved port (below 1024,
// which on most systems only root may bind).
func (o *Options) PortAllowed(port uint16) bool {
	return !o.Secure || port < 1024
}

// AllowsFlavor reports whether f is listed in sec=.
func (o *Options) AllowsFlavor(f Flavor) bool { return slices.Contains(o.Sec, f) }

// String renders every option explicitly, in the form exportfs -v shows and
// parseOptions reads back.
func (o Options) String() string {
	var b []string
	pick := func(c bool, yes, no string) {
		if c {
			b = append(b, yes)
		} else {
			b = append(b, no)
		}
	}
	pick(o.ReadOnly, "ro", "rw")
	pick(o.Sync, "sync", "async")
	pick(o.Wdelay, "wdelay", "no_wdelay")
	pick(o.Hide, "hide", "nohide")
	if o.CrossMnt {
		b = append(b, "crossmnt")
	}
	pick(o.SubtreeCheck, "subtree_check", "no_subtree_check")
	pick(o.RootSquash, "root_squash", "no_root_squash")
	pick(o.AllSquash, "all_squash", "no_all_squash")
	b = append(b, "anonuid="+strconv.FormatUint(uint64(o.AnonUID), 10))
	b = append(b, "anongid="+strconv.FormatUint(uint64(o.AnonGID), 10))
	pick(o.Secure, "secure", "insecure")
	sec := make([]string, len(o.Sec))
	for i, f := range o.Sec {
		sec[i] = f.String()
	}
	b = append(b, "sec="+strings.Join(sec, ":"))
	if o.Fsid.Kind != FsidUnset {
		b = append(b, "fsid="+o.Fsid.String())
	}
	if o.MountPoint {
		if o.MountPointPath != "" {
			b = append(b, "mountpoint="+o.MountPointPath)
		} else {
			b = append(b, "mountpoint")
		}
	}
	pick(o.ACL, "acl", "no_acl")
	pick(o.PNFS, "pnfs", "no_pnfs")
	pick(o.Delegations, "delegations", "nodelegations")
	pick(o.SecureLocks, "secure_locks", "insecure_locks")
	b = append(b, o.Other...)
	return strings.Join(b, ",")
}

// flagOptions are the options that take no value, each setting one field.
var flagOptions = map[string]func(o *Options){
	"ro":               func(o *Options) { o.ReadOnly = true },
	"rw":               func(o *Options) { o.ReadOnly = false },
	"root_squash":      func(o *Options) { o.RootSquash = true },
	"no_root_squash":   func(o *Options) { o.RootSquash = false },
	"all_squash":       func(o *Options) { o.AllSquash = true },
	"no_all_squash":    func(o *Options) { o.AllSquash = false },
	"secure":           func(o *Options) { o.Secure = true },
	"insecure":         func(o *Options) { o.Secure = false },
	"sync":             func(o *Options) { o.Sync = true },
	"async":            func(o *Options) { o.Sync = false },
	"wdelay":           func(o *Options) { o.Wdelay = true },
	"no_wdelay":        func(o *Options) { o.Wdelay = false },
	"subtree_check":    func(o *Options) { o.SubtreeCheck = true },
	"no_subtree_check": func(o *Options) { o.SubtreeCheck = false },
	"hide":             func(o *Options) { o.Hide = true },
	"nohide":           func(o *Options) { o.Hide = false },
	"crossmnt":         func(o *Options) { o.CrossMnt = true },
	"acl":              func(o *Options) { o.ACL = true },
	"no_acl":           func(o *Options) { o.ACL = false },
	"pnfs":             func(o *Options) { o.PNFS = true },
	"no_pnfs":          func(o *Options) { o.PNFS = false },
	"delegations":      func(o *Options) { o.Delegations = true },
	"nodelegations":    func(o *Options) { o.Delegations = false },
	"secure_locks":     func(o *Options) { o.SecureLocks = true },
	"auth_nlm":         func(o *Options) { o.SecureLocks = true },
	"insecure_locks":   func(o *Options) { o.SecureLocks = false },
	"no_auth_nlm":      func(o *Options) { o.SecureLocks = false },
	"nordirplus":       func(o *Options) { o.Other = append(o.Other, "nordirplus") },
	"security_label":   func(o *Options) { o.Other = append(o.Other, "security_label") },
}

// parseOptions applies the comma-separated list s on top of base and
// returns the result; base is not modified. Errors are plain messages; the
// caller adds file and line.
func parseOptions(s string, base Options) (Options, error) {
	o := base.clone()
	sawSec := false
	for _, opt := range strings.Split(s, ",") {
		key, val, hasVal := strings.Cut(opt, "=")
		if set, ok := flagOptions[key]; ok {
			if hasVal {
				return o, fmt.Errorf("option %q takes no value", key)
			}
			set(&o)
			continue
		}
		switch key {
		case "":
			if opt == "" {
				return o, fmt.Errorf("empty option in %q", s)
			}
			return o, fmt.Errorf("unknown option %q", opt)
		case "mountpoint", "mp":
			o.MountPoint = true
			o.MountPointPath = ""
			if hasVal {
				if !path.IsAbs(val) {
					return o, fmt.Errorf("%s=%q: path must be absolute", key, val)
				}
				o.MountPointPath = path.Clean(val)
			}
			continue
		case "xprtsec":
			// Refused rather than ignored: ignoring it would silently drop
			// a TLS requirement (RFC 9289).
			return o, fmt.Errorf("option %q is not supported", opt)
		}
		if !hasVal {
			switch key {
			case "anonuid", "anongid", "fsid", "sec", "refer", "replicas":
				return o, fmt.Errorf("option %q needs a value (%s=...)", key, key)
			}
			return o, fmt.Errorf("unknown option %q", opt)
		}
		switch key {
		case "anonuid", "anongid":
			id, err := parseID(val)
			if err != nil {
				return o, fmt.Errorf("bad %s %q: %v", key, val, err)
			}
			if key == "anonuid" {
				o.AnonUID = id
			} else {
				o.AnonGID = id
			}
		case "fsid":
			f, err := parseFsid(val)
			if err != nil {
				return o, fmt.Errorf("bad fsid %q: %v", val, err)
			}
			o.Fsid = f
		case "sec":
			if sawSec {
				return o, fmt.Errorf("more than one sec= in one option list (per-flavor options) is not supported")
			}
			sawSec = true
			sec, err := parseSec(val)
			if err != nil {
				return o, err
			}
			o.Sec = sec
		case "refer", "replicas":
			if val == "" {
				return o, fmt.Errorf("option %q needs a value", key)
			}
			o.Other = append(o.Other, opt)
		default:
			return o, fmt.Errorf("unknown option %q", opt)
		}
	}
	return o, nil
}

// parseID reads anonuid/anongid. (uid_t)-1 is excluded: the kernel treats
// it as "no id", and negative numbers, which nfs-utils passes through
// atoi, are refused rather than wrapped.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("want a number from 0 to 4294967294")
	}
	return uint32(n), nil
}

func parseFsid(s string) (Fsid, error) {
	if s == "root" {
		return Fsid{Kind: FsidRoot}, nil
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return Fsid{}, fmt.Errorf("number out of range")
		}
		if n == 0 {
			// fsid=0 and fsid=root mean the same (exports(5)).
			return Fsid{Kind: FsidRoot}, nil
		}
		return Fsid{Kind: FsidNum, Num: uint32(n)}, nil
	}
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return Fsid{}, fmt.Errorf(`want a number, "root", or a UUID of 32 hex digits`)
	}
	var f Fsid
	if _, err := hex.Decode(f.UUID[:], []byte(h)); err != nil {
		return Fsid{}, fmt.Errorf(`want a number, "root", or a UUID of 32 hex digits`)
	}
	f.Kind = FsidUUID
	return f, nil
}

func parseSec(s string) ([]Flavor, error) {
	var sec []Flavor
	for _, name := range strings.Split(s, ":") {
		f, ok := flavorNames[name]
		if !ok {
			if name == "" {
				return nil, fmt.Errorf("empty flavor in sec=%s", s)
			}
			return nil, fmt.Errorf("unknown security flavor %q in sec= (want sys, none, krb5, krb5i or krb5p)", name)
		}
		if !slices.Contains(sec, f) {
			sec = append(sec, f)
		}
	}
	return sec, nil
}
