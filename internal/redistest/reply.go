package redistest

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the RESP type of a reply node.
type Kind int

// Reply kinds. RESP2 has status, error, int, bulk, array and the two nulls;
// the others are RESP3.
const (
	KindStatus    Kind = iota + 1 // +text
	KindError                     // -text
	KindInt                       // :n
	KindBulk                      // $n text
	KindNull                      // $-1, *-1 (RESP2) or _ (RESP3); Type tells which
	KindArray                     // *n
	KindMap                       // %n, key and value pairs
	KindSet                       // ~n
	KindPush                      // >n
	KindDouble                    // ,d
	KindBool                      // #t / #f
	KindVerbatim                  // =n fmt:text
	KindBigNum                    // (n
	KindBlobError                 // !n text
	KindAttribute                 // |n; only as Reply.Attr of the next reply
)

var kindNames = map[Kind]string{
	KindStatus: "status", KindError: "error", KindInt: "int", KindBulk: "bulk",
	KindNull: "null", KindArray: "array", KindMap: "map", KindSet: "set",
	KindPush: "push", KindDouble: "double", KindBool: "bool",
	KindVerbatim: "verbatim", KindBigNum: "bignum", KindBlobError: "blob-error",
	KindAttribute: "attribute",
}

// String returns the kind's lower-case name, e.g. "bulk".
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Reply is one parsed RESP reply: a tree that keeps the wire type of every
// node, map key order and the exact bytes it was read from.
type Reply struct {
	// Kind is the reply type.
	Kind Kind
	// Type is the first byte on the wire. It tells the RESP2 null bulk ($)
	// from the RESP2 null array (*) and the RESP3 null (_).
	Type byte
	// Str is the text of status, error, blob error, bulk, verbatim (without
	// the "fmt:" prefix), double and bignum replies.
	Str string
	// Format is the three-letter format of a verbatim string, e.g. "txt".
	Format string
	// Int is the value of an int reply.
	Int int64
	// Bool is the value of a bool reply.
	Bool bool
	// Elems holds the children of array, set and push replies; for maps
	// (and attributes) keys and values alternate in wire order.
	Elems []*Reply
	// Attr is a RESP3 attribute that preceded this reply, if any.
	Attr *Reply
	// Raw is the exact bytes of this reply (including an attribute).
	Raw []byte
}

// IsAggregate tells whether the reply has children.
func (r *Reply) IsAggregate() bool {
	switch r.Kind {
	case KindArray, KindMap, KindSet, KindPush, KindAttribute:
		return true
	}
	return false
}

// IsError tells whether the reply is an error (simple or blob).
func (r *Reply) IsError() bool { return r.Kind == KindError || r.Kind == KindBlobError }

// Err returns the reply as a Go error if it is an error reply, else nil.
func (r *Reply) Err() error {
	if r.IsError() {
		return ReplyError(r.Str)
	}
	return nil
}

// ReplyError is an error reply from the server; the text has no leading '-'.
type ReplyError string

// Error returns the error text as the server sent it.
func (e ReplyError) Error() string { return string(e) }

// Text returns the reply as a string: the text of string-like replies and the
// decimal value of ints. Aggregates and nulls give "".
func (r *Reply) Text() string {
	switch r.Kind {
	case KindInt:
		return strconv.FormatInt(r.Int, 10)
	case KindBool:
		if r.Bool {
			return "1"
		}
		return "0"
	}
	return r.Str
}

// Get returns the value for key in a map reply or in a RESP2 flat
// key/value array, or nil if absent.
func (r *Reply) Get(key string) *Reply {
	if !r.IsAggregate() {
		return nil
	}
	for i := 0; i+1 < len(r.Elems); i += 2 {
		if r.Elems[i].Text() == key {
			return r.Elems[i+1]
		}
	}
	return nil
}

// Keys returns the keys of a map reply or RESP2 flat key/value array, in
// wire order.
func (r *Reply) Keys() []string {
	var keys []string
	for i := 0; i+1 < len(r.Elems); i += 2 {
		keys = append(keys, r.Elems[i].Text())
	}
	return keys
}

// StringMap converts a map reply (or RESP2 flat array) whose values are
// scalars into a Go map.
func (r *Reply) StringMap() (map[string]string, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !r.IsAggregate() || len(r.Elems)%2 != 0 {
		return nil, fmt.Errorf("reply is not a map: %s", r)
	}
	m := make(map[string]string, len(r.Elems)/2)
	for i := 0; i < len(r.Elems); i += 2 {
		m[r.Elems[i].Text()] = r.Elems[i+1].Text()
	}
	return m, nil
}

// StringMaps converts an array of maps (SENTINEL MASTERS, REPLICAS, ...).
func (r *Reply) StringMaps() ([]map[string]string, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !r.IsAggregate() {
		return nil, fmt.Errorf("reply is not an array: %s", r)
	}
	out := make([]map[string]string, 0, len(r.Elems))
	for _, e := range r.Elems {
		m, err := e.StringMap()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Strings converts an array of scalars into a slice of their texts.
func (r *Reply) Strings() ([]string, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !r.IsAggregate() {
		return nil, fmt.Errorf("reply is not an array: %s", r)
	}
	out := make([]string, len(r.Elems))
	for i, e := range r.Elems {
		out[i] = e.Text()
	}
	return out, nil
}

// String renders the reply compactly for messages, e.g.
// `%2{"server":"redis" "proto":(int)3}`.
func (r *Reply) String() string {
	var b strings.Builder
	r.render(&b)
	return b.String()
}

func (r *Reply) render(b *strings.Builder) {
	if r == nil {
		b.WriteString("<nil>")
		return
	}
	switch r.Kind {
	case KindStatus:
		b.WriteString("+" + r.Str)
	case KindError:
		b.WriteString("-" + r.Str)
	case KindBlobError:
		b.WriteString("!" + strconv.Quote(r.Str))
	case KindInt:
		fmt.Fprintf(b, "(int)%d", r.Int)
	case KindBulk:
		b.WriteString(strconv.Quote(r.Str))
	case KindVerbatim:
		b.WriteString("=" + r.Format + ":" + strconv.Quote(r.Str))
	case KindNull:
		b.WriteString("(null" + string(r.Type) + ")")
	case KindDouble:
		b.WriteString("(double)" + r.Str)
	case KindBigNum:
		b.WriteString("(bignum)" + r.Str)
	case KindBool:
		fmt.Fprintf(b, "(bool)%v", r.Bool)
	default:
		n, open, close := len(r.Elems), "[", "]"
		if r.Kind == KindMap || r.Kind == KindAttribute {
			n, open, close = n/2, "{", "}"
		}
		fmt.Fprintf(b, "%c%d", r.Type, n)
		b.WriteString(open)
		for i, e := range r.Elems {
			if i > 0 {
				if r.Kind == KindMap && i%2 == 1 {
					b.WriteString(":")
				} else {
					b.WriteString(" ")
				}
			}
			e.render(b)
		}
		b.WriteString(close)
	}
}
