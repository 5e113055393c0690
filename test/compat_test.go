package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// Passwords of the password-protected pair.
const (
	compatSentinelPassword = "compat-sentinel-pw"
	compatDataPassword     = "compat-data-pw"
	// compatPlainPassword is what {pw} expands to on sentinels without
	// requirepass (any password is accepted by the nopass default user).
	compatPlainPassword = "anything"
)

// compatSide is one of the two identical deployments.
type compatSide struct {
	name string
	bin  string
	// The plain deployment: master + 2 replicas, three sentinels.
	tp        *redistest.Topology
	sentinels []*redistest.Sentinel
	// The password-protected deployment: a master with requirepass and one
	// sentinel with requirepass.
	authTP       *redistest.Topology
	authSentinel *redistest.Sentinel
}

// startCompatSide starts both deployments of one side (not waiting for
// discovery).
func startCompatSide(t *testing.T, name, bin string) *compatSide {
	t.Helper()
	s := &compatSide{name: name, bin: bin}
	s.tp = redistest.StartTopology(t, 2, redistest.RedisOptions{})
	s.sentinels = redistest.StartSentinels(t, 3, redistest.SentinelOptions{
		Bin: bin, MasterPort: s.tp.Master.Port(), Quorum: 2, DownAfter: 5 * time.Second,
	})
	s.authTP = redistest.StartTopology(t, 0, redistest.RedisOptions{Password: compatDataPassword})
	s.authSentinel = redistest.StartSentinel(t, redistest.SentinelOptions{
		Bin: bin, MasterPort: s.authTP.Master.Port(), Quorum: 1, DownAfter: 5 * time.Second,
		RequirePass: compatSentinelPassword, AuthPass: compatDataPassword,
	})
	return s
}

// waitReady waits until every sentinel has discovered its deployment.
func (s *compatSide) waitReady(timeout time.Duration) error {
	var errs []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := redistest.WaitDiscoveredErr(s.sentinels, s.tp, timeout); err != nil {
			mu.Lock()
			errs = append(errs, err.Error())
			mu.Unlock()
		}
	})
	wg.Go(func() {
		if err := redistest.WaitDiscoveredErr([]*redistest.Sentinel{s.authSentinel}, s.authTP, timeout); err != nil {
			mu.Lock()
			errs = append(errs, err.Error())
			mu.Unlock()
		}
	})
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", s.name, strings.Join(errs, "; "))
	}
	return nil
}

// plainEndpoint is the first sentinel of the plain deployment with its
// token table.
func (s *compatSide) plainEndpoint() (endpoint, error) {
	return s.endpoint(s.sentinels[0], s.sentinels[1:], s.tp, compatPlainPassword)
}

func (s *compatSide) authEndpoint() (endpoint, error) {
	return s.endpoint(s.authSentinel, nil, s.authTP, compatSentinelPassword)
}

// endpoint builds the placeholder values and the token table of sentinel
// me: every port, run id and myid of the deployment becomes a symbolic word
// that is the same on both sides.
func (s *compatSide) endpoint(me *redistest.Sentinel, peers []*redistest.Sentinel, tp *redistest.Topology, pw string) (endpoint, error) {
	e := endpoint{
		addr: me.Addr(),
		vars: map[string]string{
			"mport": strconv.Itoa(tp.Master.Port()),
			"pw":    pw,
		},
		tokens: map[string]string{
			strconv.Itoa(tp.Master.Port()): "MASTERPORT",
			strconv.Itoa(me.Port()):        "MYPORT",
		},
	}
	add := func(word, token string, err error) error {
		if err != nil {
			return err
		}
		if word == "" {
			return fmt.Errorf("empty value for token %s", token)
		}
		e.tokens[word] = token
		return nil
	}
	runID, err := tp.Master.RunID()
	if err := add(runID, "MASTERRUNID", err); err != nil {
		return e, err
	}
	for _, r := range tp.Replicas {
		e.tokens[strconv.Itoa(r.Port())] = "REPLICAPORT"
		runID, err := r.RunID()
		if err := add(runID, "REPLICARUNID", err); err != nil {
			return e, err
		}
	}
	myid, err := me.MyID()
	if err := add(myid, "MYID", err); err != nil {
		return e, err
	}
	for _, p := range peers {
		e.tokens[strconv.Itoa(p.Port())] = "SENTINELPORT"
		id, err := p.MyID()
		if err := add(id, "SENTINELID", err); err != nil {
			return e, err
		}
	}
	info, err := me.Do("INFO", "server")
	if err != nil {
		return e, err
	}
	if err := add(redistest.ParseInfo(info.Str)["run_id"], "SENTINELRUNID", info.Err()); err != nil {
		return e, err
	}
	return e, nil
}

// compatResult is one row of the report table.
type compatResult struct {
	name, proto, target, diff string
}

// TestCompatibility runs the command catalog against a reference
// redis-sentinel deployment and an identical candidate deployment, in RESP2
// and RESP3, without and with authentication, and requires the same replies
// (see compat_rules_test.go for the only tolerated differences).
func TestCompatibility(t *testing.T) {
	refBin := redistest.ReferenceSentinelBin
	candBin := candidateBin(t)
	// Registered first, so it runs after the cleanups that print the
	// servers' logs: a log cut to its head and tail (CI's) still shows
	// which rows differed.
	var mismatches []string
	t.Cleanup(func() {
		if len(mismatches) > 0 {
			t.Logf("compat: the rows that differ (repeated after the logs):\n%s", strings.Join(mismatches, "\n"))
		}
	})
	ref := startCompatSide(t, "reference", refBin)
	cand := startCompatSide(t, "candidate", candBin)

	// Discovery normally takes 2-3 s (hellos every 2 s, INFO at connect).
	var refErr, candErr error
	var wg sync.WaitGroup
	wg.Go(func() { refErr = ref.waitReady(30 * time.Second) })
	wg.Go(func() { candErr = cand.waitReady(30 * time.Second) })
	wg.Wait()
	if refErr != nil {
		t.Fatalf("reference deployment not ready (environment problem): %v", refErr)
	}
	if candErr != nil {
		// Keep going: the catalog still tells what differs.
		t.Errorf("candidate deployment did not discover its replicas and peers: %v", candErr)
	}

	type pair struct {
		target   string
		ref, got endpoint
	}
	var pairs []pair
	for _, tg := range []struct {
		name string
		ep   func(*compatSide) (endpoint, error)
	}{{"plain", (*compatSide).plainEndpoint}, {"auth", (*compatSide).authEndpoint}} {
		r, err := tg.ep(ref)
		if err != nil {
			t.Fatalf("reference %s endpoint: %v", tg.name, err)
		}
		g, err := tg.ep(cand)
		if err != nil {
			t.Errorf("candidate %s endpoint: %v", tg.name, err)
		}
		pairs = append(pairs, pair{tg.name, r, g})
	}

	cases := catalog()
	if len(cases) < 60 {
		t.Fatalf("catalog has %d cases, want at least 60", len(cases))
	}
	var results []compatResult
	for _, c := range cases {
		for _, p := range pairs {
			if c.where == onPlain && p.target != "plain" || c.where == onAuth && p.target != "auth" {
				continue
			}
			protos := []string{"RESP2", "RESP3"}
			if c.raw {
				protos = []string{"-"}
			} else if c.proto != "" {
				protos = []string{c.proto}
			}
			for _, proto := range protos {
				steps := withPreamble(c, proto, p.target)
				var refOut, gotOut []outcome
				var wg sync.WaitGroup
				wg.Go(func() { refOut = runSteps(p.ref, steps) })
				wg.Go(func() { gotOut = runSteps(p.got, steps) })
				wg.Wait()
				d := compareOutcomes(steps, refOut, gotOut, p.ref, p.got)
				if os.Getenv("COMPAT_DUMP") != "" {
					dumpOutcomes(t, c.name, proto, p.target, steps, refOut)
				}
				results = append(results, compatResult{c.name, proto, p.target, d})
			}
		}
	}
	mismatches = report(t, len(cases), results)
}

// withPreamble prepends the protocol switch and authentication to the
// case's steps and appends a final PING, which catches a server that sends
// more replies than it should or closed the connection.
func withPreamble(c compatCase, proto, target string) []step {
	var steps []step
	if !c.raw {
		switch {
		case proto == "RESP3" && target == "auth":
			steps = append(steps, st("HELLO", "3", "AUTH", "default", "{pw}").with(helloRules))
		case proto == "RESP3":
			steps = append(steps, st("HELLO", "3").with(helloRules))
		case target == "auth":
			steps = append(steps, st("AUTH", "{pw}"))
		}
	}
	steps = append(steps, c.steps...)
	return append(steps, st("PING"))
}

// dumpOutcomes logs the reference's replies of one case (COMPAT_DUMP=1),
// to see what the candidate has to produce.
func dumpOutcomes(t *testing.T, name, proto, target string, steps []step, outs []outcome) {
	var b strings.Builder
	for _, o := range outs {
		fmt.Fprintf(&b, "\n    %s -> %s", steps[o.step].label(), o.raw())
	}
	t.Logf("reference %s %s %s:%s", name, proto, target, b.String())
}

// report prints the rows that differ, the table and the summary line, fails
// on mismatches and returns their rows.
func report(t *testing.T, ncases int, results []compatResult) []string {
	t.Helper()
	var b strings.Builder
	var mismatches []string
	fmt.Fprintf(&b, "%-62s %-5s %-5s %s\n", "command", "proto", "auth", "result")
	for _, r := range results {
		status := "match"
		if r.diff != "" {
			status = "MISMATCH: " + r.diff
		}
		row := fmt.Sprintf("%-62s %-5s %-5s %s", clip(r.name, 62), r.proto, r.target, status)
		if r.diff != "" {
			mismatches = append(mismatches, row)
		}
		b.WriteString(row + "\n")
	}
	if len(mismatches) > 0 {
		// Before the table too: the table is long.
		t.Errorf("compat: %d of %d commands do not match the reference:\n%s", len(mismatches), len(results), strings.Join(mismatches, "\n"))
	}
	t.Logf("compatibility table (%d catalog entries):\n%s", ncases, b.String())
	t.Logf("compat: %d commands, %d matched", len(results), len(results)-len(mismatches))
	return mismatches
}
