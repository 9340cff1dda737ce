package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/server"
)

// startServer runs an embedded gonfs on 127.0.0.1 over a fresh directory
// owned by uid 1000 (the default export squashes root), portmapper off,
// and returns its address and directory.
func startServer(t *testing.T) (addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	if os.Getuid() == 0 {
		if err := os.Chown(dir, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(server.Options{Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: t.TempDir(),
		Portmap: "off", GracePeriod: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv.Addr().String(), dir
}

// TestRun runs every workload, bounded by count (the duration is only a
// safety net), over each version, and checks what it left on the server's
// disk.
func TestRun(t *testing.T) {
	addr, dir := startServer(t)
	for _, v := range []string{"3", "4.1", "4.2"} {
		t.Run("v"+v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var log strings.Builder
			rep, err := Run(ctx, Config{
				URL:   fmt.Sprintf("nfs://%s/work/v%s?version=%s&uid=1000&gid=1000", addr, v, v),
				Conns: 2, Depth: 3, Size: 4 << 20, Duration: time.Minute, MaxOps: 100, Files: 40, ListEntries: 120,
				ReadPasses: 3, ServerPID: os.Getpid(), Log: &log,
			})
			if err != nil {
				t.Fatalf("Run: %v\nlog: %s", err, log.String())
			}
			want := []string{SeqWrite, SeqRead, RandRead, RandWrite, "meta-create", "meta-stat", "meta-readdir", "meta-remove", LsL, Getattr}
			if len(rep.Results) != len(want) {
				t.Fatalf("%d results, want %d: %+v", len(rep.Results), len(want), rep.Results)
			}
			for i, r := range rep.Results {
				if r.Workload != want[i] {
					t.Errorf("result %d is %s, want %s", i, r.Workload, want[i])
				}
				if r.Errors != 0 || r.FirstError != "" {
					t.Errorf("%s: %d errors: %s", r.Workload, r.Errors, r.FirstError)
				}
				if r.Ops == 0 || r.P50 <= 0 || r.P999 < r.P50 || r.Max < r.P999 {
					t.Errorf("%s: ops %d p50 %v p99.9 %v max %v", r.Workload, r.Ops, r.P50, r.P999, r.Max)
				}
				if r.ServerCPU < 0 {
					t.Errorf("%s: server CPU not measured", r.Workload)
				}
			}
			byName := map[string]Result{}
			for _, r := range rep.Results {
				byName[r.Workload] = r
			}
			checks := []struct {
				name      string
				got, want uint64
			}{
				{"seqwrite bytes", byName[SeqWrite].Bytes, 4 << 20},
				{"seqwrite ops", byName[SeqWrite].Ops, 4},
				{"seqread bytes (3 passes)", byName[SeqRead].Bytes, 3 * 4 << 20},
				{"randread ops", byName[RandRead].Ops, 100},
				{"randread bytes", byName[RandRead].Bytes, 100 * 4096},
				{"randwrite ops", byName[RandWrite].Ops, 100},
				{"getattr ops", byName[Getattr].Ops, 100},
				{"getattr depth", uint64(byName[Getattr].Depth * byName[Getattr].Conns), 1},
				{"meta-create ops", byName["meta-create"].Ops, 40},
				{"meta-stat ops", byName["meta-stat"].Ops, 40},
				{"meta-readdir entries", byName["meta-readdir"].Entries, 40 * byName["meta-readdir"].Ops},
				{"meta-remove ops", byName["meta-remove"].Ops, 40},
				{"lsl entries per listing", byName[LsL].Entries / byName[LsL].Ops, 120},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
				}
			}
			work := filepath.Join(dir, "work", "v"+v)
			if st, err := os.Stat(filepath.Join(work, seqName)); err != nil || st.Size() != 4<<20 {
				t.Errorf("test file: %v, %v", st, err)
			}
			if ents, err := os.ReadDir(filepath.Join(work, metaName)); err != nil || len(ents) != 0 {
				t.Errorf("meta directory not emptied: %d entries, %v", len(ents), err)
			}
			if ents, err := os.ReadDir(filepath.Join(work, lslName)); err != nil || len(ents) != 120 {
				t.Errorf("lsl directory: %d entries, %v", len(ents), err)
			}
			var text strings.Builder
			if err := WriteText(&text, rep); err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("text report lacks %s:\n%s", w, text.String())
				}
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"remote address", Config{URL: "nfs://192.0.2.1/x?version=3"}, "not a loopback address"},
		{"no version", Config{URL: "nfs://127.0.0.1/x"}, "version"},
		{"unknown workload", Config{URL: "nfs://127.0.0.1/x?version=3", Workloads: []string{"seqwrite", "fsync"}}, "unknown workload"},
		{"not nfs", Config{URL: "http://127.0.0.1/"}, "not an nfs:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A port nothing listens on: a check that failed to refuse
			// would fail to dial instead, with another message.
			_, err := Run(ctx, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.3.2.1", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"10.0.0.1", false},
		{"192.168.1.1", false},
		{"fd00::1", false},
		{"8.8.8.8", false},
	}
	for _, tt := range tests {
		err := CheckLoopback(context.Background(), tt.host)
		if (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%s) = %v, want ok=%v", tt.host, err, tt.ok)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name string
		line string
		want float64
		bad  bool
	}{
		{"plain", "1234 (gonfs) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 3.25, false},
		{"name with spaces and parens", "7 (a) b) (c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0", 0.03, false},
		{"truncated", "7 (x) R 1 2 3", 0, true},
		{"no name", "7 x R", 0, true},
		{"bad number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 a 2 0", 0, true},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.line)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("%s: parseStatCPU = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.bad)
		}
	}
	if s, err := ProcessCPU(os.Getpid()); err != nil || s < 0 {
		t.Errorf("ProcessCPU(self) = %v, %v", s, err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"4096", 4096}, {"64K", 64 << 10}, {"512m", 512 << 20}, {"1G", 1 << 30}, {"1GiB", 1 << 30}, {"2GB", 2 << 30},
		{"", -1}, {"G", -1}, {"-1G", -1}, {"1.5G", -1}, {"0", -1}, {"1X", -1}, {"99999999999T", -1},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if back, _ := ParseSize(FormatSize(got)); back != got {
			t.Errorf("FormatSize(%d) = %q does not parse back", got, FormatSize(got))
		}
	}
}
