package wirecheck

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrUnavailable is wrapped by the error of Start when packets cannot be
// captured here: tshark is not installed or may not open the interface.
var ErrUnavailable = errors.New("wirecheck: packet capture unavailable")

const (
	// markerLen is the random prefix that tells our marker datagrams
	// apart from anything else in the capture; a sequence number follows.
	markerLen = 16
	// resendEvery is how often an unseen marker is sent again: the first
	// ones may go out before the capture is live.
	resendEvery = 100 * time.Millisecond
	// stopWait bounds the wait for the final marker. Frames reach tshark
	// within its read timeout (a fraction of a second) unless it is far
	// behind; a minute means it is stuck.
	stopWait = time.Minute
	// exitWait bounds the wait for tshark to exit after SIGINT.
	exitWait = 30 * time.Second
	// bufferMiB is the kernel capture buffer asked of dumpcap: loopback
	// moves gigabytes a second, and the default 2 MiB drops frames during
	// a large transfer, which would show up as reassembly errors.
	bufferMiB = 256
	// maxFrame bounds one pcap record read from tshark (a corrupt stream
	// must not make us allocate gigabytes).
	maxFrame = 1 << 20
)

// Capture is a running capture started by Start.
type Capture struct {
	port   int
	path   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	file   *os.File
	mark   *net.UDPConn
	prefix [markerLen]byte
	next   uint64 // sequence number of the next marker

	mu      sync.Mutex
	seen    uint64        // highest marker sequence number captured
	changed chan struct{} // closed and replaced when seen grows
	copyErr error         // why copying ended, once done is closed
	done    chan struct{} // closed when the copying goroutine ends
	stopped bool
}

// Start captures the traffic of TCP and UDP port on the interface iface
// ("lo" for loopback) into a pcap file in dir. It returns once the capture
// is live; ctx bounds only that wait. The caller must call Stop.
func Start(ctx context.Context, iface string, port int, dir string) (*Capture, error) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	mark, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("wirecheck: marker socket: %w", err)
	}
	c := &Capture{
		port:    port,
		path:    filepath.Join(dir, fmt.Sprintf("capture-%d.pcap", port)),
		mark:    mark,
		stderr:  new(bytes.Buffer),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		next:    1,
	}
	rand.Read(c.prefix[:])
	if c.file, err = os.Create(c.path); err != nil {
		mark.Close()
		return nil, fmt.Errorf("wirecheck: %w", err)
	}
	markPort := mark.LocalAddr().(*net.UDPAddr).Port
	filter := fmt.Sprintf("port %d or udp port %d", port, markPort)
	c.cmd = exec.Command(bin, "-i", iface, "-f", filter, "-B", fmt.Sprint(bufferMiB),
		"-q", "-F", "pcap", "-w", "-")
	c.cmd.Stderr = &lockedWriter{mu: &c.mu, w: c.stderr}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		c.cleanup()
		return nil, fmt.Errorf("wirecheck: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		c.cleanup()
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	go c.copy(out)
	if err := c.await(ctx, c.sendMarker()); err != nil {
		c.kill()
		c.cleanup()
		msg := c.stderrText()
		if isPermission(msg) {
			return nil, fmt.Errorf("%w: tshark cannot capture on %s: %s", ErrUnavailable, iface, msg)
		}
		return nil, fmt.Errorf("wirecheck: capture did not start: %w; tshark: %s", err, msg)
	}
	return c, nil
}

// Path returns the capture file.
func (c *Capture) Path() string { return c.path }

// Stop waits until every frame sent before it is in the capture file, ends
// tshark and analyses the file (see Analyze). The file stays for the
// caller to keep or remove.
func (c *Capture) Stop() (Report, error) {
	if c.stopped {
		return Report{}, errors.New("wirecheck: Stop called twice")
	}
	c.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	waitErr := c.await(ctx, c.sendMarker())
	c.cmd.Process.Signal(syscall.SIGINT)
	t := time.AfterFunc(exitWait, c.kill)
	<-c.done
	c.cmd.Wait()
	t.Stop()
	c.cleanup()
	c.mu.Lock()
	copyErr := c.copyErr
	c.mu.Unlock()
	if waitErr != nil {
		return Report{}, fmt.Errorf("wirecheck: capture may have lost frames: %w; tshark: %s", waitErr, c.stderrText())
	}
	if copyErr != nil && !errors.Is(copyErr, io.EOF) {
		return Report{}, fmt.Errorf("wirecheck: reading tshark: %w", copyErr)
	}
	rep, err := Analyze(context.Background(), c.path, c.port)
	if err != nil {
		return rep, err
	}
	rep.Dropped = parseDropped(c.stderrText())
	return rep, nil
}

// sendMarker sends the next marker datagram and returns its number.
func (c *Capture) sendMarker() uint64 {
	n := c.next
	c.next++
	c.writeMarker(n)
	return n
}

func (c *Capture) writeMarker(n uint64) {
	var b [markerLen + 8]byte
	copy(b[:], c.prefix[:])
	binary.BigEndian.PutUint64(b[markerLen:], n)
	// To itself: the datagram crosses the interface once, and nobody
	// else is bothered. Errors (a full buffer) are left to the resend.
	c.mark.WriteToUDP(b[:], c.mark.LocalAddr().(*net.UDPAddr))
}

// await waits until marker n is captured, resending it until then.
func (c *Capture) await(ctx context.Context, n uint64) error {
	tick := time.NewTicker(resendEvery)
	defer tick.Stop()
	for {
		c.mu.Lock()
		seen, changed := c.seen, c.changed
		c.mu.Unlock()
		if seen >= n {
			return nil
		}
		select {
		case <-changed:
		case <-tick.C:
			c.writeMarker(n)
		case <-c.done:
			c.mu.Lock()
			err := c.copyErr
			c.mu.Unlock()
			return fmt.Errorf("tshark ended: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// copy moves tshark's pcap stream into the file, noting markers as they
// pass, until the stream ends.
func (c *Capture) copy(out io.Reader) {
	err := c.copyStream(bufio.NewReaderSize(out, 1<<20))
	c.mu.Lock()
	c.copyErr = err
	c.mu.Unlock()
	close(c.done)
}

func (c *Capture) copyStream(br *bufio.Reader) error {
	w := bufio.NewWriterSize(c.file, 1<<20)
	defer w.Flush()
	var gh [24]byte
	if _, err := io.ReadFull(br, gh[:]); err != nil {
		return err
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(gh[:]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return fmt.Errorf("not a pcap stream (magic % x)", gh[:4])
	}
	if _, err := w.Write(gh[:]); err != nil {
		return err
	}
	var rh [16]byte
	buf := make([]byte, 0, 64<<10)
	for {
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			return err
		}
		n := order.Uint32(rh[8:]) // incl_len
		if n > maxFrame {
			return fmt.Errorf("pcap record of %d bytes", n)
		}
		if int(n) > cap(buf) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		if _, err := w.Write(rh[:]); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if i := bytes.Index(buf, c.prefix[:]); i >= 0 && i+markerLen+8 <= len(buf) {
			// Everything before the marker is written out before the
			// waiter is told, so Stop finds it in the file.
			if err := w.Flush(); err != nil {
				return err
			}
			c.noteMarker(binary.BigEndian.Uint64(buf[i+markerLen:]))
		}
	}
}

func (c *Capture) noteMarker(n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.seen {
		c.seen = n
		close(c.changed)
		c.changed = make(chan struct{})
	}
}

func (c *Capture) kill() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
}

// cleanup releases the socket and the file; after a failed Start it also
// reaps tshark.
func (c *Capture) cleanup() {
	c.mark.Close()
	if !c.stopped && c.cmd.Process != nil {
		<-c.done
		c.cmd.Wait()
	}
	c.file.Close()
}

func (c *Capture) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keep []string
	for _, l := range strings.Split(c.stderr.String(), "\n") {
		// tshark's chatter about running as root and its progress
		// messages say nothing about a failure.
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Running as user") &&
			!strings.Contains(l, "[Main MESSAGE]") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "; ")
}

func isPermission(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "permission") || strings.Contains(m, "not permitted")
}

// droppedRE matches dumpcap's count of frames the kernel dropped in
// tshark's final message: "N packets captured (M dropped)" or "M packets
// dropped".
var droppedRE = regexp.MustCompile(`\((\d+) dropped|(\d+) packets? dropped`)

// parseDropped returns the count droppedRE finds in msg, or 0.
func parseDropped(msg string) int {
	m := droppedRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1] + m[2])
	return n
}

// lockedWriter serializes tshark's stderr (written by exec's goroutine)
// with our reads of it.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
