package trace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packetSource is what pcapgo's Reader and NgReader have in common.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Capture file magic numbers: pcap (microsecond and nanosecond
// timestamps, either byte order) and the pcapng section header block.
const (
	magicPcapng = 0x0a0d0d0a
)

var pcapMagics = map[uint32]bool{0xa1b2c3d4: true, 0xd4c3b2a1: true, 0xa1b23c4d: true, 0x4d3cb2a1: true}

// readCapture feeds every frame of the capture in r to the analyzer.
func (a *analyzer) readCapture(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return fmt.Errorf("trace: not a pcap or pcapng file: %d bytes", len(magic))
	}
	var (
		src      packetSource
		linkType func(gopacket.CaptureInfo) layers.LinkType
	)
	switch m := binary.BigEndian.Uint32(magic); {
	case m == magicPcapng:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return fmt.Errorf("trace: pcapng: %w", err)
		}
		src = ng
		first := ng.LinkType()
		linkType = func(ci gopacket.CaptureInfo) layers.LinkType {
			if len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return lt
				}
			}
			return first
		}
	case pcapMagics[m]:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return fmt.Errorf("trace: pcap: %w", err)
		}
		src = pr
		lt := pr.LinkType()
		linkType = func(gopacket.CaptureInfo) layers.LinkType { return lt }
	default:
		return fmt.Errorf("trace: not a pcap or pcapng file (magic %08x)", m)
	}
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			a.note(fmt.Sprintf("capture ends mid-frame after frame %d (%v); analysed what came before", a.rep.Frames, err))
			a.truncated = true
			return nil
		}
		a.frame(data, ci, linkType(ci))
	}
}

// frame decodes one captured frame down to TCP or UDP.
func (a *analyzer) frame(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) {
	a.rep.Frames++
	n := a.rep.Frames
	ts := ci.Timestamp
	if n == 1 {
		a.rep.Start = ts
	}
	a.rep.End = ts
	cut := ci.CaptureLength < ci.Length
	if cut {
		a.snapCut++
		if a.snapFirst == 0 {
			a.snapFirst = n
		}
	}
	pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var (
		srcIP, dstIP netip.Addr
		transport    gopacket.Layer
	)
	switch nl := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		srcIP, _ = netip.AddrFromSlice(nl.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(nl.DstIP.To4())
		if nl.Flags&layers.IPv4MoreFragments != 0 || nl.FragOffset != 0 {
			whole, err := a.defrag.DefragIPv4WithTimestamp(nl, ts)
			if err != nil || whole == nil {
				return
			}
			transport = decodeTransport(whole.Protocol.LayerType(), whole.Payload)
		} else {
			transport = pkt.TransportLayer()
		}
	case *layers.IPv6:
		srcIP, _ = netip.AddrFromSlice(nl.SrcIP)
		dstIP, _ = netip.AddrFromSlice(nl.DstIP)
		transport = pkt.TransportLayer()
	default:
		return
	}
	switch t := transport.(type) {
	case *layers.TCP:
		src := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
		dst := netip.AddrPortFrom(dstIP, uint16(t.DstPort))
		a.tcp(src, dst, t, cut, n, ts)
	case *layers.UDP:
		if cut || int(t.Length) > len(t.Contents)+len(t.Payload) {
			return // a datagram cut by the snapshot length cannot be decoded
		}
		src := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
		dst := netip.AddrPortFrom(dstIP, uint16(t.DstPort))
		a.udp(src, dst, t.Payload, n, ts)
	}
}

// decodeTransport decodes the TCP or UDP header of a reassembled IPv4
// datagram.
func decodeTransport(lt gopacket.LayerType, payload []byte) gopacket.Layer {
	if lt != layers.LayerTypeTCP && lt != layers.LayerTypeUDP {
		return nil
	}
	return gopacket.NewPacket(payload, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true}).TransportLayer()
}

// rel returns ts as an offset from the first frame.
func (a *analyzer) rel(ts time.Time) time.Duration { return ts.Sub(a.rep.Start) }
