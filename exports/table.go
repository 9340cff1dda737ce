package exports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path"
	"slices"
	"strings"
)

// Errors of Access. MOUNT maps ErrNotExported to MNT3ERR_NOENT and the
// other two to MNT3ERR_ACCES (RFC 1813 §5.1.5).
var (
	ErrNotExported  = errors.New("exports: path is not exported")
	ErrDenied       = errors.New("exports: client is not allowed")
	ErrInsecurePort = errors.New("exports: client port is not privileged and the export is secure")
)

// Export is one exported directory with its clients.
type Export struct {
	// Path is the name clients give to MOUNT and where the export sits in
	// the NFSv4 pseudo file system. Clean and absolute.
	Path string
	// Dir is the directory on disk. In an exports file it equals Path.
	Dir string
	// Fsid is the fsid= given by any of the export's rules (they must
	// agree), or FsidUnset.
	Fsid Fsid
	// Rules are the clients in file order (Match does not simply take the
	// first; see the package documentation).
	Rules []*ClientRule
	// Line is where the export first appears in its file (0 for Default).
	Line int

	fsidLine int
	names    *nameCache
}

// Table is a parsed exports file. It is immutable and safe for concurrent
// use.
type Table struct {
	// Warnings are accepted oddities ("file:line: message"), such as a
	// path with no client, that an operator should see in the log.
	Warnings []string

	exports []*Export
	byPath  map[string]*Export
}

// Decision is the outcome of Access: what the client may do on the export.
type Decision struct {
	Export *Export
	Rule   *ClientRule

	ReadOnly bool
	Squash   SquashMode
	AnonUID  uint32
	AnonGID  uint32
	// Secure says requests must come from a port below 1024.
	Secure bool
	// Sec lists the allowed security flavors, preferred first. It is the
	// rule's own list, shared so that a decision on every request costs no
	// allocation: read it, never modify it.
	Sec []Flavor
}

// Options returns the full options of the matched rule.
func (d *Decision) Options() *Options { return &d.Rule.Options }

// Exports returns the exports in order of first appearance.
func (t *Table) Exports() []*Export { return slices.Clone(t.exports) }

// Lookup returns the export whose Path is p (after cleaning p).
func (t *Table) Lookup(p string) (*Export, bool) {
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	e, ok := t.byPath[path.Clean(p)]
	return e, ok
}

// Find returns the export that holds p: the one with the longest Path that
// is p or a parent of p. MOUNT uses it for clients that mount a
// subdirectory of an export.
func (t *Table) Find(p string) (*Export, bool) {
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	for p = path.Clean(p); ; p = path.Dir(p) {
		if e, ok := t.byPath[p]; ok {
			return e, true
		}
		if p == "/" {
			return nil, false
		}
	}
}

// Access decides whether client may use the export whose Path is p
// (exactly; see Find for subdirectories). It fails with ErrNotExported,
// ErrDenied, or ErrInsecurePort, each wrapped with detail.
func (t *Table) Access(ctx context.Context, p string, client netip.AddrPort) (Decision, error) {
	e, ok := t.Lookup(p)
	if !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrNotExported, p)
	}
	return e.Access(ctx, client)
}

// Access is Table.Access on a known export.
func (e *Export) Access(ctx context.Context, client netip.AddrPort) (Decision, error) {
	r, ok := e.Match(ctx, client)
	if !ok {
		return Decision{}, fmt.Errorf("%w: %s may not use %q", ErrDenied, client.Addr(), e.Path)
	}
	if !r.Options.PortAllowed(client.Port()) {
		return Decision{}, fmt.Errorf("%w: %s for %q", ErrInsecurePort, client, e.Path)
	}
	o := &r.Options
	return Decision{
		Export:   e,
		Rule:     r,
		ReadOnly: o.ReadOnly,
		Squash:   o.SquashMode(),
		AnonUID:  o.AnonUID,
		AnonGID:  o.AnonGID,
		Secure:   o.Secure,
		Sec:      o.Sec,
	}, nil
}

// ListEntry is one export as MOUNT EXPORT lists it (RFC 1813 §5.2.5):
// its path and the names of its client groups.
type ListEntry struct {
	Path    string
	Clients []string
}

// List returns the exports for MOUNT EXPORT, in file order.
func (t *Table) List() []ListEntry {
	out := make([]ListEntry, len(t.exports))
	for i, e := range t.exports {
		out[i].Path = e.Path
		for _, r := range e.Rules {
			out[i].Clients = append(out[i].Clients, r.Spec)
		}
	}
	return out
}

// Default is the table of "gonfs serve DIR": dir, read-write, exported as
// "/" to loopback clients (127.0.0.0/8 and ::1) from any port, root
// squashed, AUTH_SYS. dir should be absolute; it is cleaned, not resolved.
func Default(dir string) *Table {
	o := DefaultOptions()
	o.ReadOnly = false
	o.Secure = false
	e := &Export{Path: "/", Dir: path.Clean(dir)}
	for _, p := range []string{"127.0.0.0/8", "::1"} {
		r, err := parseClient(p)
		if err != nil {
			panic("exports: bad built-in client " + p) // a constant above
		}
		r.Options = o.clone()
		e.Rules = append(e.Rules, &r)
	}
	return &Table{exports: []*Export{e}, byPath: map[string]*Export{"/": e}}
}

// Format writes the table in exports(5) syntax with every option spelled
// out, one line per export. It writes Dir, the path on disk, so a table
// whose Path differs from Dir (Default) does not read back the same.
func (t *Table) Format(w io.Writer) error {
	var b strings.Builder
	for _, e := range t.exports {
		b.WriteString(quoteToken(e.Dir))
		for _, r := range e.Rules {
			b.WriteByte(' ')
			b.WriteString(quoteToken(r.Spec + "(" + r.Options.String() + ")"))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quoteToken writes s so that tokenize reads it back as one token: bytes
// that would split it or be taken as syntax become \NNN escapes.
func quoteToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || (c == '#' && i == 0) {
			fmt.Fprintf(&b, `\%03o`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
