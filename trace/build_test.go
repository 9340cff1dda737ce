package trace

// Synthesised captures: Ethernet (or Linux cooked) / IPv4 or IPv6 / TCP or
// UDP frames carrying RPC records encoded with our own XDR types, written
// with pcapgo as pcap or pcapng.

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

type link int

const (
	linkEthernet link = iota
	linkSLL           // tcpdump -i any
)

type rawFrame struct {
	at   time.Duration
	data []byte
	// cut, when > 0, is the captured length (snapshot length cut).
	cut int
}

// capture collects frames at a synthetic clock.
type capture struct {
	t      testing.TB
	link   link
	now    time.Duration
	frames []rawFrame
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newCapture(t testing.TB, l link) *capture { return &capture{t: t, link: l} }

// wait advances the clock.
func (c *capture) wait(d time.Duration) { c.now += d }

func (c *capture) put(data []byte) {
	c.now += 100 * time.Microsecond
	c.frames = append(c.frames, rawFrame{at: c.now, data: data})
}

// frame wraps an IP packet (layers) in the capture's link layer.
func (c *capture) frame(ls ...gopacket.SerializableLayer) []byte {
	c.t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var etype layers.EthernetType = layers.EthernetTypeIPv4
	if _, ok := ls[0].(*layers.IPv6); ok {
		etype = layers.EthernetTypeIPv6
	}
	if c.link == linkEthernet {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: etype}
		ls = append([]gopacket.SerializableLayer{eth}, ls...)
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		c.t.Fatal(err)
	}
	out := buf.Bytes()
	if c.link == linkSLL {
		// Linux cooked header v1: packet type, ARPHRD_ETHER, address
		// length, 8 address bytes, protocol.
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], []byte{2, 0, 0, 0, 0, 1})
		binary.BigEndian.PutUint16(h[14:], uint16(etype))
		out = append(h, out...)
	}
	return bytes.Clone(out)
}

func ipLayer(src, dst netip.Addr, proto layers.IPProtocol) gopacket.NetworkLayer {
	if src.Is4() {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

// tcpFrame builds one TCP segment.
func (c *capture) tcpFrame(src, dst netip.AddrPort, seq, ack uint32, flags string, payload []byte) []byte {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	t := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			t.SYN = true
		case 'A':
			t.ACK = true
		case 'P':
			t.PSH = true
		case 'F':
			t.FIN = true
		case 'R':
			t.RST = true
		}
	}
	t.SetNetworkLayerForChecksum(ip)
	return c.frame(ip.(gopacket.SerializableLayer), t, gopacket.Payload(payload))
}

func (c *capture) udp(src, dst netip.AddrPort, payload []byte) {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	u.SetNetworkLayerForChecksum(ip)
	c.put(c.frame(ip.(gopacket.SerializableLayer), u, gopacket.Payload(payload)))
}

// conn is a TCP connection in the capture.
type conn struct {
	c          *capture
	cli, srv   netip.AddrPort
	cseq, sseq uint32
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// dial writes a three-way handshake.
func (c *capture) dial(cli, srv string) *conn {
	k := &conn{c: c, cli: ap(cli), srv: ap(srv), cseq: 1000, sseq: 5000}
	c.put(c.tcpFrame(k.cli, k.srv, k.cseq, 0, "S", nil))
	c.put(c.tcpFrame(k.srv, k.cli, k.sseq, k.cseq+1, "SA", nil))
	k.cseq++
	k.sseq++
	c.put(c.tcpFrame(k.cli, k.srv, k.cseq, k.sseq, "A", nil))
	return k
}

// joined returns a connection whose handshake the capture missed.
func (c *capture) joined(cli, srv string) *conn {
	return &conn{c: c, cli: ap(cli), srv: ap(srv), cseq: 77777, sseq: 99999}
}

// seg builds the next segment in one direction without writing it, so
// tests can write segments out of order.
func (k *conn) seg(fromClient bool, payload []byte) []byte {
	if fromClient {
		f := k.c.tcpFrame(k.cli, k.srv, k.cseq, k.sseq, "PA", payload)
		k.cseq += uint32(len(payload))
		return f
	}
	f := k.c.tcpFrame(k.srv, k.cli, k.sseq, k.cseq, "PA", payload)
	k.sseq += uint32(len(payload))
	return f
}

// send writes payload in segments of the given sizes (the rest in one).
func (k *conn) send(fromClient bool, payload []byte, sizes ...int) {
	for _, n := range sizes {
		k.c.put(k.seg(fromClient, payload[:n]))
		payload = payload[n:]
	}
	if len(payload) > 0 {
		k.c.put(k.seg(fromClient, payload))
	}
}

func (k *conn) call(rec []byte)  { k.send(true, rec) }
func (k *conn) reply(rec []byte) { k.send(false, rec) }

func (k *conn) close() {
	k.c.put(k.c.tcpFrame(k.cli, k.srv, k.cseq, k.sseq, "FA", nil))
	k.c.put(k.c.tcpFrame(k.srv, k.cli, k.sseq, k.cseq+1, "FA", nil))
}

// pcap renders the capture as a pcap file.
func (c *capture) pcap() []byte {
	c.t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(262144, c.linkType()); err != nil {
		c.t.Fatal(err)
	}
	for _, f := range c.frames {
		if err := w.WritePacket(c.info(f), f.data[:c.capLen(f)]); err != nil {
			c.t.Fatal(err)
		}
	}
	return b.Bytes()
}

// pcapng renders the capture as a pcapng file.
func (c *capture) pcapng() []byte {
	c.t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, c.linkType())
	if err != nil {
		c.t.Fatal(err)
	}
	for _, f := range c.frames {
		if err := w.WritePacket(c.info(f), f.data[:c.capLen(f)]); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		c.t.Fatal(err)
	}
	return b.Bytes()
}

func (c *capture) linkType() layers.LinkType {
	if c.link == linkSLL {
		return layers.LinkTypeLinuxSLL
	}
	return layers.LinkTypeEthernet
}

func (c *capture) capLen(f rawFrame) int {
	if f.cut > 0 && f.cut < len(f.data) {
		return f.cut
	}
	return len(f.data)
}

func (c *capture) info(f rawFrame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: epoch.Add(f.at), CaptureLength: c.capLen(f), Length: len(f.data), InterfaceIndex: 0}
}

// RPC messages.

var testCred = sunrpc.AuthSysCred(&rpcxdr.AuthsysParms{Stamp: 1, Machinename: "client", Uid: 1000, Gid: 1000})

// rpcCall encodes a call message (no record mark).
func rpcCall(xid, prog, vers, proc uint32, args xdr.Marshaler) []byte {
	m := rpcxdr.RpcMsg{Xid: xid, Body: rpcxdr.RpcMsgBody{Mtype: rpcxdr.CALL, Cbody: rpcxdr.CallBody{
		Rpcvers: 2, Prog: prog, Vers: vers, Proc: proc, Cred: *testCred,
	}}}
	w := xdr.NewWriter(nil)
	m.Encode(w)
	args.Encode(w)
	return w.Bytes()
}

// rpcReply encodes an accepted, successful reply.
func rpcReply(xid uint32, res xdr.Marshaler) []byte {
	m := rpcxdr.RpcMsg{Xid: xid, Body: rpcxdr.RpcMsgBody{Mtype: rpcxdr.REPLY, Rbody: rpcxdr.ReplyBody{
		Stat: rpcxdr.MSG_ACCEPTED, Areply: rpcxdr.AcceptedReply{ReplyData: rpcxdr.AcceptedReplyData{Stat: rpcxdr.SUCCESS}},
	}}}
	w := xdr.NewWriter(nil)
	m.Encode(w)
	res.Encode(w)
	return w.Bytes()
}

// rpcReject encodes an accepted reply with a non-SUCCESS accept_stat.
func rpcAcceptErr(xid uint32, stat rpcxdr.AcceptStat) []byte {
	m := rpcxdr.RpcMsg{Xid: xid, Body: rpcxdr.RpcMsgBody{Mtype: rpcxdr.REPLY, Rbody: rpcxdr.ReplyBody{
		Stat: rpcxdr.MSG_ACCEPTED, Areply: rpcxdr.AcceptedReply{ReplyData: rpcxdr.AcceptedReplyData{Stat: stat}},
	}}}
	return xdr.Marshal(nil, &m)
}

// rec adds record marking (RFC 5531 §11): one fragment, or fragments of
// the given sizes and the rest.
func rec(msg []byte, frags ...int) []byte {
	var out []byte
	for _, n := range frags {
		out = binary.BigEndian.AppendUint32(out, uint32(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(msg))|0x80000000)
	return append(out, msg...)
}
