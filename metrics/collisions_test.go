package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/stats"
)

// TestCollisionMetrics: the counter carries the stats count without
// labels; the info gauge has one series per active collision, bounded in
// number and in owner length, and leaves out restarts and finished ones.
func TestCollisionMetrics(t *testing.T) {
	st := stats.New(stats.Options{})
	st.ClientOwnerCollision()
	st.ClientOwnerCollision()
	findings := []collide.Finding{
		{Kind: collide.Collision, Owner: "Linux NFSv4.2 twin", Addrs: []string{"10.0.0.1", "10.0.0.2"}, Active: true},
		{Kind: collide.Restarts, Owner: "Linux NFSv4.2 crashy", Addrs: []string{"10.0.0.3"}, Active: true},
		{Kind: collide.Collision, Owner: "Linux NFSv4.2 old", Addrs: []string{"10.0.0.4", "10.0.0.5"}},
		{Kind: collide.Collision, Owner: strings.Repeat("x", 200), Addrs: []string{"10.0.0.6", "10.0.0.7"}, Active: true},
	}
	for i := range 20 {
		findings = append(findings, collide.Finding{Kind: collide.Collision, Owner: fmt.Sprintf("many-%d", i), Addrs: []string{"10.1.0.1"}, Active: true})
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(st, Options{Collisions: func() []collide.Finding { return findings }}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	counted := false
	for _, mf := range mfs {
		if mf.GetName() == "gonfs_nfs4_client_owner_collisions_total" {
			m := mf.GetMetric()
			if len(m) != 1 || len(m[0].GetLabel()) != 0 || m[0].GetCounter().GetValue() != 2 {
				t.Errorf("collisions counter %v, want one unlabelled sample of 2", m)
			}
			counted = true
		}
		if mf.GetName() != "gonfs_nfs4_client_owner_collision_info" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			series = append(series, l["owner"]+" "+l["addresses"])
		}
	}
	if !counted {
		t.Error("no gonfs_nfs4_client_owner_collisions_total")
	}
	if len(series) != MaxCollisionSeries {
		t.Fatalf("%d info series, want %d: %q", len(series), MaxCollisionSeries, series)
	}
	joined := strings.Join(series, "\n")
	for _, w := range []string{"Linux NFSv4.2 twin 10.0.0.1,10.0.0.2", strings.Repeat("x", MaxOwnerLabel) + " 10.0.0.6,10.0.0.7"} {
		if !strings.Contains(joined, w+"\n") && !strings.HasSuffix(joined, w) {
			t.Errorf("no series %q in\n%s", w, joined)
		}
	}
	for _, no := range []string{"crashy", "old", strings.Repeat("x", MaxOwnerLabel+1)} {
		if strings.Contains(joined, no) {
			t.Errorf("series %q should not be there:\n%s", no, joined)
		}
	}
}
