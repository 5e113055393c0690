package test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
)

// nodeRedisDir holds node-redis' package.json (pinning redis 5.x), its
// lockfile and failover.js, relative to ./test.
const nodeRedisDir = "clients/noderedis"

// nodeRedisCase is node-redis v5's createSentinel in the client matrix: a
// writer through the failover on RESP resp, whose writes after the switch
// must all be on the new master, and whose topology must then list the
// replica left.
type nodeRedisCase struct {
	resp   int
	pinned string
	script *ioredisScript
	prefix string
}

func (c *nodeRedisCase) before(t *testing.T, env *matrixEnv) {
	c.prefix = fmt.Sprintf("noderedis%d", c.resp)
	var sentinels []map[string]any
	for _, s := range env.d.Sentinels {
		sentinels = append(sentinels, map[string]any{"host": "127.0.0.1", "port": s.Port()})
	}
	c.script = startNodeScript(t, env.cleanup, nodeRedisDir, map[string]any{
		"sentinels": sentinels, "name": harness.MasterName, "sentinelPassword": clientSentinelPassword,
		"password": clientDataPassword, "resp": c.resp, "prefix": c.prefix,
		"preAcks": ioredisPreAcks, "postAcks": matrixAfterAcks, "deadlineMs": ioredisScriptDeadline.Milliseconds(),
	})
	// The script outlives this subtest: stopped by pid in the parent's
	// cleanup.
	v := c.script.next(t, "version", 30*time.Second)
	if v.NodeRedis != c.pinned || v.RESP != c.resp {
		t.Fatalf("node loaded node-redis %s speaking RESP%d, want %s and RESP%d", v.NodeRedis, v.RESP, c.pinned, c.resp)
	}
	w := c.script.next(t, "writing", 30*time.Second)
	old := env.d.Nodes[0].Port()
	if w.MasterPort != old {
		t.Fatalf("node-redis wrote to %d, the master is %d", w.MasterPort, old)
	}
	if want := env.oldReplicas(); !slices.Equal(w.ReplicasBefore, want) {
		t.Fatalf("node-redis lists replicas %v, the sentinels' are %v", w.ReplicasBefore, want)
	}
	t.Logf("node-redis %s (RESP%d, node %s): %d writes acknowledged by %d, replicas %v", v.NodeRedis, c.resp, v.Node, w.Acks, w.MasterPort, w.ReplicasBefore)
}

func (c *nodeRedisCase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	res := c.script.next(t, "result", ioredisScriptDeadline)
	c.script.wait(t)
	t.Logf("node-redis RESP%d: %d writes before the switch, %d after it, %d ms between the last on %d and the first on %d; topology events %v; errors %v",
		c.resp, res.PreSwitchAcks, len(res.PostSwitch), res.WritesGapMS, fo.old, fo.new, res.Topology, res.Errors)
	var seqs []int
	for _, a := range res.PostSwitch {
		if a.Port != fo.new {
			t.Fatalf("write %s:%d was acknowledged by %d, the sentinels' new master is %d", c.prefix, a.Seq, a.Port, fo.new)
		}
		seqs = append(seqs, a.Seq)
	}
	if len(seqs) != matrixAfterAcks {
		t.Fatalf("%d writes acknowledged after the switch, want %d", len(seqs), matrixAfterAcks)
	}
	requireWritesOn(t, env.d, fo.new, c.prefix, seqs)
	if res.MasterAfter != fo.new || !slices.Equal(res.ReplicasAfter, []int{fo.replica}) {
		t.Fatalf("node-redis' topology after the switch: master %d, replicas %v; want %d and [%d]", res.MasterAfter, res.ReplicasAfter, fo.new, fo.replica)
	}
}
