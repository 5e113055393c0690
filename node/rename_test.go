package node_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRenameCommand: rename-command in sentinel.conf applies to the
// command surface, as in redis-sentinel: a name renamed away or removed
// is an unknown command, the new name runs the command (its subcommands
// and their errors too). It was checked at load and then ignored.
func TestRenameCommand(t *testing.T) {
	n, _ := startTestNode(t, "rename-command ping \"\"\nrename-command sentinel mysentinel\n")
	c := redis.NewClient(&redis.Options{Addr: n.Addr().String(), Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		args []any
		want string // the reply, or the error's text
	}{
		{[]any{"PING"}, "ERR unknown command 'PING', with args beginning with: "},
		{[]any{"SENTINEL", "MYID"}, "ERR unknown command 'SENTINEL', with args beginning with: 'MYID' "},
		{[]any{"mysentinel", "myid"}, n.MyID()},
		{[]any{"MYSENTINEL", "bogus"}, "ERR unknown subcommand 'bogus'. Try MYSENTINEL HELP."},
		{[]any{"ROLE"}, "[sentinel [mymaster]]"},
		{[]any{"ACL", "DRYRUN", "default", "ping"}, "ERR Command 'ping' not found"},
		{[]any{"ACL", "DRYRUN", "default", "sentinel", "myid"}, "ERR Command 'sentinel' not found"},
		{[]any{"ACL", "DRYRUN", "default", "mysentinel", "myid"}, "OK"},
		{[]any{"COMMAND", "GETKEYS", "mysentinel", "myid"}, "ERR The command has no key arguments"},
	} {
		v, err := c.Do(ctx, tc.args...).Result()
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprint(v)
		}
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
}
