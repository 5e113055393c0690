package fakefleet

import (
	"path"
	"slices"
	"strings"
)

// configDefaults are the parameters CONFIG GET answers, with redis
// 7.0.15's defaults for a server started without a config file: the ones
// a sentinel reads or sets on a master (gosentinel's write fence reads
// min-replicas-to-write and min-replicas-max-lag, one CONFIG GET each),
// and a few that tools commonly ask.
var configDefaults = map[string]string{
	"min-replicas-to-write": "0",
	"min-replicas-max-lag":  "10",
	"replica-priority":      "100",
	"replica-read-only":     "yes",
	"replica-announced":     "yes",
	"masterauth":            "",
	"masteruser":            "",
	"maxmemory":             "0",
	"appendonly":            "no",
	"save":                  "3600 1 300 100 60 10000",
	"port":                  "6379",
	"bind":                  "* -::*",
	"protected-mode":        "yes",
	"databases":             "16",
	"timeout":               "0",
	"repl-diskless-sync":    "yes",
}

// configGet is CONFIG GET with one or more glob patterns: name, value
// pairs, each parameter once, in name order. A pattern without a glob
// character is looked up as is and named as given, as redis 7.0 does.
func (m *master) configGet(patterns []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(patterns) == 1 && !strings.ContainsAny(patterns[0], "*?[") {
		if v, ok := m.config[strings.ToLower(patterns[0])]; ok {
			return []string{patterns[0], v}
		}
		return nil
	}
	var names []string
	for name := range m.config {
		for _, p := range patterns {
			if ok, _ := path.Match(strings.ToLower(p), name); ok {
				names = append(names, name)
				break
			}
		}
	}
	slices.Sort(names)
	out := make([]string, 0, 2*len(names))
	for _, n := range names {
		out = append(out, n, m.config[n])
	}
	return out
}

// configSet is CONFIG SET with name value pairs: all or nothing; it
// returns the first unknown parameter, "" if it set them all.
func (m *master) configSet(kv []string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < len(kv); i += 2 {
		if _, ok := m.config[strings.ToLower(kv[i])]; !ok {
			return kv[i]
		}
	}
	for i := 0; i < len(kv); i += 2 {
		m.config[strings.ToLower(kv[i])] = kv[i+1]
	}
	return ""
}
