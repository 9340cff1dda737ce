package debuglog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
)

// newLogger returns a logger through a Handler over a text handler at
// level, writing to the returned buffer without times.
func newLogger(level slog.Level, sw *Switches) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	inner := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		}})
	return slog.New(NewHandler(inner, sw)), &buf
}

func TestHandlerFilters(t *testing.T) {
	tests := []struct {
		name   string
		inner  slog.Level // the wrapped handler's level
		on     []Subsystem
		logger func(*slog.Logger) *slog.Logger
		level  slog.Level
		want   bool
	}{
		{"debug, switch off", slog.LevelInfo, nil, withSub("nfs3"), slog.LevelDebug, false},
		{"debug, switch on", slog.LevelInfo, []Subsystem{NFS3}, withSub("nfs3"), slog.LevelDebug, true},
		{"debug, other switch on", slog.LevelInfo, []Subsystem{NFS4}, withSub("nfs3"), slog.LevelDebug, false},
		{"debug, switch off, inner at debug", slog.LevelDebug, nil, withSub("nfs3"), slog.LevelDebug, false},
		{"info, switch off", slog.LevelInfo, nil, withSub("nfs3"), slog.LevelInfo, true},
		{"warn, switch off", slog.LevelInfo, nil, withSub("mount"), slog.LevelWarn, true},
		{"info below inner level", slog.LevelWarn, []Subsystem{NFS3}, withSub("nfs3"), slog.LevelInfo, false},
		{"no sub, inner at info", slog.LevelInfo, []Subsystem{NFS3}, noSub, slog.LevelDebug, false},
		{"no sub, inner at debug", slog.LevelDebug, nil, noSub, slog.LevelDebug, true},
		{"unknown sub, inner decides", slog.LevelDebug, nil, withSub("frobnicator"), slog.LevelDebug, true},
		{"helper sub follows its base", slog.LevelInfo, []Subsystem{Portmap}, withSub("portmap-rpc"), slog.LevelDebug, true},
		{"last sub wins", slog.LevelInfo, []Subsystem{Mount},
			func(l *slog.Logger) *slog.Logger { return l.With("sub", "nfs3").With("sub", "mount") }, slog.LevelDebug, true},
		{"sub inside a group does not count", slog.LevelInfo, []Subsystem{NFS3},
			func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").With("sub", "nfs3") }, slog.LevelDebug, false},
		{"sub then group keeps the sub", slog.LevelInfo, []Subsystem{NFS3},
			func(l *slog.Logger) *slog.Logger { return l.With("sub", "nfs3").WithGroup("g") }, slog.LevelDebug, true},
		{"Sub attr constructor", slog.LevelInfo, []Subsystem{Lock},
			func(l *slog.Logger) *slog.Logger { return l.With(Sub(Lock)) }, slog.LevelDebug, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := new(Switches)
			sw.Set(tt.on...)
			base, buf := newLogger(tt.inner, sw)
			log := tt.logger(base)
			if got := log.Enabled(context.Background(), tt.level); got != tt.want {
				t.Errorf("Enabled = %v, want %v", got, tt.want)
			}
			log.Log(context.Background(), tt.level, "hello")
			if got := strings.Contains(buf.String(), "hello"); got != tt.want {
				t.Errorf("record written = %v, want %v (output %q)", got, tt.want, buf.String())
			}
		})
	}
}

func withSub(name string) func(*slog.Logger) *slog.Logger {
	return func(l *slog.Logger) *slog.Logger { return l.With("sub", name) }
}

func noSub(l *slog.Logger) *slog.Logger { return l }

// Switches change what a logger made earlier writes, without making it
// again: the server's loggers are created once at start.
func TestSwitchAtRuntime(t *testing.T) {
	sw := new(Switches)
	base, buf := newLogger(slog.LevelInfo, sw)
	nfs3 := base.With("sub", "nfs3")
	rpc := base.With("sub", "rpc")

	steps := []struct {
		change func()
		want   string // the lines written by the debug calls below
	}{
		{func() {}, ""},
		{func() { sw.Set(NFS3) }, "nfs3 "},
		{func() { sw.Set(RPC) }, "nfs3 rpc "},
		{func() { sw.Clear(NFS3) }, "rpc "},
		{func() { sw.ClearAll() }, ""},
		{func() { sw.SetAll() }, "nfs3 rpc "},
	}
	for i, st := range steps {
		st.change()
		buf.Reset()
		nfs3.Debug("x", "who", "nfs3")
		rpc.Debug("x", "who", "rpc")
		var got strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if _, who, ok := strings.Cut(line, "who="); ok {
				got.WriteString(who + " ")
			}
		}
		if got.String() != st.want {
			t.Errorf("step %d (switches %q): debug lines from %q, want %q", i, sw.String(), got.String(), st.want)
		}
		// Info always passes.
		buf.Reset()
		nfs3.Info("always")
		if !strings.Contains(buf.String(), "always") {
			t.Errorf("step %d: Info record dropped", i)
		}
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		start   []Subsystem
		spec    string
		want    string
		wantErr bool
	}{
		{nil, "nfs3", "nfs3", false},
		{nil, "nfs3,rpc", "rpc,nfs3", false},
		{nil, "nfs3 lock", "nfs3,lock", false},
		{[]Subsystem{NFS3, RPC}, "-nfs3", "rpc", false},
		{nil, "all,-portmap", "rpc,auth,nfs3,nfs4,state,lock,callback,backend,exports,mount,nlm", false},
		{[]Subsystem{NFS3}, "none", "", false},
		{[]Subsystem{NFS3}, "-all,mount", "mount", false},
		{[]Subsystem{NFS3}, "bogus", "nfs3", true},
		{[]Subsystem{NFS3}, "rpc,portmap-rpc", "nfs3", true},
		{[]Subsystem{NFS3}, "", "nfs3", false},
	}
	for _, tt := range tests {
		sw := new(Switches)
		sw.Set(tt.start...)
		err := sw.Apply(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("Apply(%q): err %v, want error %v", tt.spec, err, tt.wantErr)
		}
		if got := sw.String(); got != tt.want {
			t.Errorf("Apply(%q) from %v: %q, want %q", tt.spec, tt.start, got, tt.want)
		}
	}
}

func TestSubsystemNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Subsystems() {
		name := s.String()
		if name == "" || seen[name] {
			t.Errorf("subsystem %d: name %q empty or repeated", s, name)
		}
		seen[name] = true
		if got, ok := ParseSubsystem(name); !ok || got != s {
			t.Errorf("ParseSubsystem(%q) = %v, %v", name, got, ok)
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d subsystems, want the 12 the issue names", len(seen))
	}
	if _, ok := ParseSubsystem("nfs"); ok {
		t.Error(`ParseSubsystem("nfs") found a subsystem`)
	}
	var nilSw *Switches
	if nilSw.Enabled(NFS3) || nilSw.String() != "" {
		t.Error("a nil *Switches is not all off")
	}
}

func TestAttrs(t *testing.T) {
	sw := new(Switches)
	sw.Set(NFS3)
	base, buf := newLogger(slog.LevelInfo, sw)
	log := base.With(Sub(NFS3))
	log.LogAttrs(context.Background(), slog.LevelDebug, "call",
		XID(0xdeadbeef), Client(netip.MustParseAddrPort("127.0.0.1:700")), Op("LOOKUP"),
		Status(nfs3xdr.NFS3ERR_NOENT), Export("/srv"), Err(errors.New("boom")), Err(nil))
	want := `level=DEBUG msg=call sub=nfs3 xid=0xdeadbeef client=127.0.0.1:700 op=LOOKUP status=NFS3ERR_NOENT export=/srv err=boom err=""` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s want %s", buf.String(), want)
	}
}

// The check a hot path makes before building attributes costs no
// allocation, switch on or off.
func TestEnabledAllocs(t *testing.T) {
	sw := new(Switches)
	base, _ := newLogger(slog.LevelInfo, sw)
	log := base.With("sub", "nfs3")
	ctx := context.Background()
	for _, on := range []bool{false, true} {
		if on {
			sw.Set(NFS3)
		}
		if n := testing.AllocsPerRun(100, func() { log.Enabled(ctx, slog.LevelDebug) }); n != 0 {
			t.Errorf("switch on=%v: Enabled allocates %v times", on, n)
		}
	}
}

func BenchmarkEnabledOff(b *testing.B) {
	base, _ := newLogger(slog.LevelInfo, new(Switches))
	log := base.With("sub", "nfs3")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if log.Enabled(ctx, slog.LevelDebug) {
			b.Fatal("enabled")
		}
	}
}
