package client

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// URL is a parsed nfs:// URL in the libnfs convention:
//
//	nfs://host[:port]/path?version=3|4|4.1|4.2&nfsport=N&mountport=N&uid=N&gid=N
//
// A port in the authority and nfsport= both name the NFS port.
type URL struct {
	Host string // host name or IP literal, without brackets
	Port int    // NFS port; 0: the portmapper's answer for NFSv3, 2049 for NFSv4
	// Path is the absolute path on the server ("/" for the root).
	Path string
	// Version is "3", "4.1", "4.2", or "" to negotiate (4.2, then 4.1,
	// then 3).
	Version   string
	MountPort int
	UID, GID  *uint32
}

// ParseURL parses an nfs:// URL.
func ParseURL(s string) (*URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "nfs" {
		return nil, fmt.Errorf("client: %q: not an nfs:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: %q: no host", s)
	}
	out := &URL{Host: u.Hostname(), Path: path.Clean("/" + u.Path)}
	if p := u.Port(); p != "" {
		if out.Port, err = parsePort(p); err != nil {
			return nil, fmt.Errorf("client: %q: %w", s, err)
		}
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "version", "vers":
			switch v {
			case "3", "4.1", "4.2":
				out.Version = v
			case "4":
				out.Version = ""
			default:
				return nil, fmt.Errorf("client: %q: unsupported version %q (3, 4.1 or 4.2)", s, v)
			}
		case "nfsport":
			out.Port, err = parsePort(v)
		case "mountport":
			out.MountPort, err = parsePort(v)
		case "uid", "gid":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 32)
			id := uint32(n)
			if k == "uid" {
				out.UID = &id
			} else {
				out.GID = &id
			}
		default:
			// libnfs has many more (readahead, auto-traverse-mounts,
			// ...); unknown ones are ignored as libnfs does.
		}
		if err != nil {
			return nil, fmt.Errorf("client: %q: %s: %w", s, k, err)
		}
	}
	return out, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return int(n), nil
}

// Name returns Path as an io/fs name relative to the server's root ("."
// for the root), the form the Client's methods take.
func (u *URL) Name() string {
	if u.Path == "/" {
		return "."
	}
	return strings.TrimPrefix(u.Path, "/")
}

// Addr returns host:port for port.
func (u *URL) Addr(port int) string { return net.JoinHostPort(u.Host, strconv.Itoa(port)) }

// String formats u back as a URL.
func (u *URL) String() string {
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if u.Port != 0 {
		host += ":" + strconv.Itoa(u.Port)
	}
	q := url.Values{}
	if u.Version != "" {
		q.Set("version", u.Version)
	}
	if u.MountPort != 0 {
		q.Set("mountport", strconv.Itoa(u.MountPort))
	}
	if u.UID != nil {
		q.Set("uid", strconv.FormatUint(uint64(*u.UID), 10))
	}
	if u.GID != nil {
		q.Set("gid", strconv.FormatUint(uint64(*u.GID), 10))
	}
	s := "nfs://" + host + u.Path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// Join returns a copy of u with elem appended to its path.
func (u *URL) Join(elem ...string) *URL {
	c := *u
	c.Path = path.Join(append([]string{u.Path}, elem...)...)
	return &c
}
