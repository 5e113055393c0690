package sentinel

import (
	"slices"
	"strconv"
	"testing"
)

// TestOrderedSet keeps a model slice beside the set through adds and
// removals (compactions included) and compares the two after every step.
func TestOrderedSet(t *testing.T) {
	var o orderedSet
	var model []string
	check := func(step string) {
		t.Helper()
		if got := o.list(); !slices.Equal(got, model) && !(len(got) == 0 && len(model) == 0) {
			t.Fatalf("%s: list %q, want %q", step, got, model)
		}
		if o.len() != len(model) {
			t.Fatalf("%s: len %d, want %d", step, o.len(), len(model))
		}
		var each []string
		o.each(func(s string) { each = append(each, s) })
		if !slices.Equal(each, o.list()) {
			t.Fatalf("%s: each %q, list %q", step, each, o.list())
		}
	}
	if !o.add("") || o.add("") || !o.has("") {
		t.Fatal("the empty name is a name")
	}
	model = append(model, "")
	check("empty name")
	for i := range 100 {
		name := strconv.Itoa(i)
		if !o.add(name) {
			t.Fatalf("add %s: not new", name)
		}
		model = append(model, name)
	}
	check("adds")
	// Remove every other one, then most of the rest: compactions run.
	for i := 0; i < 100; i += 2 {
		name := strconv.Itoa(i)
		if !o.remove(name) || o.remove(name) || o.has(name) {
			t.Fatalf("remove %s", name)
		}
		model = slices.DeleteFunc(model, func(s string) bool { return s == name })
		check("remove " + name)
	}
	// A removed name added again goes to the end.
	o.add("4")
	model = append(model, "4")
	check("re-add")
	for _, name := range slices.Clone(model) {
		o.remove(name)
		model = model[1:]
		check("drain " + name)
	}
	if o.entries != nil || o.holes != 0 {
		t.Fatalf("an empty set keeps %d entries, %d holes", len(o.entries), o.holes)
	}
}

// BenchmarkDropManyChannels is a client with 100,000 channels dropping
// them as it disconnects, under the lock every publisher takes: 35 s with
// the subscriptions kept in slices searched and shifted at each removal.
func BenchmarkDropManyChannels(b *testing.B) {
	const n = 100000
	names := make([]string, n)
	for i := range names {
		names[i] = "ch" + strconv.Itoa(i)
	}
	for b.Loop() {
		s := &Server{channels: map[string][]*client{}, patterns: map[string][]*client{}}
		c := &client{srv: s}
		for _, ch := range names {
			s.subscribeLocked(c, ch)
		}
		s.unsubscribeAllLocked(c)
		if len(s.channels) != 0 || c.subscriptions() != 0 {
			b.Fatal("subscriptions left")
		}
	}
}
