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

// BenchmarkMasters is the backend's part of SENTINEL MASTERS (issue 12),
// written straight to the reply as the command surface does (a writer
// that only counts here): one master, as redis_exporter and the Bitnami
// chart's scripts ask it.
func BenchmarkMasters(b *testing.B) {
	n, _ := startTestNode(b, "")
	var w countingWriter
	n.RenderMasters(&w)
	if w.maps != 1 || w.fields < 20 {
		b.Fatalf("RenderMasters wrote %d maps, %d fields", w.maps, w.fields)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n.RenderMasters(&w)
	}
}

// countingWriter is a sentinel.MapWriter that counts what it is given.
type countingWriter struct{ maps, fields int }

func (w *countingWriter) Len(int)            { w.maps, w.fields = 0, 0 }
func (w *countingWriter) Str(string, string) { w.fields++ }
func (w *countingWriter) Int(string, int64)  { w.fields++ }
func (w *countingWriter) End()               { w.maps++ }
