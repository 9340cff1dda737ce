package portmap

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// TestRPCInfo pings our port mapper with rpcinfo from libtirpc, a client
// nobody here wrote. rpcinfo -p and -s always ask port 111, where this
// test does not listen, and its -n PORT still asks rpcbind first, so only
// the NULL ping of -a (a universal address) can reach an ephemeral port.
func TestRPCInfo(t *testing.T) {
	rpcinfo, err := exec.LookPath("rpcinfo")
	if err != nil {
		rpcinfo = "/usr/sbin/rpcinfo"
		if _, err := exec.LookPath(rpcinfo); err != nil {
			t.Skip("rpcinfo not installed (Debian package rpcbind): skipping the interop test")
		}
	}
	_, addr := start(t)
	uaddr := FormatUAddr(netip.MustParseAddrPort(addr))
	type test struct {
		args []string
		want string // a line rpcinfo must print
	}
	var tests []test
	for _, netid := range []string{"tcp", "udp"} {
		for _, v := range []string{"2", "3", "4"} {
			tests = append(tests, test{[]string{"-a", uaddr, "-T", netid, "100000", v}, "program 100000 version " + v + " ready and waiting"})
		}
	}
	for _, tt := range tests {
		out, err := exec.Command(rpcinfo, tt.args...).CombinedOutput()
		if err != nil {
			t.Errorf("rpcinfo %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			continue
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("rpcinfo %s printed\n%s\nwithout %q", strings.Join(tt.args, " "), out, tt.want)
		}
	}
}
