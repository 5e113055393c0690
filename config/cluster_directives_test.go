package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestClusterDirectivesRoundTrip(t *testing.T) {
	src := "port 26379\nsentinel cluster-peers 10.1.0.1:26379 10.1.0.2:26379\nsentinel cluster-secret s3cret\nsentinel cluster-size 5\nsentinel monitor m 127.0.0.1 6379 2\n"
	c, err := Parse("x.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.ClusterPeers, []string{"10.1.0.1:26379", "10.1.0.2:26379"}) || c.ClusterSecret != "s3cret" || c.ClusterSize != 5 {
		t.Fatalf("parsed peers %v secret %q", c.ClusterPeers, c.ClusterSecret)
	}
	out := string(Render(c, []byte(src)))
	if !strings.Contains(out, "sentinel cluster-peers 10.1.0.1:26379 10.1.0.2:26379\n") || !strings.Contains(out, "sentinel cluster-secret s3cret\n") ||
		!strings.Contains(out, "sentinel cluster-size 5\n") {
		t.Fatalf("rewrite lost the directives:\n%s", out)
	}
	c2, err := Parse("x.conf", []byte(out), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c2.ClusterPeers, c.ClusterPeers) || c2.ClusterSecret != c.ClusterSecret || c2.ClusterSize != 5 {
		t.Fatalf("round trip: %v %q", c2.ClusterPeers, c2.ClusterSecret)
	}
	if _, err := Parse("x.conf", []byte("sentinel cluster-peers\n"), nil); err == nil {
		t.Fatal("cluster-peers without an address accepted")
	}
	// A seed that can never be dialed is refused, naming it: the comma
	// form of GOSENTINEL_PEERS, no port, a bad port, no host.
	for _, bad := range []string{"a:1,b:2", "10.0.0.2", "s-0:0", "s-0:65536", "s-0:x", ":26379", "[::1"} {
		_, err := Parse("x.conf", []byte("sentinel cluster-peers 10.0.0.1:26379 "+bad+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "line 1: cluster-peers takes host:port addresses") || !strings.Contains(err.Error(), bad) {
			t.Errorf("cluster-peers %s: %v", bad, err)
		}
	}
	if c, err := Parse("x.conf", []byte("sentinel cluster-peers [::1]:26379 s-0.svc:1 10.0.0.1:65535\n"), nil); err != nil || len(c.ClusterPeers) != 3 {
		t.Errorf("good cluster-peers: %v", err)
	}
	for _, bad := range []string{"0", "-1", "three"} {
		_, err := Parse("x.conf", []byte("sentinel cluster-size "+bad+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "cluster-size must be a number of sentinels") {
			t.Errorf("cluster-size %s: %v", bad, err)
		}
	}
	// A wrong number of arguments is redis' usual verdict.
	if _, err := Parse("x.conf", []byte("sentinel cluster-size 3 4\n"), nil); err == nil || !strings.Contains(err.Error(), "line 1: Unrecognized sentinel configuration statement.") {
		t.Errorf("cluster-size 3 4: %v", err)
	}
}

// TestEpochsBeyondTheLargestAreRefused: a config file with an epoch
// beyond monitor.MaxEpoch (a redis-sentinel's file written after it read
// a forged "-1" as 2^64-1) is refused, naming the line; loaded, it would
// wrap the next failover's epoch.
func TestEpochsBeyondTheLargestAreRefused(t *testing.T) {
	const monitorLine = "sentinel monitor m 127.0.0.1 6379 2\n"
	for _, line := range []string{
		"sentinel current-epoch 18446744073709551615\n",
		monitorLine + "sentinel config-epoch m 9223372036854775808\n",
		monitorLine + "sentinel leader-epoch m 4611686018427387905\n",
	} {
		_, err := Parse("x.conf", []byte(line), nil)
		if err == nil || !strings.Contains(err.Error(), "Epoch beyond 2^62") {
			t.Errorf("%q: %v", line, err)
		}
	}
	if c, err := Parse("x.conf", []byte(monitorLine+"sentinel current-epoch 4611686018427387904\nsentinel config-epoch m 7\n"), nil); err != nil || c.CurrentEpoch != 1<<62 {
		t.Errorf("the largest epoch: %v", err)
	}
}
