package node

import (
	"context"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/replication"
)

// runCutOffFence runs the cut-off pause (replication/cutoff.go) on this
// member while fencing is on: it reads the member's standing from Raft.
func (c *cluster) runCutOffFence(ctx context.Context) {
	if !fenceEnabled() {
		return
	}
	n := c.n
	f := &replication.CutOffFence{
		State:  c.cutOffView,
		View:   nodeView{n},
		Redis:  n.redis,
		Pinger: n.redis,
		Log:    n.log.With("component", "fence"),
		Emit:   n.emitReplication,
		Clock:  beat.Clock(),
	}
	f.Run(ctx)
}

// cutOffView is this member's standing: in an active group, leading,
// silent since its last contact with a leader, and whether the members it
// cannot prove dead could commit without it.
func (c *cluster) cutOffView() replication.CutOffView {
	st := c.getStore()
	if st == nil || !c.isActive() {
		return replication.CutOffView{}
	}
	if st.IsLeader() {
		return replication.CutOffView{InGroup: true, Leading: true}
	}
	return replication.CutOffView{
		InGroup:    true,
		Silence:    time.Since(st.LastContact()),
		Outvotable: c.outvotable(st),
	}
}
