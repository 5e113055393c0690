package test

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// prestopSecret is the sentinels' requirepass in the preStop test; the data
// nodes have none, as in the harness (the subcommand copes with both).
const prestopSecret = "prestop-pw"

// TestPrestopHandsTheMasterAway runs `gosentinel prestop` as a pod's
// preStop hook would: on a pod whose Redis node is a replica it returns at
// once and changes nothing; on the pod whose node is the master it asks
// the local sentinel for SENTINEL FAILOVER and returns only when the
// master has moved and the node follows it, with no acknowledged write
// lost by a FailoverClient writing throughout.
func TestPrestopHandsTheMasterAway(t *testing.T) {
	bin := candidateBin(t)
	d := startFailoverDeployment(t, harness.Options{Secret: prestopSecret})
	old, err := d.AgreedMasterPort()
	if err != nil {
		t.Fatal(err)
	}
	var replica int
	for _, n := range d.Nodes {
		if n.Port() != old {
			replica = n.Port()
			break
		}
	}
	w := startWriter(t, d, "prestop", 0)
	sentinelPort := strconv.Itoa(d.Sentinels[1].Port())

	prestop := func(node int) (string, error, time.Duration) {
		ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "prestop", "--master-set", "mymaster", "-p", sentinelPort,
			"--redis", redistest.Addr(node), "--timeout", "30s")
		cmd.Env = append(cmd.Environ(), "REDISCLI_AUTH="+prestopSecret)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		return out.String(), err, time.Since(start)
	}

	out, err, took := prestop(replica)
	if err != nil || !strings.Contains(out, "is a replica: nothing to hand over") {
		t.Fatalf("prestop on the replica pod (%d): %v\n%s", replica, err, out)
	}
	if port, err := d.AgreedMasterPort(); err != nil || port != old {
		t.Fatalf("after prestop on a replica pod the master is %d (%v), want %d unchanged", port, err, old)
	}
	t.Logf("replica pod: %s (%v)", strings.TrimSpace(out), took.Round(time.Millisecond))

	out, err, took = prestop(old)
	if err != nil || !strings.Contains(out, "handed over") {
		t.Fatalf("prestop on the master pod (%d): %v\n%s", old, err, out)
	}
	t.Logf("master pod: %s (%v)", strings.TrimSpace(out), took.Round(time.Millisecond))
	// prestop returned: the node must already be a replica, and the
	// sentinel asked must already name another master.
	if r := harness.ReadRole(d.Node(old), roleTimeout); r.Role != "slave" {
		t.Fatalf("prestop returned but the old master %d answers ROLE %v", old, r)
	}
	if port, err := harness.MasterPort(d.Sentinels[1]); err != nil || port == old {
		t.Fatalf("prestop returned but the local sentinel names master %d (%v)", port, err)
	}
	if _, err := w.WaitAcksAfter(time.Now(), 50, resumeDeadline); err != nil {
		t.Fatalf("writes did not resume on the new master: %v", err)
	}
	requireNoLoss(t, d, w.Stop())
}
