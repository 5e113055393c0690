package node

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/beat"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// A member that has not heard from a leader for StaleAfter stops vouching
// for the replicated master addresses, because a majority elsewhere may have
// committed a switch it has not seen. That reasoning needs a majority that
// could be alive. When the other members went away by dying (their port
// refuses connections, which proves the host is reachable and the process
// gone) rather than by a partition, the ones that might still be alive are
// too few to commit anything without this sentinel, so the state it has is
// still the group's latest and it keeps answering, as redis-sentinel does
// when its peers crash (the official suite kills a majority of sentinels and
// then asks a survivor for the master).
//
// The proof is conservative: a member counts as dead only if every probe
// since this episode of silence began was refused; one accepted or timed
// out connection marks it as possibly alive until a leader is heard again.

const (
	// deathProbeAfter is how long without a leader before probing starts.
	deathProbeAfter = 300 * time.Millisecond
	// deathProbeEvery paces the probes.
	deathProbeEvery = 200 * time.Millisecond
	// deathProbeTimeout bounds one TCP dial.
	deathProbeTimeout = 200 * time.Millisecond
)

// deathWatch tracks, for the current episode of silence, which members are
// proven dead.
type deathWatch struct {
	mu      sync.Mutex
	episode time.Time       // LastContact when the silence began
	refused map[string]bool // every probe this episode was refused
	maybe   map[string]bool // some probe this episode was not refused
}

func newDeathWatch() *deathWatch {
	return &deathWatch{refused: map[string]bool{}, maybe: map[string]bool{}}
}

// begin starts a new episode when lastContact moved (a leader was heard).
func (w *deathWatch) begin(lastContact time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.episode.Equal(lastContact) {
		w.episode = lastContact
		w.refused = map[string]bool{}
		w.maybe = map[string]bool{}
	}
}

// record notes one probe's outcome for member id.
func (w *deathWatch) record(id string, refused bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if refused {
		w.refused[id] = true
	} else {
		w.maybe[id] = true
	}
}

// dead reports whether id is proven dead in the episode that began at
// lastContact.
func (w *deathWatch) dead(id string, lastContact time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.episode.Equal(lastContact) && w.refused[id] && !w.maybe[id]
}

// othersCouldCommit reports whether the voters other than this one that
// may be alive are a majority of all voters.
func othersCouldCommit(voters, possiblyAlive int) bool { return 2*possiblyAlive > voters }

// outvotable reports whether members this sentinel cannot prove dead could
// have committed something without it since it last heard a leader.
func (c *cluster) outvotable(st *quorum.RaftStore) bool {
	servers, err := st.Servers()
	if err != nil {
		return true
	}
	lc := st.LastContact()
	alive := 0
	for _, s := range servers {
		if s.ID != c.n.myid && !c.deaths.dead(s.ID, lc) {
			alive++
		}
	}
	return othersCouldCommit(len(servers), alive)
}

// watchDeaths probes the other members while no leader is heard.
func (c *cluster) watchDeaths(ctx context.Context) {
	t := beat.NewTicker(deathProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := c.getStore()
		if st == nil || !c.isActive() || st.IsLeader() {
			continue
		}
		lc := st.LastContact()
		if time.Since(lc) < deathProbeAfter {
			continue
		}
		c.deaths.begin(lc)
		servers, err := st.Servers()
		if err != nil {
			continue
		}
		for _, s := range servers {
			if s.ID == c.n.myid || s.Addr == "" {
				continue
			}
			c.deaths.record(s.ID, c.refusedEverywhere(ctx, s))
		}
	}
}

// refusedEverywhere probes member s at every address it may be at
// (probeAddrs): it is dead only if each refuses, and never when there is
// no address to probe. Probed at its old address only, a member that moved
// while no leader was heard counted as dead.
func (c *cluster) refusedEverywhere(ctx context.Context, s quorum.Server) bool {
	var now func(string) (string, bool)
	if c.grp != nil {
		now = c.grp.DialAddress
	}
	addrs := probeAddrs(s, now)
	if len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !probeRefused(ctx, a) {
			return false
		}
	}
	return true
}

// probeAddrs are the addresses member s may be at: its configuration's
// and, if it announced another since (it moved, and no leader recorded it
// yet), that one too. An entry moved aside (group.HeldPark: its old
// address naming its id) is not probed there: another sentinel holds that
// address now and answers whatever became of this member, which could
// then never be proven dead.
func probeAddrs(s quorum.Server, now func(id string) (string, bool)) []string {
	cfg, parkedFor := peer.SplitTarget(s.Addr)
	var addrs []string
	if parkedFor != s.ID {
		addrs = append(addrs, cfg)
	}
	if now != nil {
		if a, ok := now(s.ID); ok {
			if a, _ = peer.SplitTarget(a); a != cfg {
				addrs = append(addrs, a)
			}
		}
	}
	return addrs
}

// probeRefused dials addr once: true only for a connection refused.
func probeRefused(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: deathProbeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
