package node_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/node"
	"github.com/x0tta6bl4/gosentinel/quorum"
)

// optionSample is a value of o other than its default, valid for both
// sentinel.conf and SENTINEL SET. The test fails for a kind it does not
// know, so that a new kind of option gets a sample here.
func optionSample(t *testing.T, o *quorum.Option) []string {
	t.Helper()
	switch o.Kind {
	case quorum.OptMillis:
		return []string{"4321"}
	case quorum.OptMillisOrZero:
		return []string{"9876"}
	case quorum.OptCount:
		return []string{"3"}
	case quorum.OptScript:
		p := filepath.Join(t.TempDir(), "script.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return []string{p}
	case quorum.OptString:
		return []string{"alice"}
	case quorum.OptSecret:
		return []string{"s3cret"}
	case quorum.OptRename:
		return []string{"CONFIG", "MYCONFIG"}
	}
	t.Fatalf("option %s: no sample for kind %d", o.Name, o.Kind)
	return nil
}

// TestOptionsRoundTrip takes every row of quorum.Options through the four
// places that read the table: the config parser (a sentinel.conf line),
// SENTINEL SET (which applies it with the FSM's rule), the FSM (an OpSet
// command) and the config rewrite (SET's flush, loaded back).
func TestOptionsRoundTrip(t *testing.T) {
	for i := range quorum.Options {
		o := &quorum.Options[i]
		t.Run(o.Name, func(t *testing.T) {
			v := optionSample(t, o)
			const name = "mymaster"
			has := func(s *quorum.Settings) bool {
				return slices.ContainsFunc(o.Values(s), func(got []string) bool { return slices.Equal(got, v) })
			}

			// The FSM.
			fsm := quorum.NewFSM(nil)
			if err := fsm.Apply(&quorum.Command{Op: quorum.OpMonitor, At: 1, Master: &quorum.Master{Name: name,
				Addr: quorum.Addr{Host: "127.0.0.1", Port: 6399}, Settings: quorum.Settings{Quorum: 2}}}); err != nil {
				t.Fatal(err)
			}
			rev := fsm.Revision()
			if err := fsm.Apply(&quorum.Command{Op: quorum.OpSet, At: 2, Name: name,
				Params: []quorum.Param{{Key: o.Name, Value: v}}}); err != nil {
				t.Fatalf("FSM: %v", err)
			}
			if fsm.Revision() == rev {
				t.Errorf("FSM: OpSet %s left the revision unchanged", o.Name)
			}
			m, _ := fsm.Master(name)
			if !has(&m.Settings) {
				t.Errorf("FSM: %s is %v after OpSet %v", o.Name, o.Values(&m.Settings), v)
			}

			// SENTINEL SET, then the rewrite it flushes, loaded back.
			n, path := startTestNode(t, "sentinel deny-scripts-reconfig no\n")
			view := node.EngineView(n)
			before := view.Revision()
			if err := n.Set(name, append([]string{strings.ToUpper(o.Name)}, v...)); err != nil {
				t.Fatalf("SENTINEL SET: %v", err)
			}
			// The failover engine keeps its copies of the masters while the
			// view's revision holds.
			if view.Revision() == before {
				t.Errorf("SENTINEL SET %s left the failover engine's view revision unchanged", o.Name)
			}
			if m, ok := view.Master(name); !ok || !has(&m.Settings) {
				t.Errorf("the failover engine's view misses SET %s %v", o.Name, v)
			}
			cfg, err := config.Load(path, nil)
			if err != nil {
				t.Fatalf("loading the rewritten file: %v", err)
			}
			if m := cfg.Master(name); m == nil || !has(&m.Settings) {
				b, _ := os.ReadFile(path)
				t.Errorf("SET %s %v did not come back from the rewritten file:\n%s", o.Name, v, b)
			}

			if !o.Directive {
				return
			}
			// The config parser, and the rewrite of what it read.
			line := "sentinel " + o.Name + " " + name + " " + strings.Join(v, " ")
			text := "sentinel monitor " + name + " 127.0.0.1 6399 2\n" + line + "\n"
			cfg, err = config.Parse("test.conf", []byte(text), nil)
			if err != nil {
				t.Fatalf("parsing %q: %v", line, err)
			}
			if !has(&cfg.Master(name).Settings) {
				t.Errorf("parser: %s is %v after %q", o.Name, o.Values(&cfg.Master(name).Settings), line)
			}
			if out := string(config.Render(cfg, []byte(text))); !strings.Contains(out, "\n"+line+"\n") {
				t.Errorf("rewrite lost %q:\n%s", line, out)
			}
		})
	}
}
