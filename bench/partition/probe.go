package partition

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// ProbeSample is one probe round: which data nodes accepted a write.
type ProbeSample struct {
	At       time.Time
	Accepted []bool
}

// Probe tries a SET on every data node every period, from the observer
// (the lab's own address, which no cut drops), and records which nodes
// accepted it. A node accepts when it answers OK within the round: a
// replica answers READONLY, a paused or unreachable node does not answer.
type Probe struct {
	clients []*redis.Client
	period  time.Duration
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once

	mu      sync.Mutex
	samples []ProbeSample
}

// StartProbe starts probing nodes every period until Stop.
func StartProbe(nodes []*redistest.Redis, period time.Duration) *Probe {
	p := &Probe{period: period, done: make(chan struct{}), stopped: make(chan struct{})}
	timeout := period * 8 / 10
	for _, n := range nodes {
		p.clients = append(p.clients, redis.NewClient(&redis.Options{
			Addr: n.Addr(), DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
			MaxRetries: -1, PoolSize: 4,
		}))
	}
	go p.run()
	return p
}

func (p *Probe) run() {
	defer close(p.stopped)
	t := time.NewTicker(p.period)
	defer t.Stop()
	for round := 0; ; round++ {
		at := time.Now()
		accepted := make([]bool, len(p.clients))
		var wg sync.WaitGroup
		for i, c := range p.clients {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), p.period*8/10)
				defer cancel()
				accepted[i] = c.Set(ctx, "probe:"+strconv.Itoa(i), round, 0).Err() == nil
			})
		}
		wg.Wait()
		p.mu.Lock()
		p.samples = append(p.samples, ProbeSample{At: at, Accepted: accepted})
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// Stop ends the probe and returns its samples.
func (p *Probe) Stop() []ProbeSample {
	p.once.Do(func() {
		close(p.done)
		<-p.stopped
		for _, c := range p.clients {
			c.Close()
		}
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProbeSample(nil), p.samples...)
}

// TwoMasters sums, over the rounds in which two or more nodes accepted a
// write, the time to the next round.
func TwoMasters(samples []ProbeSample) time.Duration {
	var total time.Duration
	for i := 0; i+1 < len(samples); i++ {
		n := 0
		for _, ok := range samples[i].Accepted {
			if ok {
				n++
			}
		}
		if n >= 2 {
			total += samples[i+1].At.Sub(samples[i].At)
		}
	}
	return total
}
