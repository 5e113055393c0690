package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
)

// raftInfo polls INFO raft on n until want holds for its fields, failing
// the test after 10 s with the last fields seen.
func raftInfo(t *testing.T, n *node.Node, want func(map[string]string) bool) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: n.Addr().String(), Protocol: 2})
	defer c.Close()
	var fields map[string]string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s, err := c.Info(context.Background(), "raft").Result()
		if err != nil {
			continue
		}
		fields = map[string]string{}
		for _, l := range strings.Split(s, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				fields[k] = v
			}
		}
		if want(fields) {
			return
		}
	}
	t.Fatalf("INFO raft never as wanted; last: %v", fields)
}

// TestClusterSizeFromConfigFile: `sentinel cluster-size` in sentinel.conf
// is the set's expected size (the deploy's start script writes it), so a
// lone sentinel with cluster-size 1 forms its group although its quorum of
// 2 alone would derive 3.
func TestClusterSizeFromConfigFile(t *testing.T) {
	n, _ := startTestNode(t, "sentinel cluster-size 1\n")
	raftInfo(t, n, func(f map[string]string) bool {
		return f["raft_expected_sentinels"] == "1" && f["raft_expected_source"] == "directive" && f["raft_state"] == "leader"
	})
}

// TestClusterSettingsEnvironmentWins: where a setting has both forms, the
// environment variable wins over sentinel.conf, as `gosentinel --help`
// says.
func TestClusterSettingsEnvironmentWins(t *testing.T) {
	t.Setenv(config.EnvClusterSize, "5")
	n, _ := startTestNode(t, "sentinel cluster-size 1\n")
	raftInfo(t, n, func(f map[string]string) bool {
		return f["raft_expected_sentinels"] == "5" && f["raft_expected_source"] == "env"
	})
}
