package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
)

// SocketName is the admin socket's name in the state directory.
const SocketName = "admin.sock"

// SocketPath is where a server with state directory dir listens.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// Client talks to a server's admin socket, one connection per request.
type Client struct {
	// Socket is the socket's path.
	Socket string
}

// Do sends req and returns the reply's data, or the server's error.
func (c Client) Do(ctx context.Context, req Request) (json.RawMessage, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Socket)
	if err != nil {
		return nil, fmt.Errorf("no server answers on %s (is it running, with this --state?): %w", c.Socket, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	// A server that refuses the peer answers at once and closes, so a
	// failed write may still leave its answer to read.
	_, werr := conn.Write(append(line, '\n'))
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	if !sc.Scan() {
		if werr != nil {
			return nil, werr
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("admin: the server closed the connection without answering")
	}
	var resp Response
	if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("admin: bad reply: %w", err)
	}
	if !resp.OK {
		return nil, errors.New(resp.Error)
	}
	return resp.Data, nil
}
