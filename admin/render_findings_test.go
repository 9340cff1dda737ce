package admin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/nfs4/collide"
)

// `gonfs ctl clients` shows the collision findings with the fix.
func TestRenderClientFindings(t *testing.T) {
	r := ClientsReply{Findings: []collide.Finding{{Kind: "client-owner-collision", Owner: "Linux NFSv4.2 twin",
		Addrs: []string{"127.0.0.2", "127.0.0.3"}, Teardowns: 4, FirstSeen: time.Unix(0, 0), LastSeen: time.Unix(9, 0), Active: true}}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Render(&out, CmdClients, data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Client-owner findings: 1", "127.0.0.2", "127.0.0.3", "fix:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
