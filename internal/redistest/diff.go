package redistest

import (
	"fmt"
	"strconv"
	"strings"
)

// Check decides whether two reply nodes that a Rule relaxes are acceptable;
// it returns "" if so, else a description of the difference.
type Check func(ref, got *Reply) string

// Rule relaxes Diff at the nodes its Path matches. Rules are the only way a
// comparison tolerates a difference, so each one should say why (Why is
// documentation for readers of the catalog; Diff does not use it).
type Rule struct {
	// Path is a "/"-separated list of segments from the root of the reply.
	// A segment matches an element by index ("0", "3"), a map value by its
	// key ("runid"; also in RESP2 flat key/value arrays, where the value at
	// odd index i is keyed by the text at i-1), or anything ("*"). The
	// empty path matches the root.
	Path  string
	Check Check
	Why   string
}

// DiffOptions tunes Diff.
type DiffOptions struct {
	// Rules relax the comparison; the first rule whose path matches a node
	// decides for that node and everything below it.
	Rules []Rule
	// RefTokens and GotTokens replace whole words (maximal runs of ASCII
	// letters and digits) in every text of the reference and candidate reply
	// before comparing, e.g. port "30001" -> "<master-port>". This is how
	// values that must differ between two deployments (ports, ids) are made
	// comparable without masking them.
	RefTokens, GotTokens map[string]string
}

// Diff compares a reference reply with a candidate reply: same kinds and
// wire types at every node, same map keys in the same order, same lengths,
// same texts and numbers, except where opts.Rules relax it. It returns ""
// when they match, else the first difference with its path.
func Diff(ref, got *Reply, opts DiffOptions) string {
	ref = Substitute(ref, opts.RefTokens)
	got = Substitute(got, opts.GotTokens)
	d := differ{rules: opts.Rules}
	return d.diff(ref, got, nil)
}

// Substitute returns a deep copy of r with whole words replaced in every
// text (see DiffOptions.RefTokens). A nil or empty table returns r itself.
func Substitute(r *Reply, tokens map[string]string) *Reply {
	if r == nil || len(tokens) == 0 {
		return r
	}
	c := *r
	c.Str = ReplaceWords(r.Str, tokens)
	c.Attr = Substitute(r.Attr, tokens)
	if r.Elems != nil {
		c.Elems = make([]*Reply, len(r.Elems))
		for i, e := range r.Elems {
			c.Elems[i] = Substitute(e, tokens)
		}
	}
	return &c
}

// ReplaceWords replaces every maximal run of ASCII letters and digits that
// is a key of tokens by its value.
func ReplaceWords(s string, tokens map[string]string) string {
	if len(tokens) == 0 || s == "" {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		if !isWordByte(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		w := s[i:j]
		if r, ok := tokens[w]; ok {
			w = r
		}
		b.WriteString(w)
		i = j
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// seg is one step of a node's path: its index among its siblings and, for
// map values (RESP3 maps and RESP2 flat key/value arrays), its key.
type seg struct {
	idx    int
	key    string
	hasKey bool
}

func (s seg) String() string {
	if s.hasKey {
		return s.key
	}
	return strconv.Itoa(s.idx)
}

func pathString(p []seg) string {
	if len(p) == 0 {
		return "/"
	}
	var parts []string
	for _, s := range p {
		parts = append(parts, s.String())
	}
	return "/" + strings.Join(parts, "/")
}

func (r Rule) matches(p []seg) bool {
	pattern := strings.Trim(r.Path, "/")
	var pats []string
	if pattern != "" {
		pats = strings.Split(pattern, "/")
	}
	if len(pats) != len(p) {
		return false
	}
	for i, pat := range pats {
		s := p[i]
		if pat == "*" || pat == strconv.Itoa(s.idx) || s.hasKey && pat == s.key {
			continue
		}
		return false
	}
	return true
}

type differ struct{ rules []Rule }

func (d differ) diff(ref, got *Reply, p []seg) string {
	for _, r := range d.rules {
		if r.matches(p) {
			if msg := r.Check(ref, got); msg != "" {
				return fmt.Sprintf("at %s: %s", pathString(p), msg)
			}
			return ""
		}
	}
	if ref == nil || got == nil {
		if ref == got {
			return ""
		}
		return fmt.Sprintf("at %s: ref %s got %s", pathString(p), Short(ref), Short(got))
	}
	if ref.Kind != got.Kind || ref.Type != got.Type {
		return fmt.Sprintf("at %s: type: ref %s got %s", pathString(p), Short(ref), Short(got))
	}
	if (ref.Attr == nil) != (got.Attr == nil) {
		return fmt.Sprintf("at %s: attribute: ref %s got %s", pathString(p), Short(ref.Attr), Short(got.Attr))
	}
	if !ref.IsAggregate() {
		if ref.Str != got.Str || ref.Int != got.Int || ref.Bool != got.Bool || ref.Format != got.Format {
			return fmt.Sprintf("at %s: value: ref %s got %s", pathString(p), Short(ref), Short(got))
		}
		return ""
	}
	if len(ref.Elems) != len(got.Elems) {
		return fmt.Sprintf("at %s: length: ref %d got %d (ref %s got %s)", pathString(p), len(ref.Elems), len(got.Elems), Short(ref), Short(got))
	}
	isMap := ref.Kind == KindMap || ref.Kind == KindAttribute
	if isMap {
		// Keys first, so a reordering is reported as such. Rules never
		// apply to keys: key names and order must always match.
		for i := 0; i < len(ref.Elems); i += 2 {
			if m := (differ{}).diff(ref.Elems[i], got.Elems[i], append(p, seg{idx: i / 2})); m != "" {
				return fmt.Sprintf("key #%d: %s (ref keys %v, got keys %v)", i/2, m, ref.Keys(), got.Keys())
			}
		}
		for i := 1; i < len(ref.Elems); i += 2 {
			s := seg{idx: i / 2, key: ref.Elems[i-1].Text(), hasKey: true}
			if m := d.diff(ref.Elems[i], got.Elems[i], append(p, s)); m != "" {
				return m
			}
		}
		return ""
	}
	for i := range ref.Elems {
		s := seg{idx: i}
		if i%2 == 1 && isScalarText(ref.Elems[i-1]) {
			s.key, s.hasKey = ref.Elems[i-1].Text(), true
		}
		if m := d.diff(ref.Elems[i], got.Elems[i], append(p, s)); m != "" {
			return m
		}
	}
	return ""
}

func isScalarText(r *Reply) bool { return r.Kind == KindBulk || r.Kind == KindStatus }

// Short renders a reply for messages, cut to a readable length.
func Short(r *Reply) string {
	if r == nil {
		return "<none>"
	}
	s := r.String()
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// AnyValue accepts any value of the same reply kind (and, for aggregates,
// anything inside).
func AnyValue(ref, got *Reply) string {
	if ref.Kind != got.Kind || ref.Type != got.Type {
		return fmt.Sprintf("type: ref %s got %s", Short(ref), Short(got))
	}
	return ""
}

// AnyInt accepts any integer of the same kind: an int reply, or a bulk or
// status whose text is a decimal integer on both sides.
func AnyInt(ref, got *Reply) string {
	if m := AnyValue(ref, got); m != "" {
		return m
	}
	if ref.Kind == KindInt {
		return ""
	}
	if _, err := strconv.ParseInt(ref.Str, 10, 64); err != nil {
		return fmt.Sprintf("reference %s is not an integer (rule misapplied)", Short(ref))
	}
	if _, err := strconv.ParseInt(got.Str, 10, 64); err != nil {
		return fmt.Sprintf("not an integer: ref %s got %s", Short(ref), Short(got))
	}
	return ""
}

// Unordered compares two aggregates of the same kind and length as
// multisets: each reference element (each key/value pair for RESP3 maps)
// must match a distinct candidate element under rules (paths relative to the
// element; for map pairs, to the pair as a 2-element array [key, value]).
func Unordered(rules ...Rule) Check { return unordered(false, rules) }

// UnorderedPairs is Unordered for maps that may come as RESP2 flat
// key/value arrays: elements are always matched as [key, value] pairs.
func UnorderedPairs(rules ...Rule) Check { return unordered(true, rules) }

func unordered(pairs bool, rules []Rule) Check {
	return func(ref, got *Reply) string {
		if !ref.IsAggregate() || !got.IsAggregate() {
			return Diff(ref, got, DiffOptions{})
		}
		if m := AnyValue(ref, got); m != "" {
			return m
		}
		if len(ref.Elems) != len(got.Elems) {
			return fmt.Sprintf("length: ref %d got %d", len(ref.Elems), len(got.Elems))
		}
		width := 1
		if pairs || ref.Kind == KindMap || ref.Kind == KindAttribute {
			width = 2
		}
		if len(ref.Elems)%width != 0 {
			return fmt.Sprintf("odd length %d for a key/value aggregate", len(ref.Elems))
		}
		group := func(r *Reply, i int) *Reply {
			if width == 1 {
				return r.Elems[i]
			}
			return &Reply{Kind: KindArray, Type: '*', Elems: r.Elems[i : i+2]}
		}
		used := make([]bool, len(got.Elems))
		for i := 0; i < len(ref.Elems); i += width {
			a := group(ref, i)
			found := false
			for j := 0; j < len(got.Elems); j += width {
				if used[j] {
					continue
				}
				if Diff(a, group(got, j), DiffOptions{Rules: rules}) == "" {
					used[j], found = true, true
					break
				}
			}
			if !found {
				return fmt.Sprintf("reference element %s has no match in candidate", Short(a))
			}
		}
		return ""
	}
}
