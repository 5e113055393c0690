// Package aclsyntax holds the words of redis' ACL rule syntax that stand
// apart from a user model: selector merging and password hashes. The one
// model of a user is sentinel's ACL engine (the ACL commands and file, and
// sentinel.conf's `user` lines, which config keeps as written). It imports
// nothing of ours.
package aclsyntax

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HashPassword is ACLHashPassword: SHA-256, lower-case hex.
func HashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// ValidHash reports whether h is a password hash as `#<hash>` and
// `!<hash>` rules take it: 64 lower-case hex digits.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// MergeSelectorArgs is ACLMergeSelectorArguments: the words from one that
// opens a selector, "(...", to the one that closes it, "...)", become one
// rule, joined by spaces (each word as C sees it: up to a NUL byte). When a
// selector is left open it returns nil and the index of its first word.
func MergeSelectorArgs(args []string) ([]string, int) {
	var out []string
	open := -1
	var sel string
	for i, op := range args {
		// As redis, a word opening a selector inside another starts afresh.
		if op != "" && op[0] == '(' && op[len(op)-1] != ')' {
			sel, open = op, i
			continue
		}
		if open >= 0 {
			sel += " " + cstr(op)
			if op != "" && op[len(op)-1] == ')' {
				out = append(out, sel)
				open = -1
			}
			continue
		}
		out = append(out, op)
	}
	if open >= 0 {
		return nil, open
	}
	return out, -1
}

// cstr is s as a C string: up to its first NUL byte.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
