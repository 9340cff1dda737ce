package trace

import (
	"bytes"
	"math/rand"
	"os"
	"runtime/debug"
	"testing"
	"time"
)

func TestHangTmp(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs3Session(c, "192.168.1.10:871", "192.168.1.2:2049")
	call, reply := nfs3Getattr(3)
	seeds := [][]byte{c.pcap(), c.pcapng(), append(call, reply...)}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 30000; i++ {
		s := bytes.Clone(seeds[i%3])
		for j := 0; j < 1+rng.Intn(4); j++ {
			p := rng.Intn(len(s))
			switch rng.Intn(4) {
			case 0, 1:
				s[p] = byte(rng.Intn(256))
			case 2:
				s = append(s[:p], s[p+rng.Intn(len(s)-p):]...)
			case 3:
				s = append(s[:p], append(bytes.Repeat([]byte{byte(rng.Intn(256))}, rng.Intn(10)), s[p:]...)...)
			}
			if len(s) == 0 {
				s = []byte{1}
			}
		}
		done := make(chan struct{})
		go func() {
			if i%3 == 2 {
				c := newCapture(t, linkEthernet)
				k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
				k.send(true, s)
				k.send(false, s)
				c.udp(ap("10.0.0.1:800"), ap("10.0.0.9:2049"), s)
				Analyze(bytes.NewReader(c.pcap()), Options{})
			} else {
				Analyze(bytes.NewReader(s), Options{})
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			os.WriteFile("/tmp/hang.bin", s, 0o644)
			debug.SetTraceback("all")
			panic("hang")
		}
	}
}
