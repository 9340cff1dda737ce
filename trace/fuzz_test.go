package trace

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	n4 "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// FuzzAnalyze feeds the analyzer whole capture files (the pcap/pcapng
// readers and link decoding) and raw TCP stream contents wrapped in a
// synthesised capture (the record marking, RPC and program decoders, which
// the fuzzer reaches far more easily without pcap framing in the way).
// Neither may panic, and no decoder may fail inside (a recovered panic
// becomes an "internal error" note).
//
//	GONFS_WRITE_CORPUS=1 go test -run '^$' -fuzz '^FuzzAnalyze$' -fuzztime 1x ./trace
func FuzzAnalyze(f *testing.F) {
	// Capture seeds are kept small: the fuzzing engine slows to a crawl
	// on inputs of many kilobytes.
	call, reply := nfs3Getattr(3)
	small := func(l link, cli, srv string) *capture {
		c := newCapture(f, l)
		k := c.dial(cli, srv)
		k.call(call)
		k.reply(reply)
		return c
	}
	fuzzcorpus.Add(f, small(linkEthernet, "192.168.1.10:871", "192.168.1.2:2049").pcap(), []byte{})
	fuzzcorpus.Add(f, small(linkSLL, "[fd00::5]:901", "[fd00::1]:2049").pcapng(), []byte{})
	cut := small(linkEthernet, "10.0.0.1:800", "10.0.0.9:2049").pcap()
	fuzzcorpus.Add(f, cut[:len(cut)-20], []byte{})

	fuzzcorpus.Add(f, []byte{}, append(call, reply...))
	fuzzcorpus.Add(f, []byte{}, rec(rpcCall(1, n4.NFS4_PROGRAM, 4, 1, v4(1, exchangeID(owner, 1), createSession(7), sequence(0, 1), lookup("x"))), 20, 3))
	fuzzcorpus.Add(f, []byte{}, rec(rpcCall(2, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: fh3, Count: 9})))

	f.Fuzz(func(t *testing.T, file, stream []byte) {
		check := func(rep *Report, err error) {
			if err != nil {
				return
			}
			for _, n := range rep.Notes {
				if strings.Contains(n, "internal error") {
					t.Fatal(n)
				}
			}
			var b bytes.Buffer
			rep.WriteText(&b, false)
			rep.WriteJSON(&b)
		}
		check(Analyze(bytes.NewReader(file), Options{}))
		if len(stream) == 0 {
			return
		}
		c := newCapture(t, linkEthernet)
		k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
		half := len(stream) / 2
		k.send(true, stream[:half])
		k.send(false, stream)
		k.send(true, stream[half:])
		c.udp(ap("10.0.0.1:800"), ap("10.0.0.9:2049"), stream)
		check(Analyze(bytes.NewReader(c.pcap()), Options{}))
	})
}
