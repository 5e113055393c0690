package quorum

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// What the group replicates is JSON, and encoding/json turns every byte of
// a string that is not valid UTF-8 into U+FFFD. Master names, passwords,
// hosts and renamed commands are any bytes in redis-sentinel, so every
// string the group replicates goes through one rule: a string JSON would
// change, or one that starts with escapeMarker, travels as the marker
// followed by the lowercase hex of its bytes; any other string travels as
// it is, so the JSON of ordinary values (every entry and snapshot written
// before the rule) is unchanged, and an older member reads each escaped
// string as the text marker+hex (docs/DESIGN.md, "Strings the group
// replicates"). The rule lives here, with the format it keeps, because
// quorum imports nothing of this module; node's peer RPC takes it from
// here for the master name of a forwarded FAILOVER.

// escapeMarker heads an escaped string. U+FDD0 is a noncharacter, which
// no text redis-sentinel's users type would start with, and it is valid
// UTF-8, so JSON carries it as it is.
const escapeMarker = "\uFDD0"

// needsEscape reports whether s cannot travel as it is: JSON would change
// its bytes, or it would read back as an escaped string.
func needsEscape(s string) bool {
	return !utf8.ValidString(s) || strings.HasPrefix(s, escapeMarker)
}

// escapeString is s as it travels.
func escapeString(s string) string {
	if !needsEscape(s) {
		return s
	}
	b := make([]byte, len(escapeMarker)+hex.EncodedLen(len(s)))
	copy(b, escapeMarker)
	hex.Encode(b[len(escapeMarker):], []byte(s))
	return string(b)
}

// unescapeString reverses escapeString. Only what escapeString writes is
// taken as escaped: the marker, then the lowercase hex of bytes that need
// escaping. Any other text is returned as it is (ok false), so an entry an
// older member wrote, U+FFFD included, reads as it always did.
func unescapeString(s string) (_ string, ok bool) {
	h, found := strings.CutPrefix(s, escapeMarker)
	if !found || h == "" || len(h)%2 != 0 {
		return s, false
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		hi, ok1 := lowerHexDigit(h[2*i])
		lo, ok2 := lowerHexDigit(h[2*i+1])
		if !ok1 || !ok2 {
			return s, false
		}
		b[i] = hi<<4 | lo
	}
	if u := string(b); needsEscape(u) {
		return u, true
	}
	return s, false
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// EscapeStrings returns v ready to be written as JSON byte for byte: v
// itself when no string reachable from it (fields, elements, map keys and
// values, through pointers) needs escaping, which is found without
// allocating; else a copy with each such string escaped, sharing the parts
// that need nothing. v is never changed: it may be the FSM's state.
// UnescapeStrings reverses it after decoding. Given a pointer, as the
// codecs do, the check allocates nothing; a value is boxed once.
func EscapeStrings[T any](v T) T {
	rv := reflect.ValueOf(v)
	if !needsEscaping(rv) {
		return v
	}
	return escapedCopy(rv).Interface().(T)
}

// UnescapeStrings reverses EscapeStrings in the value ptr points to, just
// decoded from JSON. It fails only on a map two of whose keys read back
// as the same: taking either would depend on the map's order.
func UnescapeStrings(ptr any) error {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("unescape strings: %T is not a pointer to a value", ptr)
	}
	return unescapeValue(v.Elem())
}

// stringType is the key type whose keys needsEscaping reads without
// allocating (MapIter.Key copies a string key to the heap).
var stringType = reflect.TypeFor[string]()

// stringKeys holds a map's string key for needsEscaping.
var stringKeys = sync.Pool{New: func() any { return new(string) }}

// needsEscaping reports whether a string reachable from v needs escaping.
// Only what JSON writes is walked: exported fields.
func needsEscaping(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return needsEscape(v.String())
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && needsEscaping(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanInterface() && needsEscaping(f) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if needsEscaping(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		return mapNeedsEscaping(v)
	}
	return false
}

func mapNeedsEscaping(v reflect.Value) bool {
	if v.Len() == 0 {
		return false
	}
	var key reflect.Value
	if v.Type().Key() == stringType {
		p := stringKeys.Get().(*string)
		defer func() { *p = ""; stringKeys.Put(p) }()
		key = reflect.ValueOf(p).Elem()
	}
	for it := v.MapRange(); it.Next(); {
		k := key
		if k.IsValid() {
			k.SetIterKey(it)
		} else {
			k = it.Key()
		}
		if needsEscaping(k) || needsEscaping(it.Value()) {
			return true
		}
	}
	return false
}

// escapedCopy is v with each string that needs it escaped: v itself when
// none does, else a new value; the parts that need nothing are shared.
func escapedCopy(v reflect.Value) reflect.Value {
	if !needsEscaping(v) {
		return v
	}
	t := v.Type()
	switch v.Kind() {
	case reflect.String:
		return reflect.ValueOf(escapeString(v.String())).Convert(t)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		p.Elem().Set(escapedCopy(v.Elem()))
		return p
	case reflect.Interface:
		i := reflect.New(t).Elem()
		i.Set(escapedCopy(v.Elem()))
		return i
	case reflect.Struct:
		s := reflect.New(t).Elem()
		s.Set(v)
		for i := range v.NumField() {
			if f := v.Field(i); f.CanInterface() {
				s.Field(i).Set(escapedCopy(f))
			}
		}
		return s
	case reflect.Slice:
		s := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(escapedCopy(v.Index(i)))
		}
		return s
	case reflect.Array:
		a := reflect.New(t).Elem()
		for i := range v.Len() {
			a.Index(i).Set(escapedCopy(v.Index(i)))
		}
		return a
	case reflect.Map:
		// escapeString is one-to-one, so no two keys become one.
		m := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			m.SetMapIndex(escapedCopy(it.Key()), escapedCopy(it.Value()))
		}
		return m
	}
	return v
}

// unescapeValue reverses escapedCopy in place in v, a value decoding just
// made (settable, shared with no one).
func unescapeValue(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		if u, ok := unescapeString(v.String()); ok && v.CanSet() {
			v.SetString(u)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return unescapeValue(v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return nil
		}
		e := reflect.New(v.Elem().Type()).Elem()
		e.Set(v.Elem())
		if err := unescapeValue(e); err != nil {
			return err
		}
		v.Set(e)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				if err := unescapeValue(f); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := unescapeValue(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		return unescapeMap(v)
	}
	return nil
}

// unescapeMap unescapes a map's keys and values. Its values are not
// addressable, so each is unescaped in a copy put back; an entry whose key
// changes moves once every changed key is out, so that whether two keys
// meet does not depend on the map's order.
func unescapeMap(v reflect.Value) error {
	type entry struct{ from, to, val reflect.Value }
	var moved []entry
	for it := v.MapRange(); it.Next(); {
		from := it.Key()
		to, val := copyOf(from), copyOf(it.Value())
		if err := unescapeValue(to); err != nil {
			return err
		}
		if err := unescapeValue(val); err != nil {
			return err
		}
		if to.Equal(from) {
			v.SetMapIndex(from, val)
			continue
		}
		moved = append(moved, entry{from: from, to: to, val: val})
	}
	for _, e := range moved {
		v.SetMapIndex(e.from, reflect.Value{})
	}
	for _, e := range moved {
		if v.MapIndex(e.to).IsValid() {
			return fmt.Errorf("unescape strings: two map keys read as %q", e.to)
		}
		v.SetMapIndex(e.to, e.val)
	}
	return nil
}

// copyOf is a settable copy of v.
func copyOf(v reflect.Value) reflect.Value {
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}
