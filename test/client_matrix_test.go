package test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// The client matrix (issue 4): every client discovers the master through
// the three gosentinels, writes, lives through one SIGKILL of the master
// while it keeps writing, and then must have written to the new master and
// read from the replicas. One deployment and one failover serve every
// client: each client's "before" subtest starts it and leaves it running
// (writers, a Python process, a redis-cli session, subscriptions), the
// test kills the master once, and each client's "after" subtest checks
// what the client did through the failover.
const (
	// matrixBeforeWrites are written (and WAITed for on both replicas)
	// before the fault, so they must survive it.
	matrixBeforeWrites = 10
	// matrixAfterAcks: writes acknowledged after the kill that each writer
	// must collect.
	matrixAfterAcks = 20
	// matrixWriteInterval paces every writer.
	matrixWriteInterval = 10 * time.Millisecond
	// matrixOpTimeout bounds one client command.
	matrixOpTimeout = 2 * time.Second
	// matrixReads: reads through a routing cluster client whose serving
	// nodes are counted. With RouteRandomly over 2 or 3 nodes, the chance
	// that they all land on one node is below 1e-10.
	matrixReads = 60
	// matrixWriteDeadline: from the kill to every writer's post-kill acks.
	matrixWriteDeadline = switchDeadline + resumeDeadline
)

// TestClientMatrix runs go-redis v9 (FailoverClient, FailoverClusterClient
// with RouteRandomly and with ReplicaOnly, SentinelClient), redis-py with a
// sentinel password (master_for, slave_for) and redis-cli (one-shot, -3,
// interactive on a pty) through one failover of password-protected
// gosentinels watching password-protected data nodes.
func TestClientMatrix(t *testing.T) {
	logClientVersions(t)
	runMatrix(t, &matrixEnv{d: startMatrixDeployment(t), cleanup: t.Cleanup}, []matrixCase{
		{"go-redis/FailoverClient", &failoverClientCase{}},
		{"go-redis/FailoverClusterClient/RouteRandomly", &clusterClientCase{replicaOnly: false}},
		{"go-redis/FailoverClusterClient/ReplicaOnly", &clusterClientCase{replicaOnly: true}},
		{"go-redis/SentinelClient", &sentinelClientCase{}},
		{"redis-py", &redisPyCase{}},
		{"redis-cli", &redisCLICase{}},
	})
}

// TestClientMatrix80 runs today's clients against gosentinels with the
// 8.0 compatibility profile (issue 13), through one failover: node-redis v5
// (createSentinel, npm) on RESP3 and RESP2, go-redis' FailoverClient on
// RESP2 and RESP3, and its SentinelClient. ioredis (5.x, the current
// major) speaks RESP2 only and is in TestIORedisFailover.
func TestClientMatrix80(t *testing.T) {
	pinned := ensureNodeModules(t, nodeRedisDir, "redis")
	runMatrix(t, &matrixEnv{d: startMatrixDeployment(t, "compat-version 8.0"), cleanup: t.Cleanup}, []matrixCase{
		{"go-redis/FailoverClient/RESP2", &failoverClientCase{prefix: "fc2", protocol: 2}},
		{"go-redis/FailoverClient/RESP3", &failoverClientCase{prefix: "fc3", protocol: 3}},
		{"go-redis/SentinelClient", &sentinelClientCase{}},
		{"node-redis/RESP3", &nodeRedisCase{resp: 3, pinned: pinned}},
		{"node-redis/RESP2", &nodeRedisCase{resp: 2, pinned: pinned}},
	})
}

// matrixCase is a named client of a matrix run.
type matrixCase struct {
	name   string
	client matrixClient
}

// runMatrix starts every case, SIGKILLs the master once, and checks every
// case after the failover settled.
func runMatrix(t *testing.T, env *matrixEnv, cases []matrixCase) {
	d := env.d
	ready := make([]bool, len(cases))
	for i, c := range cases {
		ready[i] = t.Run("before/"+c.name, func(t *testing.T) { c.client.before(t, env) })
	}

	old := d.Nodes[0].Port()
	if p, err := d.AgreedMasterPort(); err != nil || p != old {
		t.Fatalf("before the fault the sentinels report master %d (%v), want %d", p, err, old)
	}
	if err := d.Node(old).Kill(); err != nil {
		t.Fatal(err)
	}
	fo := matrixFailover{old: old, killedAt: time.Now()}
	t.Logf("SIGKILLed master %d", old)
	for _, c := range cases {
		if k, ok := c.client.(interface{ killed() }); ok {
			k.killed()
		}
	}
	newPort, err := d.WaitSwitched(old, switchDeadline)
	if err != nil {
		t.Fatalf("the sentinels did not switch away from %d: %v", old, err)
	}
	fo.new = newPort
	switched := time.Since(fo.killedAt)
	fo.replica = waitMatrixSettled(t, d, old, newPort)
	t.Logf("failover %d -> %d: every sentinel switched %v after the kill; replica %d linked and old master s_down %v after it",
		old, newPort, switched.Round(time.Millisecond), fo.replica, time.Since(fo.killedAt).Round(time.Millisecond))

	for i, c := range cases {
		t.Run("after/"+c.name, func(t *testing.T) {
			if !ready[i] {
				t.Skip("its before subtest failed")
			}
			c.client.after(t, env, fo)
		})
	}
	waitFailoverEnd(t, d, 1)
	requireFailovers(t, d, 1, old, newPort)
}

// matrixClient is one client of the matrix.
type matrixClient interface {
	// before discovers the master, writes and reads the replicas, then
	// leaves running what must go through the failover. Resources outlive
	// the subtest: they are released through env.cleanup.
	before(t *testing.T, env *matrixEnv)
	// after checks the client once the failover settled.
	after(t *testing.T, env *matrixEnv, fo matrixFailover)
}

// matrixEnv is what the clients share.
type matrixEnv struct {
	d *harness.Deployment
	// cleanup is the parent test's Cleanup: what a "before" subtest starts
	// must live until the "after" one.
	cleanup func(func())
}

// matrixFailover is what the one failover did.
type matrixFailover struct {
	old, new int // master ports before and after
	replica  int // the data node that is neither
	killedAt time.Time
}

// oldReplicas are the ports of the replicas before the fault, sorted.
func (env *matrixEnv) oldReplicas() []int {
	p := ports(env.d.Nodes[1:])
	slices.Sort(p)
	return p
}

// failoverOptions are the go-redis options every go-redis client of the
// matrix starts from: all three sentinels, both passwords, short timeouts.
func (env *matrixEnv) failoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:       harness.MasterName,
		SentinelAddrs:    env.d.SentinelAddrs(),
		SentinelPassword: clientSentinelPassword,
		Password:         clientDataPassword,
		DialTimeout:      500 * time.Millisecond,
		ReadTimeout:      time.Second,
		WriteTimeout:     time.Second,
	}
}

// logClientVersions logs what the matrix runs: go-redis as go.mod requires
// it (and as the library reports itself), Debian's redis-py and redis-cli.
func logClientVersions(t *testing.T) {
	goRedis := "(not in go.mod)"
	mod, err := os.ReadFile("../go.mod") // test binaries carry no module deps in their build info
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/redis/go-redis/v9" {
			goRedis = f[1]
		}
	}
	py, err := exec.Command(python3Bin, "-c", "import redis; print(redis.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-py version: %v\n%s", err, py)
	}
	cli := runCLI(t, false, "--version")
	t.Logf("clients: go-redis %s (redis.Version() %s), redis-py %s, %s", goRedis, redis.Version(),
		strings.TrimSpace(string(py)), strings.TrimSpace(cli))
}

// startMatrixDeployment starts a master, two replicas and three
// gosentinels with requirepass, then gives the data nodes a password too.
// harness.Options has no knob for the data nodes' password, so it is set
// at run time: the sentinels are started with `sentinel auth-pass` (a node
// without a password answers their AUTH with an error, which they ignore,
// as redis-sentinel does), then each node gets masterauth (for the links
// its replicas make after the failover) and requirepass. Connections made
// before keep their authentication.
func startMatrixDeployment(t *testing.T, extra ...string) *harness.Deployment {
	t.Helper()
	d := startFailoverDeployment(t, harness.Options{
		Secret: clientSentinelPassword,
		Extra:  append([]string{fmt.Sprintf("sentinel auth-pass %s %s", harness.MasterName, clientDataPassword)}, extra...),
	})
	for _, n := range d.Nodes {
		c, err := redistest.Dial(n.Addr(), roleTimeout)
		if err != nil {
			t.Fatal(err)
		}
		for _, param := range []string{"masterauth", "requirepass"} {
			if _, err := c.DoOK("CONFIG", "SET", param, clientDataPassword); err != nil {
				t.Fatalf("CONFIG SET %s on %d: %v", param, n.Port(), err)
			}
		}
		c.Close()
		n.Opts.Password = clientDataPassword // so that n.DialErr authenticates
	}
	return d
}

// matrixRole asks n for ROLE over an authenticated connection.
func matrixRole(n *redistest.Redis) harness.Role {
	r := harness.Role{Port: n.Port()}
	c, err := n.DialErr()
	if err != nil {
		r.Err = err
		return r
	}
	defer c.Close()
	c.Timeout = roleTimeout
	reply, err := c.Do("ROLE")
	if err == nil {
		err = reply.Err()
	}
	if err != nil || len(reply.Elems) == 0 {
		r.Err = fmt.Errorf("ROLE on %d: %v %v", n.Port(), err, reply)
		return r
	}
	r.Role = reply.Elems[0].Text()
	if r.Role == "slave" && len(reply.Elems) >= 4 {
		r.MasterPort, _ = strconv.Atoi(reply.Elems[2].Text())
		r.State = reply.Elems[3].Text()
	}
	return r
}

// requireReplicaOf fails unless the node on port answers ROLE as a replica
// of master.
func requireReplicaOf(t *testing.T, d *harness.Deployment, port, master int) {
	t.Helper()
	n := d.Node(port)
	if n == nil {
		t.Fatalf("%d is not a data node of the deployment", port)
	}
	if r := matrixRole(n); r.Role != "slave" || r.MasterPort != master {
		t.Fatalf("%d served a replica read but answers ROLE %v, want a replica of %d", port, r, master)
	}
}

// waitMatrixSettled polls until every sentinel reports the new master and
// its linked replica (checkSentinelViews), lists the dead old master as a
// replica flagged s_down, and the data nodes agree; it returns the port of
// the replica left.
func waitMatrixSettled(t *testing.T, d *harness.Deployment, old, master int) int {
	t.Helper()
	replica := 0
	for _, n := range d.Nodes {
		if p := n.Port(); p != old && p != master {
			replica = p
		}
	}
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
		if err := checkSentinelViews(d, master); err != nil {
			return err
		}
		for _, s := range d.Sentinels {
			reps, err := s.Replicas(harness.MasterName)
			if err != nil {
				return err
			}
			if flags := replicaFlags(reps, old); !slices.Contains(flags, "s_down") {
				return fmt.Errorf("%s lists the old master %d with flags %v, want s_down", s.Name(), old, flags)
			}
		}
		if r := matrixRole(d.Node(master)); r.Role != "master" {
			return fmt.Errorf("new master answers ROLE %v", r)
		}
		if r := matrixRole(d.Node(replica)); r.Role != "slave" || r.MasterPort != master || r.State != "connected" {
			return fmt.Errorf("replica answers ROLE %v, want connected to %d", r, master)
		}
		return nil
	})
	return replica
}

// replicaFlags returns the flags of the replica on port in a SENTINEL
// REPLICAS answer, or nil if it is not listed.
func replicaFlags(reps []map[string]string, port int) []string {
	for _, r := range reps {
		if r["port"] == strconv.Itoa(port) {
			return strings.Split(r["flags"], ",")
		}
	}
	return nil
}

// requireWritesOn reads <prefix>:<seq> for every seq straight from the data
// node on port (MGET, authenticated) and fails unless each holds seq.
func requireWritesOn(t *testing.T, d *harness.Deployment, port int, prefix string, seqs []int) {
	t.Helper()
	if len(seqs) == 0 {
		t.Fatalf("no %s writes to check", prefix)
	}
	keys := make([]string, len(seqs))
	for i, s := range seqs {
		keys[i] = prefix + ":" + strconv.Itoa(s)
	}
	c, err := d.Node(port).DialErr()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply, err := c.Do(append([]string{"MGET"}, keys...)...)
	if err == nil {
		err = reply.Err()
	}
	if err != nil {
		t.Fatalf("MGET on %d: %v", port, err)
	}
	var missing []string
	for i, v := range reply.Elems {
		if v.Kind == redistest.KindNull || v.Text() != strconv.Itoa(seqs[i]) {
			missing = append(missing, keys[i])
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged writes are not on %d, e.g. %v", len(missing), len(keys), port, missing[:min(len(missing), 5)])
	}
}

// writeBeforeFault writes <prefix>:<i> = i for i < matrixBeforeWrites
// through c, then WAITs until both replicas have them, and returns the
// written seqs.
func writeBeforeFault(t *testing.T, c redis.UniversalClient, prefix string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seqs []int
	for i := range matrixBeforeWrites {
		if err := c.Set(ctx, prefix+":"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatalf("SET %s:%d: %v", prefix, i, err)
		}
		seqs = append(seqs, i)
	}
	n, err := c.Do(ctx, "WAIT", 2, 5000).Int()
	if err != nil || n != 2 {
		t.Fatalf("WAIT 2 after the writes = %d, %v", n, err)
	}
	return seqs
}

// ackWriter writes <prefix>:<seq> = seq through one client, a write every
// matrixWriteInterval whatever the previous one did, and remembers which
// were acknowledged and when each was sent: a write sent after the master
// was reaped can only have been acknowledged by another node.
type ackWriter struct {
	prefix string
	set    func(ctx context.Context, key string, seq int) error

	quit, done chan struct{}
	stopOnce   sync.Once

	mu      sync.Mutex
	acks    []sentAck
	fails   int
	lastErr error
}

// sentAck is one acknowledged write, when it was sent and when the
// acknowledgement came (go-redis retries inside one call).
type sentAck struct {
	seq         int
	sent, acked time.Time
}

func startAckWriter(env *matrixEnv, prefix string, set func(ctx context.Context, key string, seq int) error) *ackWriter {
	w := &ackWriter{prefix: prefix, set: set, quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	env.cleanup(w.stop)
	return w
}

func (w *ackWriter) loop() {
	defer close(w.done)
	tick := time.NewTicker(matrixWriteInterval)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		sent := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
		err := w.set(ctx, w.prefix+":"+strconv.Itoa(seq), seq)
		cancel()
		w.mu.Lock()
		if err == nil {
			w.acks = append(w.acks, sentAck{seq, sent, time.Now()})
		} else {
			w.fails, w.lastErr = w.fails+1, err
		}
		w.mu.Unlock()
		select {
		case <-w.quit:
			return
		case <-tick.C:
		}
	}
}

func (w *ackWriter) stop() {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
}

// sentAfter returns the acknowledged seqs sent after at.
func (w *ackWriter) sentAfter(at time.Time) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for _, a := range w.acks {
		if a.sent.After(at) {
			out = append(out, a.seq)
		}
	}
	return out
}

// stopAfter polls until n writes sent after at were acknowledged, stops
// the writer and returns those seqs (or fails).
func (w *ackWriter) stopAfter(t *testing.T, at time.Time, n int) []int {
	t.Helper()
	err := redistest.PollErr(time.Until(at.Add(matrixWriteDeadline)), 10*time.Millisecond, func() error {
		if got := len(w.sentAfter(at)); got < n {
			w.mu.Lock()
			defer w.mu.Unlock()
			return fmt.Errorf("%d of %d writes sent after the kill acknowledged (%d failures, last %v)", got, n, w.fails, w.lastErr)
		}
		return nil
	})
	w.stop()
	if err != nil {
		t.Fatalf("%s writer: %v", w.prefix, err)
	}
	seqs := w.sentAfter(at)
	w.mu.Lock()
	defer w.mu.Unlock()
	var first sentAck
	for _, a := range w.acks {
		if a.sent.After(at) {
			first = a
			break
		}
	}
	t.Logf("%s: %d writes sent after the kill acknowledged, the first sent %v and acknowledged %v after it (%d failed writes in all, last: %v)",
		w.prefix, len(seqs), first.sent.Sub(at).Round(time.Millisecond), first.acked.Sub(at).Round(time.Millisecond), w.fails, w.lastErr)
	return seqs
}

// failoverClientCase is go-redis' NewFailoverClient: a writer through the
// failover, and ReplicaOnly clients for the replica reads.
type failoverClientCase struct {
	// prefix names its keys ("fc" when empty); protocol is go-redis'
	// Protocol (0: its default, RESP3).
	prefix   string
	protocol int

	rdb  *redis.Client
	w    *ackWriter
	ro   *redis.Client // ReplicaOnly, made before the fault
	seqs []int         // written before the fault
}

func (c *failoverClientCase) p(s string) string {
	if c.prefix == "" {
		return "fc:" + s
	}
	return c.prefix + ":" + s
}

func (c *failoverClientCase) before(t *testing.T, env *matrixEnv) {
	o := env.failoverOptions()
	o.Protocol = c.protocol
	c.rdb = redis.NewFailoverClient(o)
	env.cleanup(func() { c.rdb.Close() })
	c.seqs = writeBeforeFault(t, c.rdb, c.p("before"))
	old := env.d.Nodes[0].Port()
	requireWritesOn(t, env.d, old, c.p("before"), c.seqs)
	c.ro = newReplicaOnlyClient(env)
	checkReplicaOnlyClient(t, env.d, c.ro, c.p("before:")+strconv.Itoa(c.seqs[len(c.seqs)-1]), old, env.oldReplicas())
	if c.protocol != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
		defer cancel()
		// HELLO's proto says what the connection speaks.
		hello, err := c.rdb.Do(ctx, "HELLO").Result()
		t.Logf("go-redis Protocol %d: HELLO on the master answers %v (%v)", c.protocol, hello, err)
	}
	c.w = startAckWriter(env, c.p("w"), func(ctx context.Context, key string, seq int) error {
		return c.rdb.Set(ctx, key, seq, 0).Err()
	})
}

func (c *failoverClientCase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	seqs := c.w.stopAfter(t, fo.killedAt, matrixAfterAcks)
	requireWritesOn(t, env.d, fo.new, c.p("w"), seqs)
	requireWritesOn(t, env.d, fo.new, c.p("before"), c.seqs)

	// The ReplicaOnly client made before the fault keeps a pooled
	// connection to whichever replica it dialled; go-redis closes it on
	// +switch-master only if it is not to the new master, so where it
	// reads now is go-redis' business: logged, not asserted.
	ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
	defer cancel()
	role, err := c.ro.Do(ctx, "ROLE").Slice()
	t.Logf("the ReplicaOnly client made before the fault now reads from a node answering ROLE %v (%v)", role, err)

	// A ReplicaOnly client made now must read from the replica left.
	ro := newReplicaOnlyClient(env)
	checkReplicaOnlyClient(t, env.d, ro, c.p("w:")+strconv.Itoa(seqs[len(seqs)-1]), fo.new, []int{fo.replica})
}

func newReplicaOnlyClient(env *matrixEnv) *redis.Client {
	o := env.failoverOptions()
	o.ReplicaOnly = true
	ro := redis.NewFailoverClient(o)
	env.cleanup(func() { ro.Close() })
	return ro
}

// checkReplicaOnlyClient checks that ro reads key (which holds its seq) from
// one of replicas, a replica of master, and that its writes are refused
// with READONLY.
func checkReplicaOnlyClient(t *testing.T, d *harness.Deployment, ro *redis.Client, key string, master int, replicas []int) {
	t.Helper()
	want := key[strings.LastIndexByte(key, ':')+1:]
	var served int
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
		defer cancel()
		// GET and CLIENT INFO on one connection: CLIENT INFO's laddr is
		// the node that served the GET.
		pipe := ro.Pipeline()
		get := pipe.Get(ctx, key)
		info := pipe.ClientInfo(ctx)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("ReplicaOnly GET %s: %w", key, err)
		}
		if get.Val() != want {
			return fmt.Errorf("ReplicaOnly GET %s = %q, want %q", key, get.Val(), want)
		}
		served = addrPort(info.Val().LAddr)
		return nil
	})
	if !slices.Contains(replicas, served) {
		t.Fatalf("the ReplicaOnly client read from %d, want one of the replicas %v", served, replicas)
	}
	requireReplicaOf(t, d, served, master)
	ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
	defer cancel()
	err := ro.Set(ctx, key, "overwritten", 0).Err()
	if err == nil || !strings.Contains(err.Error(), "READONLY") {
		t.Fatalf("SET through the ReplicaOnly client = %v, want a READONLY error", err)
	}
}

// clusterClientCase is go-redis' NewFailoverClusterClient, which routes
// read-only commands randomly over the master and the replicas
// (RouteRandomly) or to the replicas only (ReplicaOnly), and writes to the
// master. A hook on every node client it makes counts which node answered
// each GET.
type clusterClientCase struct {
	replicaOnly bool
	cc          *redis.ClusterClient
	served      *servedReads
	w           *ackWriter
	seqs        []int // written before the fault
}

func (c *clusterClientCase) prefix() string {
	if c.replicaOnly {
		return "cco"
	}
	return "ccr"
}

func (c *clusterClientCase) before(t *testing.T, env *matrixEnv) {
	o := env.failoverOptions()
	o.RouteRandomly, o.ReplicaOnly = !c.replicaOnly, c.replicaOnly
	c.cc = redis.NewFailoverClusterClient(o)
	env.cleanup(func() { c.cc.Close() })
	c.served = &servedReads{byPort: map[int]int{}}
	c.cc.OnNewNode(func(n *redis.Client) { n.AddHook(servedHook{c.served, addrPort(n.Options().Addr)}) })
	c.seqs = writeBeforeFault(t, c.cc, c.prefix()+":before")
	old := env.d.Nodes[0].Port()
	requireWritesOn(t, env.d, old, c.prefix()+":before", c.seqs)
	c.checkReads(t, env.d, c.prefix()+":before:"+strconv.Itoa(c.seqs[len(c.seqs)-1]), old, env.oldReplicas())
	c.w = startAckWriter(env, c.prefix()+":w", func(ctx context.Context, key string, seq int) error {
		return c.cc.Set(ctx, key, seq, 0).Err()
	})
}

func (c *clusterClientCase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	seqs := c.w.stopAfter(t, fo.killedAt, matrixAfterAcks)
	requireWritesOn(t, env.d, fo.new, c.prefix()+":w", seqs)
	requireWritesOn(t, env.d, fo.new, c.prefix()+":before", c.seqs)
	c.checkReads(t, env.d, c.prefix()+":w:"+strconv.Itoa(seqs[len(seqs)-1]), fo.new, []int{fo.replica})
}

// checkReads reads key (which holds its seq) matrixReads times through the
// cluster client and checks which nodes answered: with ReplicaOnly only
// replicas of master, with RouteRandomly the master and the replicas both.
func (c *clusterClientCase) checkReads(t *testing.T, d *harness.Deployment, key string, master int, replicas []int) {
	t.Helper()
	want := key[strings.LastIndexByte(key, ':')+1:]
	read := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
		defer cancel()
		v, err := c.cc.Get(ctx, key).Result()
		if err != nil || v != want {
			return fmt.Errorf("GET %s = %q, %v; want %q", key, v, err, want)
		}
		return nil
	}
	// Until the key has replicated, reads may miss.
	redistest.Poll(t, settleDeadline, 20*time.Millisecond, read)
	c.requireNodes(t, replicas)
	c.served.reset()
	fails := 0
	redistest.Poll(t, settleDeadline, 0, func() error {
		if err := read(); err != nil {
			fails++
		}
		if n := c.served.total(); n < matrixReads {
			return fmt.Errorf("%d of %d reads answered (%d failed)", n, matrixReads, fails)
		}
		return nil
	})
	by := c.served.snapshot()
	t.Logf("%d GETs of %s answered by %v (master %d, replicas %v; %d failed reads)", matrixReads, key, by, master, replicas, fails)
	var fromReplicas int
	for port, n := range by {
		switch {
		case port == master && c.replicaOnly:
			t.Fatalf("ReplicaOnly: %d GETs answered by the master %d", n, master)
		case port == master:
		case slices.Contains(replicas, port):
			requireReplicaOf(t, d, port, master)
			fromReplicas += n
		default:
			t.Fatalf("%d GETs answered by %d, which is neither the master %d nor a replica %v", n, port, master, replicas)
		}
	}
	if fromReplicas == 0 {
		t.Fatalf("no GET was answered by a replica %v", replicas)
	}
	if !c.replicaOnly && by[master] == 0 {
		t.Fatalf("RouteRandomly: no GET of %d was answered by the master %d", matrixReads, master)
	}
}

// requireNodes reloads the client's node list and fails unless the
// replicas in it are exactly replicas.
//
// The client reloads its node list by itself on +switch-master and every
// 60 s only (it also subscribes to +replica-reconf-done, which no sentinel
// publishes: the event is +slave-reconf-done). redis-sentinel 7.0 lists
// every replica of a just-switched master as disconnected at that instant,
// and go-redis skips disconnected replicas, so with redis-sentinel the
// client reads from the master alone until its 60 s reload. The reload is
// forced here (ForEachSlave reloads first) so that the test asks of
// gosentinel what redis-sentinel gives, not more.
func (c *clusterClientCase) requireNodes(t *testing.T, replicas []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []int
	err := c.cc.ForEachSlave(ctx, func(_ context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, addrPort(n.Options().Addr))
		return nil
	})
	slices.Sort(got)
	if err != nil || !slices.Equal(got, replicas) {
		t.Fatalf("the client's replicas after a reload: %v (%v), want %v", got, err, replicas)
	}
}

// addrPort returns the port of a host:port address, 0 if it has none.
func addrPort(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(p)
	return port
}

// servedReads counts successful GETs by the port of the node that answered.
type servedReads struct {
	mu     sync.Mutex
	byPort map[int]int
}

func (s *servedReads) add(port int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPort[port]++
}

func (s *servedReads) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.byPort)
}

func (s *servedReads) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.byPort {
		n += v
	}
	return n
}

func (s *servedReads) snapshot() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.byPort))
	for k, v := range s.byPort {
		out[k] = v
	}
	return out
}

// servedHook is a go-redis hook on one node client of a cluster client: it
// counts the GETs that node answered.
type servedHook struct {
	s    *servedReads
	port int
}

func (h servedHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h servedHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && cmd.Name() == "get" {
			h.s.add(h.port)
		}
		return err
	}
}

func (h servedHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// sentinelClientCase is go-redis' NewSentinelClient, one on each sentinel,
// each also subscribed to +switch-master.
type sentinelClientCase struct {
	scs  []*redis.SentinelClient
	subs []*redis.PubSub
}

func (c *sentinelClientCase) before(t *testing.T, env *matrixEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old := env.d.Nodes[0].Port()
	for _, s := range env.d.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), Password: clientSentinelPassword, DialTimeout: time.Second})
		env.cleanup(func() { sc.Close() })
		c.scs = append(c.scs, sc)
		requireMasterAddr(t, sc, old)
		reps, err := sc.Replicas(ctx, harness.MasterName).Result()
		if err != nil {
			t.Fatalf("%s: Replicas: %v", s.Name(), err)
		}
		for _, p := range env.oldReplicas() {
			if f := replicaFlags(reps, p); !slices.Equal(f, []string{"slave"}) {
				t.Fatalf("%s: Replicas lists %d with flags %v, want [slave]: %v", s.Name(), p, f, reps)
			}
		}
		if len(reps) != 2 {
			t.Fatalf("%s: Replicas = %v, want the 2 replicas", s.Name(), reps)
		}
		sub := sc.Subscribe(ctx, "+switch-master")
		env.cleanup(func() { sub.Close() })
		if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
			t.Fatalf("%s: SUBSCRIBE +switch-master: %v", s.Name(), err)
		}
		c.subs = append(c.subs, sub)
	}
}

func (c *sentinelClientCase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := fmt.Sprintf("%s 127.0.0.1 %d 127.0.0.1 %d", harness.MasterName, fo.old, fo.new)
	for i, sc := range c.scs {
		name := env.d.Sentinels[i].Name()
		msg, err := c.subs[i].ReceiveMessage(ctx)
		if err != nil || msg.Payload != want {
			t.Fatalf("%s: +switch-master message %v, %v; want payload %q", name, msg, err, want)
		}
		requireMasterAddr(t, sc, fo.new)
		reps, err := sc.Replicas(ctx, harness.MasterName).Result()
		if err != nil {
			t.Fatalf("%s: Replicas: %v", name, err)
		}
		if len(reps) != 2 {
			t.Fatalf("%s: Replicas = %v, want the replica left and the old master", name, reps)
		}
		for _, r := range reps {
			switch r["port"] {
			case strconv.Itoa(fo.replica):
				if r["flags"] != "slave" || r["master-port"] != strconv.Itoa(fo.new) || r["master-link-status"] != "ok" {
					t.Fatalf("%s: replica %d: flags=%q master-port=%q master-link-status=%q", name, fo.replica, r["flags"], r["master-port"], r["master-link-status"])
				}
			case strconv.Itoa(fo.old):
				if f := strings.Split(r["flags"], ","); !slices.Contains(f, "s_down") || !slices.Contains(f, "slave") {
					t.Fatalf("%s: the old master %d is listed with flags %q, want slave and s_down", name, fo.old, r["flags"])
				}
			default:
				t.Fatalf("%s: Replicas lists %v", name, r)
			}
		}
	}
}

// requireMasterAddr fails unless sc answers GET-MASTER-ADDR-BY-NAME with
// 127.0.0.1 and port.
func requireMasterAddr(t *testing.T, sc *redis.SentinelClient, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), matrixOpTimeout)
	defer cancel()
	addr, err := sc.GetMasterAddrByName(ctx, harness.MasterName).Result()
	if err != nil || !slices.Equal(addr, []string{"127.0.0.1", strconv.Itoa(port)}) {
		t.Fatalf("GetMasterAddrByName = %v, %v; want 127.0.0.1 %d", addr, err, port)
	}
}

// pyReport is one line test/clients/matrix_py.py prints.
type pyReport struct {
	Phase        string `json:"phase"`
	RedisPy      string `json:"redis_py"`
	MasterIP     string `json:"master_ip"`
	MasterPort   int    `json:"master_port"`
	ReplicaPorts []int  `json:"replica_ports"`
	// Before are the seqs written before the fault, Waited what WAIT 2
	// answered after them.
	Before []int `json:"before"`
	Waited int   `json:"waited"`
	// PreKill and PostKill are the writes acknowledged before and after
	// the script read "killed".
	PreKill       int            `json:"pre_kill"`
	PostKill      []int          `json:"post_kill"`
	FirstAckAfter *float64       `json:"first_ack_after_s"`
	Errors        map[string]int `json:"errors"`
	ReplicaRead   struct {
		Value      string `json:"value"`
		Role       string `json:"role"`
		MasterPort int    `json:"master_port"`
		ServedPort int    `json:"served_port"`
		Error      string `json:"error"`
	} `json:"replica_read"`
}

// redisPyCase runs test/clients/matrix_py.py through the failover.
type redisPyCase struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr redistest.LogBuffer
	first  pyReport // the "before" line
}

func (c *redisPyCase) before(t *testing.T, env *matrixEnv) {
	var sentinelPorts []int
	for _, s := range env.d.Sentinels {
		sentinelPorts = append(sentinelPorts, s.Port())
	}
	cfg, _ := json.Marshal(map[string]any{
		"sentinel_ports": sentinelPorts, "sentinel_password": clientSentinelPassword,
		"data_password": clientDataPassword, "master_name": harness.MasterName, "prefix": "py",
		"after_acks": matrixAfterAcks, "interval": matrixWriteInterval.Seconds(),
		"deadline": matrixWriteDeadline.Seconds(),
	})
	c.cmd = exec.Command(python3Bin, "clients/matrix_py.py", string(cfg))
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start matrix_py.py: %v", err)
	}
	c.lines = make(chan string, 2)
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	env.cleanup(func() {
		_ = c.cmd.Process.Kill() // by pid; harmless once it exited
		_ = c.cmd.Wait()
	})

	c.first = c.report(t, "before")
	old := env.d.Nodes[0].Port()
	t.Logf("redis-py %s before the fault: %+v", c.first.RedisPy, c.first)
	if c.first.MasterIP != "127.0.0.1" || c.first.MasterPort != old {
		t.Errorf("discover_master = %s:%d, want 127.0.0.1:%d", c.first.MasterIP, c.first.MasterPort, old)
	}
	if !slices.Equal(c.first.ReplicaPorts, env.oldReplicas()) {
		t.Errorf("discover_slaves ports = %v, want %v", c.first.ReplicaPorts, env.oldReplicas())
	}
	if c.first.Waited != 2 {
		t.Errorf("WAIT 2 through master_for = %d", c.first.Waited)
	}
	requireWritesOn(t, env.d, old, "py:before", c.first.Before)
	c.checkReplicaRead(t, env.d, c.first, strconv.Itoa(c.first.Before[len(c.first.Before)-1]), old, env.oldReplicas())
}

// killed tells the script that the master is dead (none runs when -run
// left out the case's before).
func (c *redisPyCase) killed() {
	if c.stdin != nil {
		_, _ = io.WriteString(c.stdin, "killed\n")
	}
}

func (c *redisPyCase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	if _, err := io.WriteString(c.stdin, "stop\n"); err != nil {
		t.Fatalf("matrix_py.py: %v; stderr: %s", err, c.stderr.String())
	}
	r := c.report(t, "after")
	t.Logf("redis-py after the failover: %d writes before the kill, %d after (first %vs after it), errors %v",
		r.PreKill, len(r.PostKill), derefOr(r.FirstAckAfter, -1), r.Errors)
	if len(r.PostKill) < matrixAfterAcks {
		t.Fatalf("only %d writes acknowledged after the kill, want %d (errors %v)", len(r.PostKill), matrixAfterAcks, r.Errors)
	}
	requireWritesOn(t, env.d, fo.new, "py:w", r.PostKill)
	requireWritesOn(t, env.d, fo.new, "py:before", c.first.Before)
	if r.MasterIP != "127.0.0.1" || r.MasterPort != fo.new {
		t.Errorf("discover_master after the failover = %s:%d, want 127.0.0.1:%d", r.MasterIP, r.MasterPort, fo.new)
	}
	if !slices.Equal(r.ReplicaPorts, []int{fo.replica}) {
		t.Errorf("discover_slaves ports after the failover = %v, want [%d] (the old master is s_down)", r.ReplicaPorts, fo.replica)
	}
	c.checkReplicaRead(t, env.d, r, strconv.Itoa(r.PostKill[len(r.PostKill)-1]), fo.new, []int{fo.replica})
	// Wait closes stdout: first read it to its end.
	select {
	case l, ok := <-c.lines:
		if ok {
			t.Fatalf("matrix_py.py printed %q after its last line", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("matrix_py.py did not exit after its last line; stderr: %s", c.stderr.String())
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("matrix_py.py: %v; stderr: %s", err, c.stderr.String())
	}
}

// report waits for the script's line of phase.
func (c *redisPyCase) report(t *testing.T, phase string) pyReport {
	t.Helper()
	var line string
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("matrix_py.py ended before its %q line; stderr: %s", phase, c.stderr.String())
		}
		line = l
	case <-time.After(matrixWriteDeadline + 10*time.Second):
		t.Fatalf("no %q line from matrix_py.py; stderr: %s", phase, c.stderr.String())
	}
	var r pyReport
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Phase != phase {
		t.Fatalf("matrix_py.py printed %q (%v), want its %q line", line, err, phase)
	}
	return r
}

// checkReplicaRead checks that slave_for read want from one of replicas,
// itself a replica of master.
func (c *redisPyCase) checkReplicaRead(t *testing.T, d *harness.Deployment, r pyReport, want string, master int, replicas []int) {
	t.Helper()
	rr := r.ReplicaRead
	if rr.Value != want || rr.Role != "slave" || rr.MasterPort != master || !slices.Contains(replicas, rr.ServedPort) {
		t.Fatalf("slave_for read %+v, want value %q from one of %v, a replica of %d", rr, want, replicas, master)
	}
	requireReplicaOf(t, d, rr.ServedPort, master)
}

func derefOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// redisCLICase is redis-cli one-shot (RESP2 and -3) on every sentinel, and
// one interactive session on a pty that stays open through the failover.
type redisCLICase struct {
	sess *cliSession
}

func (c *redisCLICase) before(t *testing.T, env *matrixEnv) {
	old := env.d.Nodes[0].Port()
	requireCLIOneShots(t, env.d, old)
	c.sess = startCLISession(t, env, env.d.Sentinels[1].Port())
	c.sess.ask(t, "SENTINEL get-master-addr-by-name "+harness.MasterName, `1) "127.0.0.1"`, fmt.Sprintf(`2) "%d"`, old))
}

func (c *redisCLICase) after(t *testing.T, env *matrixEnv, fo matrixFailover) {
	requireCLIOneShots(t, env.d, fo.new)
	c.sess.ask(t, "SENTINEL get-master-addr-by-name "+harness.MasterName, `1) "127.0.0.1"`, fmt.Sprintf(`2) "%d"`, fo.new))
	c.sess.quit(t)
}

// requireCLIOneShots asks every sentinel with redis-cli, in RESP2 and with
// -3, for the master's address.
func requireCLIOneShots(t *testing.T, d *harness.Deployment, master int) {
	t.Helper()
	want := fmt.Sprintf("127.0.0.1\n%d\n", master)
	for _, s := range d.Sentinels {
		query := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.Port()), "SENTINEL", "get-master-addr-by-name", harness.MasterName}
		if out := runCLI(t, true, query...); out != want {
			t.Errorf("redis-cli on %s = %q, want %q", s.Name(), out, want)
		}
		if out := runCLI(t, true, append([]string{"-3"}, query...)...); out != want {
			t.Errorf("redis-cli -3 on %s = %q, want %q", s.Name(), out, want)
		}
	}
}

// cliSession is an interactive redis-cli on a pty.
type cliSession struct {
	cmd    *exec.Cmd
	tty    *os.File
	screen redistest.LogBuffer
	exited chan struct{}
}

// startCLISession starts redis-cli on a pty against the sentinel on port
// and waits for its prompt; the session lives until the parent test ends.
func startCLISession(t *testing.T, env *matrixEnv, port int) *cliSession {
	t.Helper()
	s := &cliSession{exited: make(chan struct{})}
	s.cmd = exec.Command(redisCLIBin, "-h", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+clientSentinelPassword, "REDISCLI_HISTFILE=/dev/null", "TERM=dumb")
	var err error
	if s.tty, err = pty.StartWithSize(s.cmd, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatalf("start redis-cli on a pty: %v", err)
	}
	go func() { _, _ = io.Copy(&s.screen, s.tty) }() // ends with EIO when redis-cli exits
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	env.cleanup(func() {
		_ = s.cmd.Process.Kill() // by pid; harmless once it exited
		<-s.exited
		s.tty.Close()
	})
	prompt := fmt.Sprintf("127.0.0.1:%d>", port)
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !strings.Contains(s.screen.String(), prompt) {
			return fmt.Errorf("no prompt %q yet; screen: %q", prompt, s.screen.String())
		}
		return nil
	})
	return s
}

// ask types line and polls until what the session printed since holds
// every want.
func (s *cliSession) ask(t *testing.T, line string, want ...string) {
	t.Helper()
	from := len(s.screen.String())
	if _, err := io.WriteString(s.tty, line+"\r"); err != nil {
		t.Fatal(err)
	}
	redistest.Poll(t, 10*time.Second, 20*time.Millisecond, func() error {
		got := s.screen.String()[from:]
		for _, w := range want {
			if !strings.Contains(got, w) {
				return fmt.Errorf("redis-cli printed %q after %q, lacking %q", got, line, w)
			}
		}
		return nil
	})
}

// quit ends the session and checks that redis-cli exits.
func (s *cliSession) quit(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(s.tty, "quit\r"); err != nil && !errors.Is(err, os.ErrClosed) {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-cli did not exit after quit; screen: %q", s.screen.String())
	}
}
