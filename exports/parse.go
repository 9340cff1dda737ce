package exports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// maxLine bounds one physical line; longer lines are an error rather than
// an allocation the file's author chose for us.
const maxLine = 1 << 20

// ParseError is a syntax or consistency error in an exports file. Line is
// the physical line (1-based) of the offending token.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseFile reads the exports file at path with default ParseOptions.
func ParseFile(path string) (*Table, error) { return ParseFileWith(path, ParseOptions{}) }

// ParseFileWith reads the exports file at path.
func ParseFileWith(path string, o ParseOptions) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseWith(f, path, o)
}

// Parse reads an exports file with default ParseOptions; name is the file
// name used in error messages.
func Parse(r io.Reader, name string) (*Table, error) { return ParseWith(r, name, ParseOptions{}) }

// ParseWith reads an exports file; name is the file name used in error and
// warning messages. It stops at the first error.
func ParseWith(r io.Reader, name string, o ParseOptions) (*Table, error) {
	if name == "" {
		name = "exports"
	}
	p := &parser{
		file:  name,
		t:     &Table{byPath: map[string]*Export{}},
		names: newNameCache(o),
		seen:  map[string]int{},
		fsids: map[Fsid]*Export{},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var ll logicalLine
	lineNo := 0
	for sc.Scan() {
		lineNo++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if ll.starts == nil {
			ll.first = lineNo
		}
		ll.starts = append(ll.starts, len(ll.text))
		// A backslash ending the line joins the next one (trailing blanks
		// after it are forgiven: they are invisible in an editor).
		trimmed := strings.TrimRight(text, " \t")
		if strings.HasSuffix(trimmed, `\`) {
			ll.text += trimmed[:len(trimmed)-1] + " "
			continue
		}
		ll.text += text
		if err := p.line(&ll); err != nil {
			return nil, err
		}
		ll = logicalLine{}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{File: name, Line: lineNo + 1, Msg: "line too long"}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if ll.starts != nil { // the file ended in a continuation
		if err := p.line(&ll); err != nil {
			return nil, err
		}
	}
	return p.t, nil
}

// logicalLine is one entry after continuation lines were joined.
type logicalLine struct {
	text   string
	first  int   // physical line number of the first line
	starts []int // offset in text where each physical line begins
}

// lineAt maps an offset in text to its physical line number.
func (l *logicalLine) lineAt(off int) int {
	n := 0
	for i, s := range l.starts {
		if s <= off {
			n = i
		}
	}
	return l.first + n
}

type token struct {
	text string
	off  int
}

// tokenize splits a logical line at unquoted blanks. Double quotes group
// (and are dropped), \NNN is the byte with octal value NNN (how exportfs
// writes blanks in paths: \040), and # at the start of a token begins a
// comment.
func tokenize(l *logicalLine) ([]token, error) {
	s := l.text
	var toks []token
	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i == len(s) || s[i] == '#' {
			return toks, nil
		}
		start := i
		var b strings.Builder
		quoted := false
		for i < len(s) && (quoted || !isBlank(s[i])) {
			c := s[i]
			switch {
			case c == '"':
				quoted = !quoted
				i++
			case c == '\\':
				if i+4 > len(s) || !isOctal(s[i+1]) || !isOctal(s[i+2]) || !isOctal(s[i+3]) || s[i+1] > '3' {
					return nil, &ParseError{Line: l.lineAt(i), Msg: `invalid escape: a backslash must start an octal escape \000 to \377`}
				}
				b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
				i += 4
			default:
				b.WriteByte(c)
				i++
			}
		}
		if quoted {
			return nil, &ParseError{Line: l.lineAt(start), Msg: "unterminated quoted string"}
		}
		toks = append(toks, token{text: b.String(), off: start})
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' }
func isOctal(c byte) bool { return c >= '0' && c <= '7' }

type parser struct {
	file  string
	t     *Table
	names *nameCache
	seen  map[string]int   // path + "\x00" + client key → line
	fsids map[Fsid]*Export // fsid → the export that has it
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) warnf(line int, format string, args ...any) {
	p.t.Warnings = append(p.t.Warnings, fmt.Sprintf("%s:%d: ", p.file, line)+fmt.Sprintf(format, args...))
}

// line handles one logical line: path [-defaults] client[(opts)]...
func (p *parser) line(l *logicalLine) error {
	toks, err := tokenize(l)
	if err != nil {
		err.(*ParseError).File = p.file
		return err
	}
	if len(toks) == 0 {
		return nil
	}
	pathLine := l.lineAt(toks[0].off)
	dir, err := checkPath(toks[0].text)
	if err != nil {
		return p.errorf(pathLine, "%v", err)
	}
	defaults := DefaultOptions()
	clients := toks[1:]
	if len(clients) > 0 && strings.HasPrefix(clients[0].text, "-") {
		line := l.lineAt(clients[0].off)
		list := clients[0].text[1:]
		if list == "" {
			return p.errorf(line, "empty default option list after %q", dir)
		}
		if defaults, err = parseOptions(list, defaults); err != nil {
			return p.errorf(line, "%v", err)
		}
		clients = clients[1:]
	}
	if len(clients) == 0 {
		p.warnf(pathLine, "no client given for %q: exporting to everyone (write * to silence this)", dir)
		r := ClientRule{Spec: "*", Kind: ClientAnyone, Options: defaults.clone(), Line: pathLine}
		return p.add(dir, r)
	}
	for _, tok := range clients {
		line := l.lineAt(tok.off)
		r, err := p.client(dir, tok.text, defaults, line)
		if err != nil {
			return p.errorf(line, "%v", err)
		}
		if err := p.add(dir, r); err != nil {
			return err
		}
	}
	return nil
}

// client parses one client[(options)] token.
func (p *parser) client(dir, tok string, defaults Options, line int) (ClientRule, error) {
	if strings.HasPrefix(tok, "-") {
		return ClientRule{}, fmt.Errorf("default options %q must come right after the path", tok)
	}
	spec, opts, err := splitClient(tok)
	if err != nil {
		return ClientRule{}, err
	}
	if spec == "" {
		// The classic mistake "/srv host (rw)": nfs-utils exports to the
		// world with a warning, and so do we.
		p.warnf(line, "no host name before %q for %q: exporting to everyone (write *%s to silence this)", tok, dir, tok)
		spec = "*"
	}
	r, err := parseClient(spec)
	if err != nil {
		return r, err
	}
	r.Line = line
	r.Options = defaults.clone()
	if opts != "" {
		if r.Options, err = parseOptions(opts, defaults); err != nil {
			return r, err
		}
	}
	return r, nil
}

// splitClient splits "spec(opts)" into its parts.
func splitClient(tok string) (spec, opts string, err error) {
	i := strings.IndexByte(tok, '(')
	if i < 0 {
		if strings.Contains(tok, ")") {
			return "", "", fmt.Errorf("unexpected ')' in %q", tok)
		}
		return tok, "", nil
	}
	rest := tok[i+1:]
	j := strings.IndexByte(rest, ')')
	switch {
	case j < 0:
		return "", "", fmt.Errorf("unterminated option list in %q (no blanks are allowed inside the parentheses)", tok)
	case j != len(rest)-1:
		return "", "", fmt.Errorf("unexpected %q after ')' in %q", rest[j+1:], tok)
	case strings.Contains(rest[:j], "("):
		return "", "", fmt.Errorf("unexpected '(' in %q", tok)
	}
	return tok[:i], rest[:j], nil
}

// checkPath validates an export path and returns it cleaned ("/srv/" and
// "/srv" are the same export). ".." is refused rather than resolved
// lexically: on disk it may go somewhere else through a symbolic link.
func checkPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty export path")
	case !strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("export path %q is not absolute", p)
	case strings.IndexByte(p, 0) >= 0:
		return "", fmt.Errorf("export path %q contains a NUL byte", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("export path %q contains \"..\"", p)
		}
	}
	return path.Clean(p), nil
}

// add appends a rule to the export of dir, creating the export on first
// sight, and enforces one rule per client and one export per fsid.
func (p *parser) add(dir string, r ClientRule) error {
	key := dir + "\x00" + r.key()
	if first, dup := p.seen[key]; dup {
		return p.errorf(r.Line, "duplicate export of %q to %q (first on line %d)", dir, r.Spec, first)
	}
	p.seen[key] = r.Line
	e, ok := p.t.byPath[dir]
	if !ok {
		e = &Export{Path: dir, Dir: dir, Line: r.Line, names: p.names}
		p.t.byPath[dir] = e
		p.t.exports = append(p.t.exports, e)
	}
	if f := r.Options.Fsid; f.Kind != FsidUnset {
		switch {
		case e.Fsid.Kind == FsidUnset:
			if other, used := p.fsids[f]; used {
				return p.errorf(r.Line, "fsid=%s of %q is already used by %q (line %d)", f, dir, other.Path, other.fsidLine)
			}
			p.fsids[f] = e
			e.Fsid, e.fsidLine = f, r.Line
		case e.Fsid != f:
			return p.errorf(r.Line, "conflicting fsid for %q: fsid=%s here, fsid=%s on line %d", dir, f, e.Fsid, e.fsidLine)
		}
	}
	rule := r
	e.Rules = append(e.Rules, &rule)
	return nil
}
