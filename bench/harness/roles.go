package harness

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Role is one data node's answer to ROLE.
type Role struct {
	Port int
	// Role is "master" or "slave"; "" when the node did not answer.
	Role string
	// MasterHost and MasterPort are a replica's master, State its link
	// state ("connect", "connecting", "sync", "connected").
	MasterHost string
	MasterPort int
	State      string
	Err        error
}

// String renders the role for messages, e.g. "30001:slave-of-30002(connected)".
func (r Role) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%d:down", r.Port)
	case r.Role == "slave":
		return fmt.Sprintf("%d:slave-of-%d(%s)", r.Port, r.MasterPort, r.State)
	default:
		return fmt.Sprintf("%d:%s", r.Port, r.Role)
	}
}

// parseRole fills r from a ROLE reply.
func parseRole(r *Role, reply *redistest.Reply) {
	if err := reply.Err(); err != nil {
		r.Err = err
		return
	}
	if len(reply.Elems) == 0 {
		r.Err = fmt.Errorf("empty ROLE reply %s", reply)
		return
	}
	r.Role = reply.Elems[0].Text()
	if r.Role == "slave" && len(reply.Elems) >= 4 {
		r.MasterHost = reply.Elems[1].Text()
		r.MasterPort, _ = strconv.Atoi(reply.Elems[2].Text())
		r.State = reply.Elems[3].Text()
	}
}

// ReadRole asks n for ROLE on a new connection, within timeout.
func ReadRole(n *redistest.Redis, timeout time.Duration) Role {
	r := Role{Port: n.Port()}
	c, err := redistest.Dial(n.Addr(), timeout)
	if err != nil {
		r.Err = err
		return r
	}
	defer c.Close()
	c.Timeout = timeout
	reply, err := c.Do("ROLE")
	if err != nil {
		r.Err = err
		return r
	}
	parseRole(&r, reply)
	return r
}

// ReadRoles asks every node for ROLE in parallel.
func ReadRoles(nodes []*redistest.Redis, timeout time.Duration) []Role {
	out := make([]Role, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = ReadRole(n, timeout)
		}()
	}
	wg.Wait()
	return out
}

// Masters returns the ports of the nodes that answered role master.
func Masters(roles []Role) []int {
	var out []int
	for _, r := range roles {
		if r.Err == nil && r.Role == "master" {
			out = append(out, r.Port)
		}
	}
	return out
}

// RoleSample is one round of ROLE asked of every node at about the same
// instant.
type RoleSample struct {
	At    time.Time
	Roles []Role
}

// RoleSampler asks every data node for ROLE every period, each over a
// connection it keeps, until stopped.
type RoleSampler struct {
	probes  []*roleProbe
	period  time.Duration
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	samples []RoleSample
}

// roleProbe keeps one connection to a node, redialling after errors.
type roleProbe struct {
	n *redistest.Redis
	c *redistest.Conn
}

// sampleTimeout bounds each ROLE of a sample: a stopped node must not
// stretch the sampling period much.
const sampleTimeout = 100 * time.Millisecond

func (p *roleProbe) read() Role {
	r := Role{Port: p.n.Port()}
	if p.c == nil {
		c, err := redistest.Dial(p.n.Addr(), sampleTimeout)
		if err != nil {
			r.Err = err
			return r
		}
		c.Timeout = sampleTimeout
		p.c = c
	}
	reply, err := p.c.Do("ROLE")
	if err != nil {
		p.c.Close()
		p.c = nil
		r.Err = err
		return r
	}
	parseRole(&r, reply)
	return r
}

// StartRoleSampler starts sampling nodes every period.
func StartRoleSampler(nodes []*redistest.Redis, period time.Duration) *RoleSampler {
	s := &RoleSampler{period: period, stop: make(chan struct{}), done: make(chan struct{})}
	for _, n := range nodes {
		s.probes = append(s.probes, &roleProbe{n: n})
	}
	go s.run()
	return s
}

func (s *RoleSampler) run() {
	defer close(s.done)
	defer func() {
		for _, p := range s.probes {
			if p.c != nil {
				p.c.Close()
			}
		}
	}()
	t := time.NewTicker(s.period)
	defer t.Stop()
	for {
		sample := RoleSample{At: time.Now(), Roles: make([]Role, len(s.probes))}
		var wg sync.WaitGroup
		for i, p := range s.probes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sample.Roles[i] = p.read()
			}()
		}
		wg.Wait()
		s.samples = append(s.samples, sample)
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// Stop ends the sampling and returns every sample taken.
func (s *RoleSampler) Stop() []RoleSample {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return s.samples
}
