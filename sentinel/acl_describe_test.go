package sentinel

import (
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
)

// describeAfter applies each call's rules to a new user u of profile p, as
// ACL SETUSER u would (a failed call leaves the user as it was), and
// returns the rules after the user's name as ACL LIST shows them.
func describeAfter(t *testing.T, p compat.Profile, calls ...[]string) string {
	t.Helper()
	tbl := tableOf(p)
	u := newUser(tbl, "u")
	for _, call := range calls {
		temp := u.clone()
		failed := false
		for _, op := range call {
			if err := temp.setOp(op); err != nil {
				failed = true
				break
			}
		}
		if !failed {
			u.copyFrom(temp)
		}
	}
	return strings.Join(u.describe(), " ")
}

// TestACLDescribeKeptRules is the 8.0 profile's description of command
// rules: redis 7.2's selector->command_rules (ACLUpdateCommandRules,
// ACLDescribeSelectorCommandRules), each row as redis-sentinel 8.0.2
// answers ACL LIST for the same ACL SETUSER calls.
func TestACLDescribeKeptRules(t *testing.T) {
	const head = "off sanitize-payload resetchannels "
	for _, tc := range []struct {
		calls [][]string
		want  string
	}{
		// A new user, and +@all/-@all and their aliases: they start the
		// description and clear the kept rules.
		{nil, "-@all"},
		{[][]string{{"+@all"}}, "+@all"},
		{[][]string{{"allcommands"}}, "+@all"},
		{[][]string{{"nocommands"}}, "-@all"},
		{[][]string{{"+ping", "+@all"}}, "+@all"},
		{[][]string{{"+@all", "+@all"}}, "+@all"},
		{[][]string{{"+@all", "-@all"}}, "-@all"},
		{[][]string{{"+ping", "-@all", "+info"}}, "-@all +info"},
		{[][]string{{"allcommands", "-ping", "nocommands", "+info"}}, "-@all +info"},
		{[][]string{{"+ping", "reset", "+info"}}, "-@all +info"},
		{[][]string{{"+ping"}, {"reset"}}, "-@all"},
		// Commands in the order given, across calls.
		{[][]string{{"+ping", "+info"}}, "-@all +ping +info"},
		{[][]string{{"+info", "+ping"}}, "-@all +info +ping"},
		{[][]string{{"+ping"}, {"+info"}}, "-@all +ping +info"},
		// A repeated rule, or its opposite, replaces the earlier one and
		// goes last; a rule that changes nothing is kept all the same.
		{[][]string{{"+ping", "+ping"}}, "-@all +ping"},
		{[][]string{{"+ping", "+info", "+ping"}}, "-@all +info +ping"},
		{[][]string{{"+ping", "-ping"}}, "-@all -ping"},
		{[][]string{{"-ping", "+ping"}}, "-@all +ping"},
		{[][]string{{"+ping"}, {"-ping"}}, "-@all -ping"},
		{[][]string{{"+@all", "-ping"}}, "+@all -ping"},
		// Categories.
		{[][]string{{"+@read", "-@read", "+@read"}}, "-@all +@read"},
		{[][]string{{"+@connection", "-@connection"}}, "-@all -@connection"},
		{[][]string{{"-@all", "+@connection", "-hello"}}, "-@all +@connection -hello"},
		{[][]string{{"+@all", "-@dangerous", "+acl|whoami"}}, "+@all -@dangerous +acl|whoami"},
		{[][]string{{"+@dangerous", "-acl"}}, "-@all +@dangerous -acl"},
		{[][]string{{"on", "nopass", "+@all", "-@dangerous", "+client|kill", "-client|kill"}}, "on nopass sanitize-payload resetchannels +@all -@dangerous -client|kill"},
		// Subcommands: a rule for the container drops the rules for its
		// subcommands; a subcommand's rule does not drop the container's.
		{[][]string{{"+client|setname", "+client"}}, "-@all +client"},
		{[][]string{{"+client", "-client|setname"}}, "-@all +client -client|setname"},
		{[][]string{{"-client|setname", "+client|setname"}}, "-@all +client|setname"},
		{[][]string{{"+client|setname", "+client|kill", "-client"}}, "-@all -client"},
		{[][]string{{"+command", "-command|info"}, {"+command|info"}}, "-@all +command +command|info"},
		{[][]string{{"-sentinel", "+sentinel|masters", "+sentinel|get-master-addr-by-name", "-sentinel|masters"}}, "-@all -sentinel +sentinel|get-master-addr-by-name -sentinel|masters"},
		{[][]string{{"+sentinel|masters", "-sentinel"}, {"+sentinel"}}, "-@all +sentinel"},
		// First arguments: kept as typed, lower-cased; the command's own
		// rule drops them.
		{[][]string{{"+ping|foo"}}, "-@all +ping|foo"},
		{[][]string{{"+PING|FOO"}}, "-@all +ping|foo"},
		{[][]string{{"-ping", "+ping|foo"}}, "-@all -ping +ping|foo"},
		{[][]string{{"+ping|foo", "+ping|bar", "+ping|foo"}}, "-@all +ping|bar +ping|foo"},
		{[][]string{{"+ping|foo", "+ping"}}, "-@all +ping"},
		{[][]string{{"+ping|foo", "-ping"}}, "-@all -ping"},
		// Names as the table spells them (commands) or as typed (the rest),
		// lower-cased.
		{[][]string{{"+PING", "+Info", "+@READ", "+Client|SetName"}}, "-@all +ping +info +@read +client|setname"},
		{[][]string{{"-CLIENT|SETNAME"}}, "-@all -client|setname"},
		// A failed call changes nothing.
		{[][]string{{"+ping"}, {"+info", "+nosuchcmd"}}, "-@all +ping"},
		// Keys, channels and selectors around the rules.
		{[][]string{{"~a", "%R~b", "%W~c", "&ch", "+ping"}}, "~a %R~b %W~c resetchannels &ch -@all +ping"},
		{[][]string{{"allkeys", "allchannels", "+@all", "-info"}}, "off sanitize-payload ~* &* +@all -info"},
		{[][]string{{"+ping", "(+info +ping)", "(-@all +@all -info)"}}, "-@all +ping (resetchannels -@all +info +ping) (resetchannels +@all -info)"},
	} {
		want := tc.want
		if !strings.HasPrefix(want, "off ") && !strings.HasPrefix(want, "on ") {
			want = head + want
			if strings.HasPrefix(tc.want, "~") {
				want = "off sanitize-payload " + tc.want
			}
		}
		if got := describeAfter(t, compat.V80, tc.calls...); got != want {
			t.Errorf("8.0 %q:\n got %s\nwant %s", tc.calls, got, want)
		}
	}
}

// TestACLDescribeRebuiltRules: the 7.0 profile keeps 7.0.15's description,
// rebuilt from the permissions whatever the order of the rules.
func TestACLDescribeRebuiltRules(t *testing.T) {
	for _, tc := range []struct {
		calls [][]string
		want  string
	}{
		{[][]string{{"+ping", "+info"}}, "off resetchannels -@all +info +ping"},
		{[][]string{{"+info", "+ping"}}, "off resetchannels -@all +info +ping"},
		{[][]string{{"+ping", "-ping"}}, "off resetchannels -@all"},
		{[][]string{{"+@all", "-@dangerous", "+acl|whoami"}}, "off resetchannels +@all -@dangerous"},
		{[][]string{{"-ping", "+ping|foo"}}, "off resetchannels -@all +ping|foo"},
		{[][]string{{"+@all"}}, "off resetchannels +@all"},
	} {
		if got := describeAfter(t, compat.V70, tc.calls...); got != tc.want {
			t.Errorf("7.0 %q:\n got %s\nwant %s", tc.calls, got, tc.want)
		}
	}
}

// TestACLKeptRulesRoundTrip: in the 8.0 profile a user's description, set
// again on a new user, is described the same (ACL SAVE then ACL LOAD, a
// rewrite then a restart).
func TestACLKeptRulesRoundTrip(t *testing.T) {
	for _, rules := range [][]string{
		{"+client", "-client|setname", "+ping|foo", "-@read", "+@read", "+info"},
		{"+@all", "-@admin", "+sentinel|masters", "-ping", "+ping|x", "(+ping -@all +info)"},
	} {
		first := describeAfter(t, compat.V80, rules)
		words, _ := aclsyntax.MergeSelectorArgs(strings.Fields(first))
		again := describeAfter(t, compat.V80, words)
		if again != first {
			t.Errorf("%q: described %q, set again %q", rules, first, again)
		}
	}
}
