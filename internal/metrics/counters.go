package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// masterCounters counts events per master and label value (an outcome, a
// reason) for one counter family, and renders them at scrape time with a
// zero series for every known master and label value, so that rate() and
// increase() see the first event.
//
// Why not a CounterVec: a zero series per master and value made through
// the vector is a child kept for good. At 1000 masters that was 10,000
// children (gosentinel_failovers_total, gosentinel_failovers_not_started_
// total), about 4 MB of heap from the first scrape on, to say 0. The zeros
// are rendered per scrape instead and only counts that happened are kept.
type masterCounters struct {
	f      family
	values []string // the label values rendered at zero

	mu sync.Mutex
	n  map[[2]string]float64 // (master, value) -> count
}

func newMasterCounters(f family, values []string) *masterCounters {
	return &masterCounters{f: f, values: values, n: map[[2]string]float64{}}
}

func (c *masterCounters) inc(master, value string) {
	c.mu.Lock()
	c.n[[2]string{master, value}]++
	c.mu.Unlock()
}

// collect writes a series per (master, value) for every master of the
// snapshot, and the counts of masters no longer in it (a counter does not
// vanish while the process lives, as the vector's children did not).
func (c *masterCounters) collect(w writer, masters []Master) {
	c.mu.Lock()
	defer c.mu.Unlock()
	known := make(map[string]bool, len(masters))
	for i := range masters {
		name := masters[i].Name
		known[name] = true
		for _, v := range c.values {
			w.put(c.f, c.n[[2]string{name, v}], name, v)
		}
	}
	for k, n := range c.n {
		if !known[k[0]] {
			w.put(c.f, n, k[0], k[1])
		}
	}
}

// descs holds each family's descriptor, made once: prometheus.NewDesc
// checks and hashes the name and labels, and the collector sends a few
// series per master per scrape (about 20,000 at 1000 masters).
var descs = func() map[string]*prometheus.Desc {
	out := map[string]*prometheus.Desc{}
	for _, f := range families() {
		out[f.name] = prometheus.NewDesc(f.name, f.help, f.labels, nil)
	}
	return out
}()
