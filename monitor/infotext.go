package monitor

import (
	"encoding/binary"
	"strings"
)

// An instance's last INFO reply is kept for SENTINEL INFO-CACHE and the
// metrics, as redis-sentinel keeps it, and it was the largest part of a
// sentinel's live heap: at 1000 masters 2.5 MB of the leader's 11.7,
// when the fake fleet answered a 2.2 KB INFO (a real Redis 7.0 master's is
// 5 KB, and every replica has one too). Most of its bytes are the field
// names, the same in every reply, so it is kept with each "name:" replaced
// by a number into a table of names the monitor learns from the replies
// (infoKeys): 40 % of that 2.2 KB text's size, 29 % of a real INFO's.
//
// The encoding is exact for any text. The text is cut at every "\r\n" into
// segments (n separators, n+1 segments, the last possibly empty), and each
// segment is written as uvarint(code) uvarint(len(rest)) rest: code 0 for a
// segment kept as it is, code k > 0 for one that is infoKeys.list[k-1],
// ':' and rest. Decoding joins the segments with "\r\n".

// InfoText is an instance's last INFO reply ("" if none yet), kept in the
// compact form above. The zero InfoText is no reply.
type InfoText struct {
	enc string
	// keys is the table the codes of enc index: the monitor's table when
	// the status was taken, which only ever grows (its entries never
	// change), so it holds every name enc uses.
	keys []string
}

// Empty reports whether there is no reply.
func (t InfoText) Empty() bool { return t.enc == "" }

// String returns the reply's text.
func (t InfoText) String() string {
	if t.enc == "" {
		return ""
	}
	return string(t.AppendTo(make([]byte, 0, 3*len(t.enc))))
}

// AppendTo appends the reply's text to dst.
func (t InfoText) AppendTo(dst []byte) []byte {
	enc := t.enc
	for first := true; enc != ""; first = false {
		code, n := uvarint(enc)
		enc = enc[n:]
		size, m := uvarint(enc)
		enc = enc[m:]
		if n == 0 || m == 0 || size > uint64(len(enc)) || code > uint64(len(t.keys)) {
			return dst // not an encoding: never made by encode
		}
		if !first {
			dst = append(dst, '\r', '\n')
		}
		if code > 0 {
			dst = append(dst, t.keys[code-1]...)
			dst = append(dst, ':')
		}
		dst = append(dst, enc[:size]...)
		enc = enc[size:]
	}
	return dst
}

// uvarint is binary.Uvarint of a string's prefix, without converting it:
// the value and the bytes it took, 0 bytes if s does not start with one.
func uvarint(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			return x | uint64(b)<<(7*i), i + 1
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, 0
}

// Bounds on the table of names, which a node's replies fill: a node
// sending names without end must not grow the sentinel's memory without
// end. A real Redis 7.0 master's INFO has about 190 names; a segment
// whose name does not fit is kept as it is.
const (
	maxInfoKeys   = 1024
	maxInfoKeyLen = 64
)

// infoKeys is the table of INFO field names. Guarded by Monitor.mu.
type infoKeys struct {
	list    []string       // code k names list[k-1]; entries never change
	idx     map[string]int // name -> code
	scratch []byte         // encode's buffer
}

// encode returns text in the compact form, learning the names it has that
// the table lacks while there is room. The form is built in a scratch
// buffer and copied out at its size: a strings.Builder grown for half the
// text kept a fifth more than the form needs (1.08 MB at 1000 masters).
func (k *infoKeys) encode(text string) string {
	if text == "" {
		return ""
	}
	b := k.scratch[:0]
	for {
		seg, rest, more := strings.Cut(text, "\r\n")
		code, body := 0, seg
		if name, value, ok := strings.Cut(seg, ":"); ok {
			if c := k.code(name); c > 0 {
				code, body = c, value
			}
		}
		b = binary.AppendUvarint(b, uint64(code))
		b = binary.AppendUvarint(b, uint64(len(body)))
		b = append(b, body...)
		if !more {
			break
		}
		text = rest
	}
	k.scratch = b
	if cap(b) > maxInfoScratch {
		k.scratch = nil // a huge reply's buffer is not kept
	}
	return string(b)
}

// maxInfoScratch bounds the encoding buffer kept between replies.
const maxInfoScratch = 64 << 10

// code returns name's code, adding it to the table if there is room; 0 if
// it has none.
func (k *infoKeys) code(name string) int {
	if c, ok := k.idx[name]; ok {
		return c
	}
	if len(k.list) >= maxInfoKeys || len(name) > maxInfoKeyLen {
		return 0
	}
	if k.idx == nil {
		k.idx = make(map[string]int)
	}
	name = strings.Clone(name) // not a view of the reply's text
	k.list = append(k.list, name)
	k.idx[name] = len(k.list)
	return len(k.list)
}

// text returns enc, made by this table, as an InfoText.
func (k *infoKeys) text(enc string) InfoText {
	return InfoText{enc: enc, keys: k.list}
}
