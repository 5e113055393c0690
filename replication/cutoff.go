package replication

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/clock"
	"github.com/x0tta6bl4/gosentinel/monitor"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// The cut-off pause (docs/DESIGN.md, "Fencing the cut-off master"): a
// member that stops hearing a leader and still reaches a master, but none
// of that master's replicas, is on the master's side of a partition. It
// pauses the master's writes (CLIENT PAUSE WRITE) at once, as a lease it
// renews while the cut lasts, instead of letting the master acknowledge
// writes for the seconds its min-replicas fence needs: the writes it would
// acknowledge are the ones the majority's promotion loses. It is a loss
// reducer with its own safety: it only ever stops writes, it never starts
// a failover, and it expires by itself.

const (
	// cutOffAfter is how long a member goes without hearing a leader before
	// it looks: two to three missed heartbeats (the leader sends one every
	// 75 ms, third_party/raft.patch).
	// A leader cut off with the master steps down after its 250 ms lease
	// and looks at once (its last contact with a leader is older).
	cutOffAfter = 200 * time.Millisecond
	// cutOffEvery paces the looks and the renewals.
	cutOffEvery = 50 * time.Millisecond
	// cutOffProbe bounds the PING to each node (one probe round): a node on
	// this side answers in a round trip, one behind the cut never does.
	// The first pause takes two rounds.
	cutOffProbe = 150 * time.Millisecond
	// cutOffFirstLease is the first pause of an episode: it lasts until the
	// master's own min-replicas fence must hold (fenceBound after the cut,
	// which came before this member's silence began), so the pause does not
	// depend on this sentinel living through the partition.
	cutOffFirstLease = 3 * time.Second
	// cutOffLease is each renewal: a healed partition releases the master
	// within it.
	cutOffLease = time.Second
)

// CutOffView is what a member knows about one master when it decides
// whether to pause it.
type CutOffView struct {
	// InGroup: a member of an active Raft group (a sentinel alone, or one
	// still forming its group, has no majority to be cut off from).
	InGroup bool
	// Leading: the Raft leader, which by its lease still has a quorum.
	Leading bool
	// Silence is how long since it last heard a leader.
	Silence time.Duration
	// Outvotable: the members it cannot prove dead could commit without
	// it. When the others died (their ports refuse connections) rather
	// than went out of reach, nobody can promote a replica: no pause.
	Outvotable bool
	// Replicas is how many replicas of the master it knows, Answering how
	// many of them answered a PING just now.
	Replicas, Answering int
	// MasterAnswered: the master answered a PING sent with the replicas'.
	MasterAnswered bool
}

// CutOffPauseDue decides whether to pause the master's writes: this
// member lost the group, and the master's replicas are all beyond the cut
// with the majority, which can promote one. A replica that answers means
// the cut is between sentinels only: the majority still sees the master,
// and the pause would be an outage. A master without replicas has nothing
// to be replaced by. The master must answer the PING sent together with
// the replicas': a sentinel cut off alone gets no answer from it, and one
// whose process stalled (CPU starvation, a long GC pause) sees every PING
// of the round time out at once and heard no leader for the same reason;
// neither may pause a master the majority sees healthy.
func CutOffPauseDue(v CutOffView) bool {
	return v.InGroup && !v.Leading && v.Outvotable && v.Silence >= cutOffAfter &&
		v.Replicas > 0 && v.Answering == 0 && v.MasterAnswered
}

// CutOffState returns the member's standing with its group, read every
// look: every field of CutOffView but the replicas'.
type CutOffState func() CutOffView

// CutOffPinger is the one extra command the cut-off pause needs.
type CutOffPinger interface {
	Ping(ctx context.Context, node Target) error
}

// CutOffFence runs the cut-off pause on every member.
type CutOffFence struct {
	State  CutOffState
	View   View
	Redis  Redis
	Pinger CutOffPinger
	Log    *slog.Logger
	// Emit, if set, publishes +cut-off-pause when a master is first paused.
	Emit Emitter
	// Clock paces the looks; nil: the real clock. The probes' timeouts
	// stay on the wall clock: they bound round trips to Redis nodes.
	Clock clock.Clock

	// held lists the masters paused in the current episode of silence
	// (by address), for the first lease and the log.
	mu   sync.Mutex
	held map[string]bool
}

// Run looks every cutOffEvery until ctx ends.
func (f *CutOffFence) Run(ctx context.Context) {
	f.mu.Lock()
	f.held = map[string]bool{}
	f.mu.Unlock()
	t := clock.OrReal(f.Clock).NewTicker(cutOffEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		f.look(ctx)
	}
}

func (f *CutOffFence) look(ctx context.Context) {
	st := f.State()
	quiet := st
	quiet.Replicas, quiet.MasterAnswered = 1, true
	if !CutOffPauseDue(quiet) {
		// Not cut off (or no way to know): the episode is over. Held
		// pauses lapse by themselves within cutOffLease: releasing them
		// here could undo a switchover's pause the leader just set.
		f.mu.Lock()
		if len(f.held) > 0 {
			f.log().Info("the group is back: cut-off pauses lapse", "masters", len(f.held))
			f.held = map[string]bool{}
		}
		f.mu.Unlock()
		return
	}
	var wg sync.WaitGroup
	for _, name := range f.View.Names() {
		m, ok := f.View.Master(name)
		if !ok {
			continue
		}
		wg.Go(func() { f.lookAt(ctx, m, st) })
	}
	wg.Wait()
}

// lookAt probes the replicas of m and pauses m if none answers.
func (f *CutOffFence) lookAt(ctx context.Context, m *quorum.Master, v CutOffView) {
	maddr := monitor.Addr(m.Addr)
	ms, ok := f.View.Status(m.Name)
	if !ok {
		return
	}
	var replicas []monitor.Addr
	for i := range ms.Replicas {
		if a := ms.Replicas[i].Ref.Addr; a != maddr {
			replicas = append(replicas, a)
		}
	}
	v.Replicas = len(replicas)
	// Even if the master answered and no replica did, would it be paused?
	// Not without replicas: then there is nothing to probe. (Each probe is
	// a fresh connection per node; probing every master without replicas
	// every cutOffEvery, on a loaded member whose heartbeats came late,
	// opened hundreds of connections a second against a fleet of 500
	// masters: bench/fleet.)
	worst := v
	worst.MasterAnswered, worst.Answering = true, 0
	if !CutOffPauseDue(worst) {
		return
	}
	key := maddr.String()
	first := !f.isHeld(key)
	// The first pause of an episode needs two probe rounds in a row to
	// agree: a process that stalls (CPU throttling, a long GC pause) misses
	// its leader's heartbeats and sees a round's PINGs time out, but not
	// those of the round after it wakes up. Renewals need one.
	rounds := 1
	if first {
		rounds = 2
	}
	var errs []string
	for range rounds {
		var answered []bool
		answered, errs = f.probe(ctx, m, append([]monitor.Addr{maddr}, replicas...))
		v.MasterAnswered, v.Answering = answered[0], 0
		for _, ok := range answered[1:] {
			if ok {
				v.Answering++
			}
		}
		if !CutOffPauseDue(v) {
			return
		}
	}
	lease := cutOffLease
	if first {
		lease = cutOffFirstLease
	}
	pctx, cancel := context.WithTimeout(ctx, cutOffProbe)
	defer cancel()
	if err := f.Redis.PauseWrites(pctx, target(m, maddr), lease); err != nil {
		// The master is not reachable from here either: this member is
		// cut off alone (or the master is down); nothing to pause.
		return
	}
	if first {
		f.hold(key)
		f.log().Warn("cut off from the group with the master: its writes are paused", "master", m.Name,
			"addr", key, "silence", v.Silence.Round(time.Millisecond).String(), "replicas", len(replicas), "probes", strings.Join(errs, "; "))
		if f.Emit != nil {
			f.Emit(monitor.LevelWarning, "+cut-off-pause", &monitor.Ref{Kind: monitor.KindMaster, Name: m.Name, Addr: maddr, Master: m.Name}, "")
		}
	}
}

func (f *CutOffFence) isHeld(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[key]
}

func (f *CutOffFence) hold(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[key] = true
}

// probe PINGs every node of addrs at once and tells which answered; errs
// says why the others did not.
func (f *CutOffFence) probe(ctx context.Context, m *quorum.Master, addrs []monitor.Addr) (answered []bool, errs []string) {
	answered = make([]bool, len(addrs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, cutOffProbe)
			defer cancel()
			err := f.Pinger.Ping(pctx, target(m, a))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				answered[i] = true
			} else {
				errs = append(errs, err.Error())
			}
		})
	}
	wg.Wait()
	return answered, errs
}

func (f *CutOffFence) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}
