package node_test

import (
	"os"
	"strings"
	"testing"
)

// TestFailedRewriteIsWrittenAtClose: a change whose rewrite failed (the
// file could not be replaced) is still written when the sentinel closes,
// once the file can be. The failed rewrite cleared the pending change, and
// Close wrote nothing: the file kept the old setting.
func TestFailedRewriteIsWrittenAtClose(t *testing.T) {
	n, path := startTestNode(t, "")
	// A directory where the file was: the rewrite fails.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
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
