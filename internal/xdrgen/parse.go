package xdrgen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The AST of an XDR specification (RFC 4506 §6) with RFC 5531 program blocks.

// Kind classifies a declaration.
type Kind int

const (
	KVoid     Kind = iota
	KPlain         // T x
	KFixed         // T x[N], opaque x[N]
	KVar           // T x<N>, opaque x<N>, string x<N>
	KOptional      // T *x
)

// Decl is a declaration: a type specifier applied to a name.
type Decl struct {
	Kind Kind
	Type string // base type keyword ("int", "unsigned int", ...), "opaque", "string", or a defined name
	Name string
	Size string // N for [N] and <N>; "" for <>
	Line int
}

// Def is one top-level definition.
type Def struct {
	What     string // const, typedef, enum, struct, union, program
	Name     string
	Line     int
	Value    string     // const
	Typedef  Decl       // typedef
	Enum     []EnumItem // enum
	Fields   []Decl     // struct
	Disc     Decl       // union discriminant
	Arms     []Arm      // union cases, in order
	Default  *Decl      // union default arm (Kind KVoid for void)
	Versions []Version  // program
	Number   string     // program number
}

type EnumItem struct {
	Name, Value string
}

type Arm struct {
	Labels []string
	Decl   Decl
}

type Version struct {
	Name   string
	Number string
	Procs  []Proc
}

type Proc struct {
	Name   string
	Number string
	Arg    string // type name or "void"
	Result string
}

type token struct {
	text string
	line int
}

func lex(src string) ([]token, error) {
	var toks []token
	line := 1
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '%' && (i == 0 || src[i-1] == '\n'):
			// rpcgen pass-through line: ignored.
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 4
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.ContainsRune("{}()[]<>;,=*:", rune(c)):
			toks = append(toks, token{string(c), line})
			i++
		case c == '_' || c == '-' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			j := i + 1
			for j < len(src) && (src[j] == '_' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			toks = append(toks, token{src[i:j], line})
			i = j
		default:
			return nil, fmt.Errorf("line %d: unexpected character %q", line, c)
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
}

type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func (p *parser) fail(format string, args ...any) {
	line := 0
	if p.pos < len(p.toks) {
		line = p.toks[p.pos].line
	} else if len(p.toks) > 0 {
		line = p.toks[len(p.toks)-1].line
	}
	panic(&parseError{line, fmt.Sprintf(format, args...)})
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].text
	}
	return ""
}

func (p *parser) line() int {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].line
	}
	return 0
}

func (p *parser) next() string {
	if p.pos >= len(p.toks) {
		p.fail("unexpected end of file")
	}
	t := p.toks[p.pos].text
	p.pos++
	return t
}

func (p *parser) expect(s string) {
	if t := p.next(); t != s {
		p.pos--
		p.fail("expected %q, found %q", s, t)
	}
}

func (p *parser) ident() string {
	t := p.next()
	if !isIdent(t) {
		p.pos--
		p.fail("expected an identifier, found %q", t)
	}
	return t
}

func isIdent(s string) bool {
	if s == "" || !(s[0] == '_' || unicode.IsLetter(rune(s[0]))) {
		return false
	}
	for _, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// value is a constant: a number or a constant name.
func (p *parser) value() string {
	t := p.next()
	if isIdent(t) {
		return t
	}
	if _, err := parseNumber(t); err != nil {
		p.pos--
		p.fail("expected a number or constant, found %q", t)
	}
	return t
}

// parseNumber parses a decimal, hex or octal constant. Values above
// 2^63-1 (NFS4_UINT64_MAX) wrap into int64 here and are written to Go as
// written, so they stay untyped constants of the right value.
func parseNumber(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(s, 0, 64)
		if uerr != nil {
			return 0, err
		}
		return int64(u), nil
	}
	return v, nil
}

// Parse parses an XDR specification.
func Parse(src string) (defs []*Def, err error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*parseError)
			if !ok {
				panic(r)
			}
			err = pe
		}
	}()
	for p.pos < len(p.toks) {
		defs = append(defs, p.definition())
	}
	return defs, nil
}

func (p *parser) definition() *Def {
	line := p.line()
	switch kw := p.next(); kw {
	case "const":
		d := &Def{What: "const", Line: line, Name: p.ident()}
		p.expect("=")
		d.Value = p.value()
		p.expect(";")
		return d
	case "typedef":
		d := &Def{What: "typedef", Line: line}
		d.Typedef = p.declaration()
		if d.Typedef.Kind == KVoid {
			p.fail("typedef of void")
		}
		d.Name = d.Typedef.Name
		p.expect(";")
		return d
	case "enum":
		d := &Def{What: "enum", Line: line, Name: p.ident()}
		d.Enum = p.enumBody()
		p.expect(";")
		return d
	case "struct":
		d := &Def{What: "struct", Line: line, Name: p.ident()}
		d.Fields = p.structBody()
		p.expect(";")
		return d
	case "union":
		d := &Def{What: "union", Line: line, Name: p.ident()}
		p.unionBody(d)
		p.expect(";")
		return d
	case "program":
		return p.program(line)
	default:
		p.pos--
		p.fail("expected a definition, found %q", kw)
	}
	return nil
}

func (p *parser) enumBody() []EnumItem {
	p.expect("{")
	var items []EnumItem
	for {
		name := p.ident()
		p.expect("=")
		items = append(items, EnumItem{name, p.value()})
		if p.peek() == "," {
			p.next()
			continue
		}
		p.expect("}")
		return items
	}
}

func (p *parser) structBody() []Decl {
	p.expect("{")
	var fields []Decl
	for p.peek() != "}" {
		d := p.declaration()
		if d.Kind == KVoid {
			p.fail("void field in struct")
		}
		fields = append(fields, d)
		p.expect(";")
	}
	p.next()
	return fields
}

func (p *parser) unionBody(d *Def) {
	p.expect("switch")
	p.expect("(")
	d.Disc = p.declaration()
	p.expect(")")
	p.expect("{")
	for {
		switch p.peek() {
		case "case":
			var labels []string
			for p.peek() == "case" {
				p.next()
				labels = append(labels, p.value())
				p.expect(":")
			}
			decl := p.declaration()
			p.expect(";")
			d.Arms = append(d.Arms, Arm{labels, decl})
		case "default":
			p.next()
			p.expect(":")
			decl := p.declaration()
			p.expect(";")
			d.Default = &decl
		case "}":
			p.next()
			return
		default:
			p.fail("expected case, default or }, found %q", p.peek())
		}
	}
}

// typeSpec reads a type specifier.
func (p *parser) typeSpec() string {
	t := p.next()
	switch t {
	case "unsigned":
		switch p.peek() {
		case "int":
			p.next()
			return "unsigned int"
		case "hyper":
			p.next()
			return "unsigned hyper"
		case "long":
			p.next()
			return "unsigned int"
		}
		return "unsigned int"
	case "long":
		return "int"
	case "struct", "union", "enum":
		if p.peek() == "{" || p.peek() == "switch" {
			p.fail("anonymous inline %s is not supported: define it separately", t)
		}
		return p.ident()
	}
	if !isIdent(t) {
		p.pos--
		p.fail("expected a type, found %q", t)
	}
	return t
}

func (p *parser) declaration() Decl {
	line := p.line()
	if p.peek() == "void" {
		p.next()
		return Decl{Kind: KVoid, Line: line}
	}
	d := Decl{Type: p.typeSpec(), Line: line}
	if p.peek() == "*" {
		p.next()
		d.Kind = KOptional
		d.Name = p.ident()
		return d
	}
	d.Name = p.ident()
	switch p.peek() {
	case "[":
		p.next()
		d.Kind = KFixed
		d.Size = p.value()
		p.expect("]")
	case "<":
		p.next()
		d.Kind = KVar
		if p.peek() != ">" {
			d.Size = p.value()
		}
		p.expect(">")
	default:
		d.Kind = KPlain
	}
	if d.Type == "string" && d.Kind != KVar {
		p.fail("string %s must be variable-length (string %s<>)", d.Name, d.Name)
	}
	if d.Type == "opaque" && d.Kind != KFixed && d.Kind != KVar {
		p.fail("opaque %s must have a size", d.Name)
	}
	return d
}

func (p *parser) program(line int) *Def {
	d := &Def{What: "program", Line: line, Name: p.ident()}
	p.expect("{")
	for p.peek() == "version" {
		p.next()
		v := Version{Name: p.ident()}
		p.expect("{")
		for p.peek() != "}" {
			res := p.procType()
			name := p.ident()
			p.expect("(")
			arg := p.procType()
			p.expect(")")
			p.expect("=")
			num := p.value()
			p.expect(";")
			v.Procs = append(v.Procs, Proc{Name: name, Number: num, Arg: arg, Result: res})
		}
		p.next()
		p.expect("=")
		v.Number = p.value()
		p.expect(";")
		d.Versions = append(d.Versions, v)
	}
	p.expect("}")
	p.expect("=")
	d.Number = p.value()
	p.expect(";")
	return d
}

func (p *parser) procType() string {
	if p.peek() == "void" {
		p.next()
		return "void"
	}
	return p.typeSpec()
}
