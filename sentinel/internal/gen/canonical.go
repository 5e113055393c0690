package main

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
)

// node is a parsed RESP value that can be re-encoded after reordering the
// children of its aggregates.
type node struct {
	head []byte  // type line (for scalars: the whole value)
	str  string  // payload of a bulk or simple string
	kids []*node // children of an aggregate (a map's alternate key, value)
}

func parseNode(b []byte) (*node, int, error) {
	nl := bytes.Index(b, []byte("\r\n"))
	if nl < 1 {
		return nil, 0, fmt.Errorf("truncated value")
	}
	n := &node{head: b[:nl+2]}
	pos := nl + 2
	count, _ := strconv.Atoi(string(b[1:nl]))
	switch b[0] {
	case '$', '=', '!':
		if count >= 0 {
			if len(b) < pos+count+2 {
				return nil, 0, fmt.Errorf("truncated bulk")
			}
			n.str = string(b[pos : pos+count])
			pos += count + 2
			n.head = b[:pos]
		}
	case '+', '-', ':', ',', '_', '#', '(':
		n.str = string(b[1:nl])
	case '*', '~', '>', '%', '|':
		if b[0] == '%' || b[0] == '|' {
			count *= 2
		}
		for i := 0; i < count; i++ {
			kid, used, err := parseNode(b[pos:])
			if err != nil {
				return nil, 0, err
			}
			n.kids = append(n.kids, kid)
			pos += used
		}
	default:
		return nil, 0, fmt.Errorf("unknown type %q", b[0])
	}
	return n, pos, nil
}

func (n *node) bytes() []byte {
	out := slices.Clone(n.head)
	for _, k := range n.kids {
		out = append(out, k.bytes()...)
	}
	return out
}

// sortPairs orders a map (or RESP2 flat array of pairs) by key.
func sortPairs(n *node) {
	type pair struct{ k, v *node }
	var pairs []pair
	for i := 0; i+1 < len(n.kids); i += 2 {
		pairs = append(pairs, pair{n.kids[i], n.kids[i+1]})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.k.str < b.k.str:
			return -1
		case a.k.str > b.k.str:
			return 1
		}
		return 0
	})
	n.kids = n.kids[:0]
	for _, p := range pairs {
		n.kids = append(n.kids, p.k, p.v)
	}
}

// sortCommandInfo orders COMMAND by name, and each entry's subcommands.
func sortCommandInfo(n *node) {
	byName := func(a, b *node) int {
		switch {
		case a.kids[0].str < b.kids[0].str:
			return -1
		case a.kids[0].str > b.kids[0].str:
			return 1
		}
		return 0
	}
	slices.SortFunc(n.kids, byName)
	for _, entry := range n.kids {
		if len(entry.kids) > 9 {
			slices.SortFunc(entry.kids[9].kids, byName)
		}
	}
}

// sortCommandDocs orders COMMAND DOCS by name, and each "subcommands" map.
func sortCommandDocs(n *node) {
	sortPairs(n)
	for i := 1; i < len(n.kids); i += 2 {
		doc := n.kids[i]
		for j := 0; j+1 < len(doc.kids); j += 2 {
			if doc.kids[j].str == "subcommands" {
				sortPairs(doc.kids[j+1])
			}
		}
	}
}
