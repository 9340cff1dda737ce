// Package xdrgen generates Go code from XDR specifications.
//
// The Go mapping:
//   - Constants and enum values keep their spelling (NFS3ERR_STALE), so code
//     greps against the RFC; a lowercase first letter is raised.
//   - Type and field names that contain an upper-case letter keep their
//     spelling with the first letter raised (READ3args); all-lowercase
//     snake_case names become CamelCase (post_op_attr → PostOpAttr,
//     attributes_follow → AttributesFollow).
//   - int, unsigned int, hyper, unsigned hyper, bool, float, double map to
//     int32, uint32, int64, uint64, bool, float32, float64; string<> to
//     string; opaque[N] to [N]byte; opaque<> to []byte aliasing the record
//     on decode; T[N] to [N]T; T<> to []T; T *x to *T.
//   - enum: a defined int32 type with typed constants and a String method.
//   - struct: a Go struct. union: a Go struct holding the discriminant and
//     one field per distinct non-void arm; only the arm the discriminant
//     selects is encoded or decoded. In a large union (more than
//     largeUnion arms, like nfs_argop4) the arms of named types are
//     pointers, allocated on decode, so that one value is not the sum of
//     every arm; encoding a nil arm writes the arm's zero value.
//   - typedef: a defined type with its own methods, except a typedef of a
//     struct, union or enum (a Go alias) and of an optional (an alias to a
//     pointer, encoded inline where used).
//   - program: constants for program, version and procedure numbers, and per
//     version a ProcName, Args and Results function for tracing, stats and
//     fuzzing.
//
// Every type gets pointer methods Encode(*xdr.Writer) and Decode(*xdr.Reader).
package xdrgen

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

type baseType struct {
	goType string
	method string // xdr.Writer/Reader method
	size   int
}

var baseTypes = map[string]baseType{
	"int":            {"int32", "Int32", 4},
	"unsigned int":   {"uint32", "Uint32", 4},
	"hyper":          {"int64", "Int64", 8},
	"unsigned hyper": {"uint64", "Uint64", 8},
	"bool":           {"bool", "Bool", 4},
	"float":          {"float32", "Float32", 4},
	"double":         {"float64", "Float64", 8},
}

type gen struct {
	pkg    string
	file   string
	defs   []*Def
	byName map[string]*Def
	values map[string]int64  // const and enum values
	enumOf map[string]string // enum value name → enum type name
	minSz  map[string]int
	b      bytes.Buffer
	nvar   int
}

// Generate returns the Go source for spec, and its test file.
func Generate(pkg, file, spec string) (code, tests []byte, err error) {
	defs, err := Parse(spec)
	if err != nil {
		return nil, nil, err
	}
	g := &gen{pkg: pkg, file: file, defs: defs, byName: map[string]*Def{},
		values: map[string]int64{"TRUE": 1, "FALSE": 0}, enumOf: map[string]string{}, minSz: map[string]int{}}
	if err := g.check(); err != nil {
		return nil, nil, err
	}
	code, err = g.emitCode()
	if err != nil {
		return nil, nil, err
	}
	tests, err = g.emitTests()
	return code, tests, err
}

// goName converts an XDR type or field name to Go.
func goName(s string) string {
	hasUpper := strings.IndexFunc(s, unicode.IsUpper) >= 0
	if hasUpper {
		return upperFirst(s)
	}
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(upperFirst(part))
		}
	}
	if b.Len() == 0 {
		return "X" + s
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// goConst converts a constant name.
func goConst(s string) string { return upperFirst(s) }

func (g *gen) failf(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// check indexes definitions, evaluates constants and validates references.
func (g *gen) check() error {
	goNames := map[string]int{}
	claim := func(name string, line int) error {
		if prev, ok := goNames[name]; ok {
			return g.failf(line, "Go name %s already used at line %d", name, prev)
		}
		goNames[name] = line
		return nil
	}
	for _, d := range g.defs {
		switch d.What {
		case "const":
			if err := claim(goConst(d.Name), d.Line); err != nil {
				return err
			}
		case "enum":
			for _, it := range d.Enum {
				if err := claim(goConst(it.Name), d.Line); err != nil {
					return err
				}
				g.enumOf[it.Name] = d.Name
			}
			fallthrough
		case "typedef", "struct", "union":
			if _, ok := g.byName[d.Name]; ok {
				return g.failf(d.Line, "type %s defined twice", d.Name)
			}
			if err := claim(goName(d.Name), d.Line); err != nil {
				return err
			}
			g.byName[d.Name] = d
		case "program":
			if err := claim(goConst(d.Name), d.Line); err != nil {
				return err
			}
			procNum := map[string]string{}
			for _, v := range d.Versions {
				if err := claim(goConst(v.Name), d.Line); err != nil {
					return err
				}
				for _, p := range v.Procs {
					// Versions may repeat a procedure with the same
					// number (rpcbind v3 and v4, RFC 1833).
					if num, ok := procNum[p.Name]; ok && num == p.Number {
						continue
					}
					procNum[p.Name] = p.Number
					if err := claim(goConst(p.Name), d.Line); err != nil {
						return err
					}
				}
			}
		}
	}
	// Evaluate constants in order; a name may refer to an earlier one.
	for _, d := range g.defs {
		switch d.What {
		case "const":
			v, err := g.eval(d.Value, d.Line)
			if err != nil {
				return err
			}
			g.values[d.Name] = v
		case "enum":
			for _, it := range d.Enum {
				v, err := g.eval(it.Value, d.Line)
				if err != nil {
					return err
				}
				g.values[it.Name] = v
			}
		}
	}
	for _, d := range g.defs {
		var decls []Decl
		switch d.What {
		case "typedef":
			decls = []Decl{d.Typedef}
		case "struct":
			decls = d.Fields
		case "union":
			decls = append(decls, d.Disc)
			for _, a := range d.Arms {
				decls = append(decls, a.Decl)
				for _, l := range a.Labels {
					if _, err := g.eval(l, d.Line); err != nil {
						return err
					}
				}
			}
			if d.Default != nil {
				decls = append(decls, *d.Default)
			}
			if err := g.checkUnion(d); err != nil {
				return err
			}
		case "program":
			for _, v := range d.Versions {
				for _, p := range v.Procs {
					for _, t := range []string{p.Arg, p.Result} {
						if t != "void" && t != "string" && t != "opaque" {
							if err := g.checkType(t, d.Line); err != nil {
								return err
							}
						}
					}
				}
			}
		}
		for _, x := range decls {
			if x.Kind == KVoid {
				continue
			}
			if x.Size != "" {
				if _, err := g.eval(x.Size, x.Line); err != nil {
					return err
				}
			}
			if x.Type == "opaque" || x.Type == "string" {
				continue
			}
			if err := g.checkType(x.Type, x.Line); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gen) checkType(t string, line int) error {
	if _, ok := baseTypes[t]; ok {
		return nil
	}
	if _, ok := g.byName[t]; !ok {
		return g.failf(line, "undefined type %s", t)
	}
	return nil
}

func (g *gen) checkUnion(d *Def) error {
	disc := d.Disc
	if disc.Kind != KPlain {
		return g.failf(d.Line, "union %s: discriminant must be a plain int, unsigned int, bool or enum", d.Name)
	}
	if _, ok := baseTypes[disc.Type]; !ok {
		if def := g.byName[disc.Type]; def == nil || def.What != "enum" {
			return g.failf(d.Line, "union %s: discriminant type %s is not int, unsigned int, bool or an enum", d.Name, disc.Type)
		}
	} else if disc.Type != "int" && disc.Type != "unsigned int" && disc.Type != "bool" {
		return g.failf(d.Line, "union %s: discriminant type %s not allowed", d.Name, disc.Type)
	}
	fields := map[string]Decl{disc.Name: disc}
	arms := append([]Decl(nil), func() []Decl {
		var out []Decl
		for _, a := range d.Arms {
			out = append(out, a.Decl)
		}
		return out
	}()...)
	if d.Default != nil {
		arms = append(arms, *d.Default)
	}
	for _, a := range arms {
		if a.Kind == KVoid {
			continue
		}
		if prev, ok := fields[a.Name]; ok {
			if prev.Type != a.Type || prev.Kind != a.Kind || prev.Size != a.Size {
				return g.failf(a.Line, "union %s: arm %s declared twice with different types", d.Name, a.Name)
			}
		}
		fields[a.Name] = a
	}
	seen := map[int64]bool{}
	for _, a := range d.Arms {
		for _, l := range a.Labels {
			v, _ := g.eval(l, d.Line)
			if seen[v] {
				return g.failf(d.Line, "union %s: case %s repeated", d.Name, l)
			}
			seen[v] = true
		}
	}
	return nil
}

func (g *gen) eval(s string, line int) (int64, error) {
	if v, err := parseNumber(s); err == nil {
		return v, nil
	}
	if v, ok := g.values[s]; ok {
		return v, nil
	}
	return 0, g.failf(line, "undefined constant %s", s)
}

// sizeExpr is the Go expression for an array size or bound.
func sizeExpr(s string) string {
	if _, err := parseNumber(s); err == nil {
		return s
	}
	return goConst(s)
}

// boundExpr is the Go expression for a variable-length bound.
func boundExpr(s string) string {
	if s == "" {
		return "xdr.Unbounded"
	}
	return sizeExpr(s)
}

// optTarget returns the struct-or-other type a typedef-of-optional points to,
// or "" if name is not such a typedef.
func (g *gen) optTarget(name string) string {
	d := g.byName[name]
	if d != nil && d.What == "typedef" && d.Typedef.Kind == KOptional {
		return d.Typedef.Type
	}
	return ""
}

// elemGo is the Go type of one element of XDR type t.
func (g *gen) elemGo(t string) string {
	if b, ok := baseTypes[t]; ok {
		return b.goType
	}
	return goName(t)
}

// goType is the Go type of a declaration.
func (g *gen) goType(d Decl) string {
	switch d.Type {
	case "opaque":
		if d.Kind == KFixed {
			return "[" + sizeExpr(d.Size) + "]byte"
		}
		return "[]byte"
	case "string":
		return "string"
	}
	e := g.elemGo(d.Type)
	switch d.Kind {
	case KFixed:
		return "[" + sizeExpr(d.Size) + "]" + e
	case KVar:
		return "[]" + e
	case KOptional:
		return "*" + e
	}
	return e
}

func (g *gen) p(format string, args ...any) {
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *gen) tmp(prefix string) string {
	g.nvar++
	return fmt.Sprintf("%s%d", prefix, g.nvar)
}

// encodeValue writes x, an addressable expression of XDR type t (element
// level: no array or optional wrapper).
func (g *gen) encodeValue(x, t string) {
	if b, ok := baseTypes[t]; ok {
		g.p("w.%s(%s(%s))", b.method, b.goType, x)
		return
	}
	if target := g.optTarget(t); target != "" {
		g.encodeOptional(x, target)
		return
	}
	g.p("%s.Encode(w)", addr(x))
}

// addr is the address of an addressable expression, without the &*p form
// for a dereferenced pointer.
func addr(x string) string {
	if strings.HasPrefix(x, "(*") && strings.HasSuffix(x, ")") {
		return x[2 : len(x)-1]
	}
	return "(&" + x + ")"
}

func (g *gen) encodeOptional(x, t string) {
	g.p("if %s != nil {", x)
	g.p("w.Bool(true)")
	g.encodeValue("(*"+x+")", t)
	g.p("} else {")
	g.p("w.Bool(false)")
	g.p("}")
}

// encodeDecl writes the declaration d held in expression x.
func (g *gen) encodeDecl(x string, d Decl) {
	switch d.Type {
	case "opaque":
		if d.Kind == KFixed {
			g.p("w.FixedOpaque(%s[:])", x)
		} else {
			g.p("w.Opaque([]byte(%s))", x)
		}
		return
	case "string":
		g.p("w.String(string(%s))", x)
		return
	}
	switch d.Kind {
	case KPlain:
		g.encodeValue(x, d.Type)
	case KFixed:
		i := g.tmp("i")
		g.p("for %s := range %s {", i, x)
		g.encodeValue(x+"["+i+"]", d.Type)
		g.p("}")
	case KVar:
		i := g.tmp("i")
		g.p("w.Uint32(uint32(len(%s)))", x)
		g.p("for %s := range %s {", i, x)
		g.encodeValue(x+"["+i+"]", d.Type)
		g.p("}")
	case KOptional:
		g.encodeOptional(x, d.Type)
	}
}

// decodeValue reads into x, an addressable expression of XDR type t.
func (g *gen) decodeValue(x, t string) {
	if b, ok := baseTypes[t]; ok {
		g.p("%s = %s(r.%s())", x, g.elemGo(t), b.method)
		return
	}
	if target := g.optTarget(t); target != "" {
		g.decodeOptional(x, target)
		return
	}
	g.p("%s.Decode(r)", addr(x))
}

func (g *gen) decodeOptional(x, t string) {
	g.p("if r.Bool() {")
	g.p("%s = new(%s)", x, g.elemGo(t))
	g.decodeValue("(*"+x+")", t)
	g.p("} else {")
	g.p("%s = nil", x)
	g.p("}")
}

// decodeDecl reads the declaration d into x, whose Go type is typ.
func (g *gen) decodeDecl(x string, d Decl, typ string) {
	switch d.Type {
	case "opaque":
		if d.Kind == KFixed {
			g.p("r.FixedOpaqueInto(%s[:])", x)
		} else {
			g.p("%s = %s(r.Opaque(%s))", x, typ, boundExpr(d.Size))
		}
		return
	case "string":
		g.p("%s = %s(r.String(%s))", x, typ, boundExpr(d.Size))
		return
	}
	switch d.Kind {
	case KPlain:
		g.decodeValue(x, d.Type)
	case KFixed:
		i := g.tmp("i")
		g.p("for %s := range %s {", i, x)
		g.decodeValue(x+"["+i+"]", d.Type)
		g.p("}")
	case KVar:
		n, i := g.tmp("n"), g.tmp("i")
		g.p("%s := r.ArrayLen(%s, %d)", n, boundExpr(d.Size), g.minSize(d.Type, nil))
		g.p("%s = make(%s, %s)", x, typ, n)
		g.p("for %s := range %s {", i, x)
		g.decodeValue(x+"["+i+"]", d.Type)
		g.p("}")
	case KOptional:
		g.decodeOptional(x, d.Type)
	}
}

// minSize is the smallest encoding of XDR type t, in bytes.
func (g *gen) minSize(t string, visiting map[string]bool) int {
	if b, ok := baseTypes[t]; ok {
		return b.size
	}
	if v, ok := g.minSz[t]; ok {
		return v
	}
	if visiting == nil {
		visiting = map[string]bool{}
	}
	if visiting[t] {
		return 4 // only reachable through an optional, which is at least 4
	}
	visiting[t] = true
	defer delete(visiting, t)
	d := g.byName[t]
	var n int
	switch d.What {
	case "enum":
		n = 4
	case "typedef":
		n = g.declMin(d.Typedef, visiting)
	case "struct":
		for _, f := range d.Fields {
			n += g.declMin(f, visiting)
		}
	case "union":
		least := -1
		arms := []Decl{}
		for _, a := range d.Arms {
			arms = append(arms, a.Decl)
		}
		if d.Default != nil {
			arms = append(arms, *d.Default)
		}
		for _, a := range arms {
			if m := g.declMin(a, visiting); least < 0 || m < least {
				least = m
			}
		}
		if least < 0 {
			least = 0
		}
		n = 4 + least
	}
	g.minSz[t] = n
	return n
}

func (g *gen) declMin(d Decl, visiting map[string]bool) int {
	switch d.Kind {
	case KVoid:
		return 0
	case KVar, KOptional:
		return 4
	}
	if d.Type == "opaque" {
		n, _ := g.eval(d.Size, d.Line)
		return int((n + 3) &^ 3)
	}
	m := g.minSize(d.Type, visiting)
	if d.Kind == KFixed {
		n, _ := g.eval(d.Size, d.Line)
		return int(n) * m
	}
	return m
}

func (g *gen) emitCode() ([]byte, error) {
	g.p("// Code generated by xdrgen from %s. DO NOT EDIT.", g.file)
	g.p("")
	g.p("package %s", g.pkg)
	g.p("")
	g.p("import (")
	g.p(`"strconv"`)
	g.p("")
	g.p(`"github.com/gonfs/gonfs/xdr"`)
	g.p(")")
	g.p("")
	g.p("var _ = strconv.Itoa")
	for _, d := range g.defs {
		switch d.What {
		case "const":
			g.p("const %s = %s", goConst(d.Name), sizeExpr(d.Value))
		case "enum":
			g.emitEnum(d)
		case "typedef":
			g.emitTypedef(d)
		case "struct":
			g.emitStruct(d)
		case "union":
			g.emitUnion(d)
		case "program":
			g.emitProgram(d)
		}
		g.p("")
	}
	out, err := format.Source(g.b.Bytes())
	if err != nil {
		return g.b.Bytes(), fmt.Errorf("generated code does not format: %v", err)
	}
	return out, nil
}

func (g *gen) emitEnum(d *Def) {
	name := goName(d.Name)
	g.p("type %s int32", name)
	g.p("")
	g.p("const (")
	for _, it := range d.Enum {
		g.p("%s %s = %s", goConst(it.Name), name, sizeExpr(it.Value))
	}
	g.p(")")
	g.p("")
	g.p("func (v %s) String() string {", name)
	g.p("switch v {")
	seen := map[int64]bool{}
	for _, it := range d.Enum {
		val := g.values[it.Name]
		if seen[val] {
			continue
		}
		seen[val] = true
		g.p("case %s:", goConst(it.Name))
		g.p("return %q", it.Name)
	}
	g.p("}")
	g.p(`return "%s(" + strconv.Itoa(int(v)) + ")"`, d.Name)
	g.p("}")
	g.p("")
	g.p("func (v *%s) Encode(w *xdr.Writer) { w.Int32(int32(*v)) }", name)
	g.p("")
	g.p("func (v *%s) Decode(r *xdr.Reader) { *v = %s(r.Int32()) }", name, name)
}

func (g *gen) emitTypedef(d *Def) {
	name := goName(d.Name)
	td := d.Typedef
	if td.Kind == KOptional {
		g.p("type %s = *%s", name, g.elemGo(td.Type))
		return
	}
	if td.Kind == KPlain {
		if def := g.byName[td.Type]; def != nil && def.What != "typedef" {
			g.p("type %s = %s", name, goName(td.Type))
			return
		}
	}
	g.p("type %s %s", name, g.goType(td))
	g.p("")
	g.p("func (v *%s) Encode(w *xdr.Writer) {", name)
	inner := td
	if td.Kind == KPlain {
		// A typedef of a typedef: encode through the underlying type.
		if _, ok := baseTypes[td.Type]; !ok {
			g.p("(*%s)(v).Encode(w)", goName(td.Type))
			g.p("}")
			g.p("")
			g.p("func (v *%s) Decode(r *xdr.Reader) { (*%s)(v).Decode(r) }", name, goName(td.Type))
			return
		}
	}
	g.encodeDecl("(*v)", inner)
	g.p("}")
	g.p("")
	g.p("func (v *%s) Decode(r *xdr.Reader) {", name)
	if td.Kind == KPlain {
		b := baseTypes[td.Type]
		g.p("*v = %s(r.%s())", name, b.method)
	} else {
		g.decodeDecl("(*v)", td, name)
	}
	g.p("}")
}

func (g *gen) emitStruct(d *Def) {
	name := goName(d.Name)
	g.p("type %s struct {", name)
	for _, f := range d.Fields {
		g.p("%s %s", goName(f.Name), g.goType(f))
	}
	g.p("}")
	g.p("")
	g.p("func (v *%s) Encode(w *xdr.Writer) {", name)
	for _, f := range d.Fields {
		g.encodeDecl("v."+goName(f.Name), f)
	}
	g.p("}")
	g.p("")
	g.p("func (v *%s) Decode(r *xdr.Reader) {", name)
	for _, f := range d.Fields {
		g.decodeDecl("v."+goName(f.Name), f, g.goType(f))
	}
	g.p("}")
}

// caseLabel renders a union case label for a discriminant of XDR type disc.
func (g *gen) caseLabel(l, disc string) string {
	if disc == "bool" {
		v, _ := g.eval(l, 0)
		return strconv.FormatBool(v != 0)
	}
	if _, err := parseNumber(l); err == nil {
		return l
	}
	if enum, ok := g.enumOf[l]; ok && enum != disc {
		return g.elemGo(disc) + "(" + goConst(l) + ")"
	}
	return goConst(l)
}

// largeUnion is the number of distinct arms above which a union's arms of
// named types become pointers.
const largeUnion = 16

// ptrArm reports whether arm a of union d is held through a pointer.
func (g *gen) ptrArm(d *Def, a Decl) bool {
	if a.Kind != KPlain || a.Type == "opaque" || a.Type == "string" {
		return false
	}
	if _, base := baseTypes[a.Type]; base || g.optTarget(a.Type) != "" {
		return false
	}
	return len(g.unionFields(d))-1 > largeUnion
}

// armType is the Go type of a union arm's field.
func (g *gen) armType(d *Def, a Decl) string {
	if g.ptrArm(d, a) {
		return "*" + g.goType(a)
	}
	return g.goType(a)
}

func (g *gen) unionFields(d *Def) []Decl {
	fields := []Decl{d.Disc}
	seen := map[string]bool{d.Disc.Name: true}
	add := func(a Decl) {
		if a.Kind != KVoid && !seen[a.Name] {
			seen[a.Name] = true
			fields = append(fields, a)
		}
	}
	for _, a := range d.Arms {
		add(a.Decl)
	}
	if d.Default != nil {
		add(*d.Default)
	}
	return fields
}

func (g *gen) emitUnion(d *Def) {
	name := goName(d.Name)
	disc := "v." + goName(d.Disc.Name)
	g.p("type %s struct {", name)
	for i, f := range g.unionFields(d) {
		if i == 0 {
			g.p("%s %s", goName(f.Name), g.goType(f))
			continue
		}
		g.p("%s %s", goName(f.Name), g.armType(d, f))
	}
	g.p("}")
	g.p("")
	arm := func(a Decl, enc bool) {
		field := "v." + goName(a.Name)
		switch {
		case !g.ptrArm(d, a) && enc:
			g.encodeDecl(field, a)
		case !g.ptrArm(d, a):
			g.decodeDecl(field, a, g.goType(a))
		case enc:
			g.p("if %s != nil {", field)
			g.p("%s.Encode(w)", field)
			g.p("} else {")
			g.p("new(%s).Encode(w)", g.goType(a))
			g.p("}")
		default:
			g.p("%s = new(%s)", field, g.goType(a))
			g.p("%s.Decode(r)", field)
		}
	}
	for _, enc := range []bool{true, false} {
		if enc {
			g.p("func (v *%s) Encode(w *xdr.Writer) {", name)
			g.encodeDecl(disc, d.Disc)
		} else {
			g.p("func (v *%s) Decode(r *xdr.Reader) {", name)
			g.decodeDecl(disc, d.Disc, g.goType(d.Disc))
			g.p("if r.Err() != nil {")
			g.p("return")
			g.p("}")
		}
		g.p("switch %s {", disc)
		for _, a := range d.Arms {
			var labels []string
			for _, l := range a.Labels {
				labels = append(labels, g.caseLabel(l, d.Disc.Type))
			}
			g.p("case %s:", strings.Join(labels, ", "))
			if a.Decl.Kind != KVoid {
				arm(a.Decl, enc)
			}
		}
		switch {
		case d.Default != nil:
			g.p("default:")
			if d.Default.Kind != KVoid {
				arm(*d.Default, enc)
			}
		case !enc:
			g.p("default:")
			if d.Disc.Type == "bool" {
				g.p("r.BadDiscriminant(%q, 0)", d.Name)
			} else {
				g.p("r.BadDiscriminant(%q, int64(%s))", d.Name, disc)
			}
		}
		g.p("}")
		g.p("}")
		g.p("")
	}
}

// codecType is the Go type a procedure's argument or result decodes into.
func (g *gen) codecType(t string) string {
	switch t {
	case "void":
		return "xdr.Void"
	case "string":
		return "xdr.String"
	}
	if b, ok := baseTypes[t]; ok {
		return "xdr." + upperFirst(b.goType)
	}
	if target := g.optTarget(t); target != "" {
		e := g.elemGo(target)
		return "xdr.Optional[" + e + ", *" + e + "]"
	}
	return goName(t)
}

// shortNames strips the prefix all procedure names of a version share.
func shortNames(procs []Proc) []string {
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.Name
	}
	if len(names) < 2 {
		return names
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if i := strings.LastIndexByte(prefix, '_'); i >= 0 {
		prefix = prefix[:i+1]
	} else {
		prefix = ""
	}
	for i := range names {
		names[i] = strings.TrimPrefix(names[i], prefix)
	}
	return names
}

func (g *gen) emitProgram(d *Def) {
	g.p("const %s = %s", goConst(d.Name), sizeExpr(d.Number))
	emitted := map[string]bool{}
	for _, v := range d.Versions {
		vn := goConst(v.Name)
		g.p("")
		g.p("// Version %s of program %s.", v.Name, d.Name)
		g.p("const %s = %s", vn, sizeExpr(v.Number))
		g.p("")
		g.p("// Procedures of %s version %s.", d.Name, v.Name)
		g.p("const (")
		for _, pr := range v.Procs {
			if !emitted[pr.Name] {
				emitted[pr.Name] = true
				g.p("%s = %s", goConst(pr.Name), sizeExpr(pr.Number))
			}
		}
		g.p(")")
		short := shortNames(v.Procs)
		procs := slices.Clone(v.Procs)
		order := make([]int, len(procs))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			x, _ := g.eval(procs[order[a]].Number, 0)
			y, _ := g.eval(procs[order[b]].Number, 0)
			return x < y
		})
		g.p("")
		g.p("// %sProcName returns the short name of procedure proc of %s, or \"\".", vn, v.Name)
		g.p("func %sProcName(proc uint32) string {", vn)
		g.p("switch proc {")
		for _, i := range order {
			g.p("case %s:", goConst(procs[i].Name))
			g.p("return %q", short[i])
		}
		g.p("}")
		g.p(`return ""`)
		g.p("}")
		for _, which := range []string{"Args", "Results"} {
			g.p("")
			g.p("// %s%s returns a new value for the %s of procedure proc of %s,", vn, which, strings.ToLower(which), v.Name)
			g.p("// or nil for an unknown procedure.")
			g.p("func %s%s(proc uint32) xdr.Codec {", vn, which)
			g.p("switch proc {")
			for _, i := range order {
				t := procs[i].Arg
				if which == "Results" {
					t = procs[i].Result
				}
				ct := g.codecType(t)
				g.p("case %s:", goConst(procs[i].Name))
				g.p("return new(%s)", ct)
			}
			g.p("}")
			g.p("return nil")
			g.p("}")
		}
	}
}
