package sentinel

// orderedSet is a set of names that keeps the order they were added in,
// with add, remove and lookup in constant time: a client's channels and
// patterns, and the server's patterns. A removal leaves a hole, squeezed
// out once the holes are half the entries (amortised constant). Kept in
// slices searched and shifted at every removal, a client that held 100,000
// channels took 35 s to drop them when it disconnected (200,000: 114 s),
// under the lock every publisher takes: the node's events, a failover's
// among them, waited that long (hostile-input review).
type orderedSet struct {
	pos     map[string]int // name -> index in entries
	entries []orderedEntry
	holes   int
}

type orderedEntry struct {
	name string
	live bool
}

func (o *orderedSet) len() int { return len(o.pos) }

func (o *orderedSet) has(name string) bool {
	_, ok := o.pos[name]
	return ok
}

// add appends name; it reports whether name is new.
func (o *orderedSet) add(name string) bool {
	if _, ok := o.pos[name]; ok {
		return false
	}
	if o.pos == nil {
		o.pos = map[string]int{}
	}
	o.pos[name] = len(o.entries)
	o.entries = append(o.entries, orderedEntry{name: name, live: true})
	return true
}

// remove drops name; it reports whether it was there.
func (o *orderedSet) remove(name string) bool {
	i, ok := o.pos[name]
	if !ok {
		return false
	}
	delete(o.pos, name)
	o.entries[i] = orderedEntry{}
	o.holes++
	if len(o.pos) == 0 {
		o.entries, o.holes = nil, 0
	} else if o.holes > len(o.entries)/2 {
		o.compact()
	}
	return true
}

func (o *orderedSet) compact() {
	kept := o.entries[:0]
	for _, e := range o.entries {
		if e.live {
			o.pos[e.name] = len(kept)
			kept = append(kept, e)
		}
	}
	clear(o.entries[len(kept):]) // let the dropped names go
	o.entries, o.holes = kept, 0
}

// list returns the names in the order they were added.
func (o *orderedSet) list() []string {
	out := make([]string, 0, len(o.pos))
	for _, e := range o.entries {
		if e.live {
			out = append(out, e.name)
		}
	}
	return out
}

// each calls f with every name in the order they were added; f must not
// change the set.
func (o *orderedSet) each(f func(string)) {
	for _, e := range o.entries {
		if e.live {
			f(e.name)
		}
	}
}
