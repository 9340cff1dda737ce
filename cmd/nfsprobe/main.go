// Command nfsprobe performs the file system checks of the interop suite that
// busybox cannot: large writes checked by SHA-256, readdir under concurrent
// churn, sparse files, running a command as another user, and the NFSv4.2
// calls (fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range, user xattrs) and
// lock attempts with a time limit. It is built
// static (CGO_ENABLED=0) and copied into the nfslab guest (run.sh --add), and
// the interop test also runs it on the host to check what the server stored.
//
// Each subcommand prints one line per step and exits 1 with a line starting
// "FAIL" at the first failed check (2 for a usage error), so a busybox script
// can stop on the first failure with `nfsprobe ... || exit 1`.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// command is one subcommand; run gets the arguments after its name.
type command struct {
	name, args, help string
	nargs            int // minimum number of arguments
	run              func(p *probe, args []string) error
}

var commands = []command{
	{"bigfile", "PATH SIZE", "write SIZE bytes of the pattern in 1 MiB writes, fsync, read back with O_DIRECT, compare SHA-256", 2, runBigfile},
	{"verify", "PATH SIZE", "check that PATH holds exactly SIZE bytes of the pattern", 2, runVerify},
	{"twophase", "PATH SIZE READY GO [LOCKED RELEASE]", "write part A (SIZE bytes), fsync, [lock all of it,] create READY, wait for GO, write part B through the same fd, fsync[, create LOCKED, wait for RELEASE, unlock]", 4, runTwophase},
	{"readdir-churn", "DIR N [PASSES]", "create N files, then list DIR with getdents while other files come and go: each seen exactly once", 2, runReaddirChurn},
	{"sparse", "PATH [exact]", "write at 0 and 1 GiB; check size, allocation, holes reading as zeros, SEEK_DATA/SEEK_HOLE (with exact: the real holes, as NFSv4.2 SEEK gives)", 1, runSparse},
	{"fallocate", "PATH OFF LEN [punch]", "fallocate(2) [OFF, OFF+LEN) (NFSv4.2 ALLOCATE), or punch it out (DEALLOCATE); print size and allocation", 3, runFallocate},
	{"extents", "PATH", "print the data/hole map that SEEK_DATA/SEEK_HOLE give", 1, runExtents},
	{"copyrange", "SRC DST", "copy SRC to DST with copy_file_range(2) (NFSv4.2 COPY), read both back with O_DIRECT, compare SHA-256", 2, runCopyrange},
	{"xattr", "PATH", "set, replace, get, list and remove user.* xattrs (NFSv4.2 xattr ops), checking EEXIST and ENODATA refusals", 1, runXattr},
	{"trylock", "PATH START LEN granted|denied TIMEOUT", "one F_SETLK write lock attempt; still blocked after TIMEOUT (e.g. 20s) counts as not granted", 5, runTrylock},
	{"asuser", "UID GID CMD [ARG...]", "setgroups(GID), setresgid, setresuid, then exec CMD", 3, runAsuser},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: nfsprobe COMMAND ARGS...")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %s %s\n      %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(os.Stderr, "SIZE takes a K, M or G suffix (powers of 1024).")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	for _, c := range commands {
		if c.name != os.Args[1] {
			continue
		}
		args := os.Args[2:]
		if len(args) < c.nargs {
			fmt.Fprintf(os.Stderr, "usage: nfsprobe %s %s\n", c.name, c.args)
			os.Exit(2)
		}
		p := &probe{name: c.name}
		if err := c.run(p, args); err != nil {
			p.say("FAIL: %v", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "nfsprobe: unknown command %q\n", os.Args[1])
	usage()
	os.Exit(2)
}

// probe prints the progress lines of one subcommand.
type probe struct{ name string }

func (p *probe) say(format string, a ...any) {
	fmt.Printf("nfsprobe %s: %s\n", p.name, fmt.Sprintf(format, a...))
}

// parseSize reads a byte count with an optional K, M or G (binary) suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
