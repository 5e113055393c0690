package quorum

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// heartbeatWatch follows raft's heartbeat observations on the leader:
// which followers it fails to reach, and since when. It is the leader's
// "Raft traffic" channel for membership decisions: a follower that answers
// heartbeats is alive whatever else it does.
type heartbeatWatch struct {
	mu       sync.Mutex
	failing  map[string]time.Time // follower id -> its last contact
	obs      *raft.Observer
	ch       chan raft.Observation
	done     chan struct{}
	stopOnce sync.Once
}

// watch registers the observer on r and starts following it.
func (w *heartbeatWatch) watch(r *raft.Raft) {
	w.mu.Lock() // lastContact may read it while Open runs
	w.failing = map[string]time.Time{}
	w.mu.Unlock()
	w.ch = make(chan raft.Observation, 64)
	w.done = make(chan struct{})
	w.obs = raft.NewObserver(w.ch, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.LeaderObservation:
			return true
		}
		return false
	})
	r.RegisterObserver(w.obs)
	go w.run()
}

func (w *heartbeatWatch) run() {
	for {
		select {
		case <-w.done:
			return
		case o := <-w.ch:
			w.mu.Lock()
			switch d := o.Data.(type) {
			case raft.FailedHeartbeatObservation:
				if _, ok := w.failing[string(d.PeerID)]; !ok {
					w.failing[string(d.PeerID)] = d.LastContact
				}
			case raft.ResumedHeartbeatObservation:
				delete(w.failing, string(d.PeerID))
			case raft.LeaderObservation:
				// A new term's replication starts with a clean slate.
				clear(w.failing)
			}
			w.mu.Unlock()
		}
	}
}

// stop deregisters the observer.
func (w *heartbeatWatch) stop(r *raft.Raft) {
	w.stopOnce.Do(func() {
		if w.obs == nil {
			return
		}
		r.DeregisterObserver(w.obs)
		close(w.done)
	})
}

// lastContact reports, for a follower this leader fails to reach, when it
// last heard from it; ok is false for a follower that answers.
func (w *heartbeatWatch) lastContact(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.failing[id]
	return t, ok
}
