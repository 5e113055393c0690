package node_test

import (
	"testing"
)

// BenchmarkMasterAddr is the backend's part of SENTINEL
// GET-MASTER-ADDR-BY-NAME (issue 12): a running sentinel alone, one
// master, callers on every core.
func BenchmarkMasterAddr(b *testing.B) {
	n, _ := startTestNode(b, "")
	if host, port, ok := n.MasterAddr("mymaster"); !ok || host != "127.0.0.1" || port != "6399" {
		b.Fatalf("MasterAddr = %q, %q, %v", host, port, ok)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, ok := n.MasterAddr("mymaster"); !ok {
				b.Error("no address")
				return
			}
		}
	})
}
