package node

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// flushConfig rewrites sentinel.conf with the current state, like
// sentinelFlushConfig. Writes are serialised; each one writes the newest
// state, so a request that arrives during a write is satisfied by the next.
func (n *Node) flushConfig() error { return n.rewriteConfig(true) }

// rewriteConfig is flushConfig; unless always, it writes only when the
// state differs from what the file holds (config.RenderState of the file
// as read at the start or last written). redis-sentinel rewrites when its
// state changes, and its start rewrites only to save a new id: applying
// the file's own epochs at the start requested a rewrite that turned a
// hand-written file into a generated one at every restart.
func (n *Node) rewriteConfig(always bool) error {
	n.flusher.writeMu.Lock()
	defer n.flusher.writeMu.Unlock()
	n.flusher.clearDirty()
	c := n.buildConfig()
	state := config.RenderState(c)
	if !always && n.flusher.written != nil && bytes.Equal(state, n.flusher.written) {
		return nil
	}
	if err := config.Rewrite(c); err != nil {
		// Still to be written: by the next rewrite requested, or at
		// Close. Cleared, a state whose rewrite failed (a full disk) was
		// never written, though nothing else changed before a restart.
		n.flusher.markDirty()
		return fmt.Errorf("failed to rewrite %s: %w", c.Path, err)
	}
	n.flusher.written = state
	return nil
}

// flushConfigAndReply is sentinelFlushConfigAndReply: the command's reply is
// the outcome of the rewrite.
func (n *Node) flushConfigAndReply() error {
	if err := n.flushConfig(); err != nil {
		n.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: " + err.Error())
		return sentinel.ErrFlushConfig
	}
	return nil
}

// buildConfig merges the live state into the loaded config: what
// redis-sentinel's rewrite generates (myid, epochs, per-master settings,
// known replicas and sentinels, announce settings, users).
func (n *Node) buildConfig() *config.Config {
	c := n.cfg.Clone()
	st := n.sm().State()
	c.MyID = n.myid
	c.CurrentEpoch = st.CurrentEpoch
	c.DefaultDownAfterMs = n.timing.ms("DEFAULT-DOWN-AFTER")
	c.DefaultFailoverTimeoutMs = n.timing.ms("DEFAULT-FAILOVER-TIMEOUT")

	n.mu.Lock()
	g := n.globals
	leaderEpochs := map[string]uint64{}
	for name, l := range n.local {
		leaderEpochs[name] = l.leaderEpoch
	}
	n.mu.Unlock()
	c.AnnounceIP = g.announceIP
	c.AnnouncePort = g.announcePort
	c.ResolveHostnames = g.resolveHostnames
	c.AnnounceHostnames = g.announceHostnames
	c.SentinelUser = g.sentinelUser
	c.SentinelPass = g.sentinelPass
	c.DenyScriptsReconfig = g.denyScripts
	c.LogLevel = g.logLevel
	c.Users = n.srv.ACLUserLines() // the ACL engine's description: written as given
	c.RequirePass, c.HasRequirePass = n.srv.RequirePass()

	c.Masters = nil
	for _, name := range st.Names() {
		m := st.Masters[name]
		n.withOwnSettings(m)
		cm := &config.Master{
			Name: m.Name, Host: m.Addr.Host, Port: m.Addr.Port,
			ConfigEpoch: m.ConfigEpoch, LeaderEpoch: leaderEpochs[name],
			Settings: m.Settings.Clone(),
		}
		if ms, ok := n.mon.Status(name); ok {
			for _, r := range ms.Replicas {
				cm.KnownReplicas = append(cm.KnownReplicas, config.Addr(r.Ref.Addr))
			}
			for _, s := range ms.Sentinels {
				if s.RunID == "" {
					continue
				}
				cm.KnownSentinels = append(cm.KnownSentinels, config.KnownSentinel{
					Addr: config.Addr(s.Ref.Addr), RunID: s.RunID})
			}
		}
		c.Masters = append(c.Masters, cm)
	}
	return c
}

// flusher coalesces rewrites requested by discoveries and epoch changes:
// redis-sentinel rewrites and fsyncs once per discovered instance, which is
// what makes it stall when it starts watching many masters. One writer
// goroutine writes the newest state whenever something is dirty.
type flusher struct {
	n       *Node
	writeMu sync.Mutex // serialises rewrites

	// written is config.RenderState of the file as read at the start or
	// last written (under writeMu).
	written []byte

	mu     sync.Mutex
	dirty  bool
	signal chan struct{}
}

func newFlusher(n *Node) *flusher { return &flusher{n: n, signal: make(chan struct{}, 1)} }

// request marks the config dirty; the writer goroutine rewrites it soon.
func (f *flusher) request() {
	f.mu.Lock()
	f.dirty = true
	f.mu.Unlock()
	select {
	case f.signal <- struct{}{}:
	default:
	}
}

// markDirty marks the config dirty without waking the writer: a failed
// rewrite is tried again on the next request or at Close, not at once.
func (f *flusher) markDirty() {
	f.mu.Lock()
	f.dirty = true
	f.mu.Unlock()
}

func (f *flusher) clearDirty() {
	f.mu.Lock()
	f.dirty = false
	f.mu.Unlock()
}

func (f *flusher) isDirty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirty
}

func (f *flusher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.signal:
			f.flushIfDirty()
		}
	}
}

// flushIfDirty rewrites the config if a change is pending; failures are
// logged and the sentinel keeps serving (redis-sentinel would exit).
func (f *flusher) flushIfDirty() {
	if !f.isDirty() {
		return
	}
	if err := f.n.rewriteConfig(false); err != nil {
		f.n.log.Warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: " + err.Error())
	}
}
