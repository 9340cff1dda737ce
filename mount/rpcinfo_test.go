package mount

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestRPCInfo pings MOUNT with libtirpc's rpcinfo, over TCP and UDP. Only
// the -a (universal address) form reaches a port that no rpcbind knows.
func TestRPCInfo(t *testing.T) {
	rpcinfo, err := exec.LookPath("rpcinfo")
	if err != nil {
		rpcinfo = "/usr/sbin/rpcinfo"
		if _, err := exec.LookPath(rpcinfo); err != nil {
			t.Skip("rpcinfo not installed (Debian package rpcbind): skipping the interop test")
		}
	}
	e := start(t)
	ap := netip.MustParseAddrPort(e.addr)
	uaddr := ap.Addr().String() + "." + strconv.Itoa(int(ap.Port()>>8)) + "." + strconv.Itoa(int(ap.Port()&0xff))
	for _, netid := range []string{"tcp", "udp"} {
		out, err := exec.Command(rpcinfo, "-a", uaddr, "-T", netid, "100005", "3").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "program 100005 version 3 ready and waiting") {
			t.Errorf("rpcinfo -a %s -T %s 100005 3: %v\n%s", uaddr, netid, err, out)
		}
	}
}
