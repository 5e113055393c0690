package config

import (
	"fmt"
	"strings"
	"testing"
)

// moduleConfigLines returns n module-config lines (any name with a dot is
// one) whose names are long and not ASCII, the shape the fuzzer found.
func moduleConfigLines(n int) []byte {
	var b strings.Builder
	b.WriteString("sentinel monitor m 127.0.0.1 6379 2\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "l%d%s.z 0\n", i, strings.Repeat("\xc4", 4000))
	}
	return []byte(b.String())
}

// TestRewriteCostIsPerLine pins the cost of a rewrite to the lines it
// writes. The rewrite visits every standard config (about 200) and looks
// through the kept lines for each; it used to lower-case every kept name on
// every visit, so each such line cost one allocation and a pass over its name
// per standard config. FuzzParse found a 4 KB name that took 13 ms to render
// (about 250 ms under the fuzzer's instrumentation), and minimizing it stalled
// `make fuzz` for four minutes in CI (cc111). Counted in allocations, which
// are deterministic, rather than in time.
func TestRewriteCostIsPerLine(t *testing.T) {
	allocs := func(n int) float64 {
		data := moduleConfigLines(n)
		c, err := Parse("cost.conf", data, nil)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		return testing.AllocsPerRun(5, func() { Render(c, data) })
	}
	const lines = 20
	perLine := (allocs(lines) - allocs(0)) / lines
	if perLine > float64(len(standardConfigs))/4 {
		t.Fatalf("a module-config line costs %.0f allocations per rewrite (%d standard configs): the rewrite works on each kept line once per standard config", perLine, len(standardConfigs))
	}
	t.Logf("%.1f allocations per module-config line per rewrite", perLine)
}

func BenchmarkRenderLongModuleConfigNames(b *testing.B) {
	data := moduleConfigLines(20)
	c, err := Parse("cost.conf", data, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Render(c, data)
	}
}
