package node_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/monitor"
)

// unwritableConfig puts a directory where the config file was: every
// rewrite fails until the directory is removed.
func unwritableConfig(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestFailedRewriteIsWrittenAtClose: a change whose rewrite failed (the
// file could not be replaced) is still written when the sentinel closes,
// once the file can be. The failed rewrite cleared the pending change, and
// Close wrote nothing: the file kept the old setting.
func TestFailedRewriteIsWrittenAtClose(t *testing.T) {
	n, path := startTestNode(t, "")
	unwritableConfig(t, path)
	if err := n.Set("mymaster", []string{"quorum", "3"}); err == nil {
		t.Fatal("SENTINEL SET answered OK though its rewrite could not be written")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	n.Close()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("nothing written at Close: %v", err)
	}
	if !strings.Contains(string(text), "sentinel monitor mymaster 127.0.0.1 6399 3") {
		t.Fatalf("config written at Close:\n%s", text)
	}
}

// TestVoteNotSavedIsNotGiven: a vote for a peer's election that cannot be
// written to the config file is not given (the reply names the previous
// vote), and is not recorded either: once the file can be written, the
// next ask in that epoch gets it, saved. Given unsaved, it was lost with a
// restart, and the sentinel could vote again in that epoch for another.
func TestVoteNotSavedIsNotGiven(t *testing.T) {
	n, path := startTestNode(t, "")
	unwritableConfig(t, path)
	const x, y = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, 1, x); leader != "*" || epoch != 0 {
		t.Fatalf("vote that could not be saved: given to %s in epoch %d", leader, epoch)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, 1, y); leader != y || epoch != 1 {
		t.Fatalf("vote once the file is writable: %s in epoch %d, want %s in 1", leader, epoch, y)
	}
	text, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(text), "sentinel leader-epoch mymaster 1") {
		t.Fatalf("vote not saved (%v):\n%s", err, text)
	}
}

// TestHugeEpochIsNeitherAdoptedNorVoted: an is-master-down-by-addr with an
// epoch beyond a signed 64-bit integer ("-1", cast as redis casts it) gets
// no vote and leaves the current epoch alone; adopted, it wrapped the
// next failover's epoch to 0, and no later vote could be given.
func TestHugeEpochIsNeitherAdoptedNorVoted(t *testing.T) {
	n, _ := startTestNode(t, "")
	const x, y = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	for _, huge := range []uint64{math.MaxUint64, 1 << 63, monitor.MaxEpoch + 1} {
		if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, huge, x); leader != "*" || epoch != 0 {
			t.Fatalf("epoch %d: voted for %s in epoch %d", huge, leader, epoch)
		}
	}
	if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, 1, y); leader != y || epoch != 1 {
		t.Fatalf("vote in epoch 1 after it: %s in epoch %d, want %s in 1", leader, epoch, y)
	}
	// Refused again, the reply is the standing vote, as redis answers a
	// vote asked in an epoch it does not vote in.
	if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, math.MaxUint64, x); leader != y || epoch != 1 {
		t.Fatalf("a huge epoch after a vote: %s in epoch %d, want the standing vote %s in 1", leader, epoch, y)
	}
}

// TestStartKeepsTheFileItRead: a sentinel that starts from a file with its
// id and non-zero epochs leaves the file as it was, as redis-sentinel does
// (it rewrites at its start only to save a new id). Applying the file's own
// current epoch requested a rewrite, and every restart of a sentinel that
// had seen a failover turned a hand-written file into a generated one
// (config differential review). The known replicas are listed in an order
// other than the monitor's, which must not count as a change either. A
// change of the state after the start is still written.
func TestStartKeepsTheFileItRead(t *testing.T) {
	const extra = "sentinel down-after-milliseconds mymaster 5000\n" +
		"sentinel config-epoch mymaster 3\n" +
		"sentinel leader-epoch mymaster 3\n" +
		"sentinel known-replica mymaster 127.0.0.1 6401\n" +
		"sentinel known-replica mymaster 127.0.0.1 6400\n" +
		"sentinel known-sentinel mymaster 127.0.0.1 26380 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n" +
		"sentinel myid aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" +
		"sentinel current-epoch 3\n"
	n, path := startTestNode(t, extra)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n.Close() // writes what is pending
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the start rewrote the file\n--- read\n%s--- left\n%s", before, after)
	}

	n, path = startTestNode(t, extra)
	const x = "1111111111111111111111111111111111111111"
	if _, leader, epoch := n.IsMasterDownByAddr("127.0.0.1", 6399, 4, x); leader != x || epoch != 4 {
		t.Fatalf("vote in epoch 4: %s in %d", leader, epoch)
	}
	n.Close()
	text, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(text), "sentinel current-epoch 4\n") || !strings.Contains(string(text), "sentinel leader-epoch mymaster 4\n") {
		t.Fatalf("the new epoch and vote were not written (%v):\n%s", err, text)
	}
}

// TestParallelSyncsZeroIsKept: `parallel-syncs m 0` in the file stays 0,
// shown and written back, as redis-sentinel keeps it (it reads the line
// with atoi and checks nothing; only SET refuses 0). It was taken for unset
// and made 1, and the line went at the next rewrite.
func TestParallelSyncsZeroIsKept(t *testing.T) {
	n, path := startTestNode(t, "sentinel parallel-syncs mymaster 0\n")
	if err := n.FlushConfig(); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(text), "sentinel parallel-syncs mymaster 0\n") {
		t.Fatalf("parallel-syncs 0 not written back (%v):\n%s", err, text)
	}
	n, path = startTestNode(t, "")
	if err := n.FlushConfig(); err != nil {
		t.Fatal(err)
	}
	if text, err := os.ReadFile(path); err != nil || strings.Contains(string(text), "parallel-syncs") {
		t.Fatalf("the default parallel-syncs (1) was written (%v):\n%s", err, text)
	}
}
