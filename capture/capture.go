package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// DefaultMaxSize bounds a capture file unless Options say otherwise.
const DefaultMaxSize = 1 << 30

// maxSegment is the most record bytes put in one synthesized TCP segment:
// an IPv4 or IPv6 packet's length field is 16 bits.
const maxSegment = 65000

// maxUDP is the largest UDP payload an IPv4 packet without fragmentation
// can carry (65535 - 20 - 8).
const maxUDP = 65507

// maxFlows bounds the TCP sequence state kept; beyond it the state is
// dropped and numbering restarts, which readers take as a new stream.
const maxFlows = 4096

// Options tune a Writer. The zero value works.
type Options struct {
	// MaxSize bounds the file in bytes (default DefaultMaxSize). When
	// the next frame would exceed it, the file is started again.
	MaxSize int64
	// Port, if set, is written as the server's port in every frame
	// instead of the real one: 2049 lets Wireshark's NFS dissector decode
	// a server listening elsewhere without "Decode As".
	Port uint16
	// Now timestamps the frames (default time.Now).
	Now func() time.Time
}

// Status describes a capture.
type Status struct {
	Path    string    `json:"path"`
	Started time.Time `json:"started"`
	MaxSize int64     `json:"max_size"`
	Port    uint16    `json:"port,omitempty"`
	// Frames and Bytes count what the file holds now; Records counts every
	// record seen since the start.
	Frames  uint64 `json:"frames"`
	Bytes   int64  `json:"bytes"`
	Records uint64 `json:"records"`
	// Wraps counts how often the file was started again at MaxSize.
	Wraps int `json:"wraps"`
	// Dropped counts records that could not be written: a UDP datagram
	// too large for one IPv4 packet, or a frame larger than MaxSize.
	Dropped uint64 `json:"dropped"`
	// Err is the write error that stopped the capture, if any.
	Err string `json:"error,omitempty"`
}

// Writer writes records as pcapng frames. Create one with Create; it
// implements sunrpc.Tap.
type Writer struct {
	opts Options

	mu     sync.Mutex
	f      *os.File
	cw     countingWriter
	bw     *bufio.Writer
	ng     *pcapgo.NgWriter
	flows  map[flowKey]*flow
	st     Status
	hdr    int64 // size of the file's headers, before any frame
	err    error // sticky: once set, nothing more is written
	closed bool
	buf    gopacket.SerializeBuffer
}

type flowKey struct{ local, remote netip.AddrPort }

// flow is the next sequence number of each direction of a TCP connection.
type flow struct{ server, client uint32 }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Create creates (or truncates) the file at path, mode 0600, and starts a
// capture into it.
func Create(path string, opts Options) (*Writer, error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	w := &Writer{opts: opts, f: f, flows: map[flowKey]*flow{}, buf: gopacket.NewSerializeBuffer()}
	w.st = Status{Path: path, Started: opts.Now(), MaxSize: opts.MaxSize, Port: opts.Port}
	if err := w.begin(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// begin writes the section and interface headers at the start of the file.
func (w *Writer) begin() error {
	w.cw = countingWriter{w: w.f}
	w.bw = bufio.NewWriterSize(&w.cw, 64<<10)
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "gonfs"}}
	intf := pcapgo.NgInterface{Name: "gonfs", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9}
	ng, err := pcapgo.NewNgWriterInterface(w.bw, intf, opts)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	w.ng = ng
	w.hdr = w.size()
	w.st.Frames = 0
	return nil
}

// size is the file size once buffered bytes are written.
func (w *Writer) size() int64 { return w.cw.n + int64(w.bw.Buffered()) }

// wrap starts the file again: the ring of one file.
func (w *Writer) wrap() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.st.Wraps++
	return w.begin()
}

// Record writes one record as one frame (several for a TCP record larger
// than a packet). It implements sunrpc.Tap.
func (w *Writer) Record(local, remote netip.AddrPort, proto string, inbound bool, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.err != nil {
		return
	}
	w.st.Records++
	if err := w.record(local, remote, proto, inbound, data); err != nil {
		w.err = err
		w.st.Err = err.Error()
	}
}

func (w *Writer) record(local, remote netip.AddrPort, proto string, inbound bool, data []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: w.opts.Now()}
	srvPort := local.Port()
	if w.opts.Port != 0 {
		srvPort = w.opts.Port
	}
	lip, rip := addrs(local.Addr(), remote.Addr())
	src, dst := endpoint{lip, srvPort, serverMAC}, endpoint{rip, remote.Port(), clientMAC}
	if inbound {
		src, dst = dst, src
	}
	if proto == "udp" {
		if len(data) > maxUDP {
			w.st.Dropped++
			return nil
		}
		frame, err := w.frame(src, dst, &layers.UDP{SrcPort: layers.UDPPort(src.port), DstPort: layers.UDPPort(dst.port)}, data)
		if err != nil {
			return err
		}
		return w.write(ci, frame)
	}
	key := flowKey{local, remote}
	fl := w.flows[key]
	if fl == nil {
		if len(w.flows) >= maxFlows {
			clear(w.flows)
		}
		// Any initial sequence numbers will do; distinct ones per
		// direction make a mix-up visible.
		fl = &flow{server: 1 << 30, client: 1 << 20}
		w.flows[key] = fl
	}
	// One final fragment holding the whole record (RFC 5531 §11).
	rec := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(rec, 1<<31|uint32(len(data)))
	rec = append(rec, data...)
	for len(rec) > 0 {
		seg := rec[:min(len(rec), maxSegment)]
		rec = rec[len(seg):]
		seq, ack := &fl.server, fl.client
		if inbound {
			seq, ack = &fl.client, fl.server
		}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port),
			Seq: *seq, Ack: ack, ACK: true, PSH: len(rec) == 0, Window: 65535}
		frame, err := w.frame(src, dst, tcp, seg)
		if err != nil {
			return err
		}
		if err := w.write(ci, frame); err != nil {
			return err
		}
		*seq += uint32(len(seg))
	}
	return nil
}

// write appends a frame, starting the file again first if it would grow
// beyond MaxSize.
func (w *Writer) write(ci gopacket.CaptureInfo, frame []byte) error {
	ci.CaptureLength, ci.Length = len(frame), len(frame)
	// An enhanced packet block is 32 bytes of header and trailer plus the
	// padded frame.
	need := int64(32 + (len(frame)+3)&^3)
	if w.hdr+need > w.opts.MaxSize {
		w.st.Dropped++ // would not fit even in an empty file
		return nil
	}
	if w.size()+need > w.opts.MaxSize {
		if err := w.wrap(); err != nil {
			return err
		}
	}
	if err := w.ng.WritePacket(ci, frame); err != nil {
		return err
	}
	w.st.Frames++
	return nil
}

type endpoint struct {
	ip   netip.Addr
	port uint16
	mac  net.HardwareAddr
}

// Locally administered addresses, one for the server and one for every
// client: the link layer carries no information here.
var (
	serverMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	clientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

// addrs returns the two addresses in one family: IPv6 (IPv4-mapped) when
// either is IPv6, and the unspecified address for a missing one.
func addrs(a, b netip.Addr) (netip.Addr, netip.Addr) {
	fix := func(x netip.Addr) netip.Addr {
		if !x.IsValid() {
			return netip.IPv4Unspecified()
		}
		return x.Unmap()
	}
	a, b = fix(a), fix(b)
	if a.Is4() != b.Is4() {
		a, b = netip.AddrFrom16(a.As16()), netip.AddrFrom16(b.As16())
	}
	return a, b
}

// frame serializes Ethernet, IP and transport headers around payload. The
// result aliases the Writer's buffer until the next call.
func (w *Writer) frame(src, dst endpoint, transport gopacket.SerializableLayer, payload []byte) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: src.mac, DstMAC: dst.mac}
	var ipl gopacket.NetworkLayer
	proto := layers.IPProtocolTCP
	if _, ok := transport.(*layers.UDP); ok {
		proto = layers.IPProtocolUDP
	}
	var ip gopacket.SerializableLayer
	if src.ip.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		v4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment,
			SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
		ip, ipl = v4, v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.ip.AsSlice(), DstIP: dst.ip.AsSlice()}
		ip, ipl = v6, v6
	}
	switch t := transport.(type) {
	case *layers.TCP:
		t.SetNetworkLayerForChecksum(ipl)
	case *layers.UDP:
		t.SetNetworkLayerForChecksum(ipl)
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(w.buf, opts, eth, ip, transport, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return w.buf.Bytes(), nil
}

// Status reports the capture's progress.
func (w *Writer) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.st
	if !w.closed {
		st.Bytes = w.size()
	}
	return st
}

// Close flushes and closes the file; later records are ignored. It
// returns the error that stopped the capture, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("capture: already closed")
	}
	w.closed = true
	w.st.Bytes = w.size()
	err := w.err
	if ferr := w.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
