package config

import (
	"reflect"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
)

// TestUserLine: a user's words are written so that the line reads back as
// the same rules, and selectors are written bare, as redis does, whenever
// that reads back.
func TestUserLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"default", "on", "nopass", "~*", "&*", "+@all"}, "user default on nopass ~* &* +@all"},
		{[]string{"eve", "on", "resetchannels", "-@all", "(~a ~b resetchannels &c +@all -ping)"},
			"user eve on resetchannels -@all (~a ~b resetchannels &c +@all -ping)"},
		{[]string{"a b", "on", "~x y"}, `user "a b" on "~x y"`},
		{[]string{"u", "()"}, "user u ()"},
		// A bare selector would not read back: one quoted word.
		{[]string{"dave", "on", `(~a"b resetchannels -@all)`}, `user dave on "(~a\"b resetchannels -@all)"`},
		{[]string{"u", "(~a) resetchannels)"}, `user u "(~a) resetchannels)"`},
		{[]string{"u", "(~a  ~b)"}, `user u "(~a  ~b)"`},
		// Words as loaded, a selector split over several.
		{[]string{"u", "on", "(~a", "~c)"}, "user u on (~a ~c)"},
	} {
		got := userLine(tc.args)
		if got != tc.want {
			t.Errorf("userLine(%q) = %s, want %s", tc.args, got, tc.want)
		}
		back, err := splitArgs(got)
		if err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		wantOps, _ := aclsyntax.MergeSelectorArgs(tc.args[1:])
		if gotOps, _ := aclsyntax.MergeSelectorArgs(back[2:]); back[1] != tc.args[0] || !reflect.DeepEqual(gotOps, wantOps) {
			t.Errorf("%s reads back as %q %q, want %q %q", got, back[1], gotOps, tc.args[0], wantOps)
		}
	}
}

// TestUserLineError: a line the ACL engine refuses is named like the
// loader's own errors.
func TestUserLineError(t *testing.T) {
	c, err := Parse("x.conf", []byte("port 26379\nuser a on\nuser  b   on \"#x\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.UserLineError(1, "Error in user declaration 'b': bad")
	if e.File != c.Path || e.Line != 3 || e.Text != `user  b   on "#x"` || e.Reason != "Error in user declaration 'b': bad" {
		t.Fatalf("UserLineError = %+v", e)
	}
	if e := c.Clone().UserLineError(0, "r"); e.Line != 2 || e.Text != "user a on" {
		t.Fatalf("clone: UserLineError = %+v", e)
	}
	if e := (&Config{Path: "/p"}).UserLineError(0, "r"); e.Line != 0 || e.File != "/p" {
		t.Fatalf("without sources: UserLineError = %+v", e)
	}
}
