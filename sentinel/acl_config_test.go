package sentinel

import (
	"errors"
	"reflect"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// TestCheckUserLines: what redis-sentinel 7.0.15 refuses while reading its
// config file, with its text (checked against the real one; the files of
// config's testdata/errors are run through node by its
// TestUserLineErrorsMatchRedis), and what it lets through to the load.
func TestCheckUserLines(t *testing.T) {
	for _, tc := range []struct {
		lines [][]string
		index int
		want  string // "" when the lines pass the check
	}{
		{[][]string{{"alice", "on", ">pw", "~*", "+@all"}, {"bob", "off"}}, 0, ""},
		{[][]string{{"alice", "on"}, {"alice", "off"}}, 1, "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files"},
		{[][]string{{"alice", "on", "#abc"}}, 0, "Error in user declaration 'alice': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		// The word named is picked from the whole line by the rule's index.
		{[][]string{{"alice", "on", "~*", "~foo"}}, 0, "Error in user declaration 'on': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[][]string{{"alice", "on", "(~foo"}}, 0, "Error in user declaration 'alice': Unknown command or category name in ACL"},
		{[][]string{{"alice", "on", "bogus"}}, 0, "Error in user declaration 'alice': Syntax error"},
		{[][]string{{"alice", "on", "+client|kill|x"}}, 0, "Error in user declaration 'alice': Allowing first-arg of a subcommand is not supported"},
		{[][]string{{"alice", "on", "(+client|kill|x)"}}, 0, "Error in user declaration 'alice': Allowing first-arg of a subcommand is not supported"},
		{[][]string{{"alice", "on", ">pw", "+ping|"}}, 0, "Error in user declaration 'on': Syntax error"},
		{[][]string{{"alice", "on", "~a b"}}, 0, "Error in user declaration 'alice': Syntax error"},
		{[][]string{{"alice", "on", "&a b"}}, 0, "Error in user declaration 'alice': Syntax error"},
		{[][]string{{"alice", "on", "~a\x00b"}}, 0, "Error in user declaration 'alice': Syntax error"},
		// Unknown commands pass the check (redis refuses them when it
		// builds the users, after the file), and so do an empty rule and
		// a selector whose rules do not split.
		{[][]string{{"alice", "on", "+get"}, {"bob", "on", "+"}, {"carol", "(+)"}}, 0, ""},
		{[][]string{{"alice", "on", ""}, {"bob", "on", `(~a"b)`}}, 0, ""},
	} {
		err := CheckUserLines(compat.Default, tc.lines)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.lines, err)
			}
			continue
		}
		var ue *UserLineError
		if !errors.As(err, &ue) || ue.Index != tc.index || ue.Reason != tc.want {
			t.Errorf("%q: %#v, want index %d %q", tc.lines, err, tc.index, tc.want)
		}
	}
	if err := CheckUserLines("6.2", nil); err == nil {
		t.Error("an unknown profile was accepted")
	}
}

// TestUserPasswordHashes: the passwords of the users a config leaves
// enabled with a password.
func TestUserPasswordHashes(t *testing.T) {
	h := aclsyntax.HashPassword
	got := UserPasswordHashes([][]string{
		{"default", "off"},
		{"admin", "on", ">a", "#" + h("b"), ">a", "+@all"},
		{"nopass", "on", ">x", "nopass"},
		{"off", ">x"},
		{"reset", "on", ">x", "reset", "on"},
		{"removed", "on", ">x", ">y", "<x"},
		{"open", "on", ">x", "(~a"},
	})
	want := map[string][]string{"admin": {h("a"), h("b")}, "removed": {h("y")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("UserPasswordHashes = %q, want %q", got, want)
	}
}
