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

// TestRenameCommandInCommandIntrospection: COMMAND and its subcommands read
// the command table as rename-command leaves it (redis' server.commands): a
// removed command is not listed, counted, described or documented; a
// renamed one is found under its new name and still shows its own. They
// read the table as shipped, so COMMAND listed 15 commands where COMMAND
// COUNT said 14.
func TestRenameCommandInCommandIntrospection(t *testing.T) {
	n, _ := startTestNode(t, "rename-command ping \"\"\nrename-command sentinel mysentinel\n")
	c := redis.NewClient(&redis.Options{Addr: n.Addr().String(), Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	do := func(args ...any) any {
		t.Helper()
		v, err := c.Do(ctx, args...).Result()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	all := do("COMMAND").([]any)
	names := map[string]bool{}
	for _, e := range all {
		names[e.([]any)[0].(string)] = true
	}
	if names["ping"] || !names["sentinel"] {
		t.Errorf("COMMAND lists %v: want sentinel (renamed, under its own name) and not ping (removed)", names)
	}
	if count := do("COMMAND", "COUNT").(int64); count != int64(len(all)) {
		t.Errorf("COMMAND COUNT %d, COMMAND lists %d", count, len(all))
	}
	info := do("COMMAND", "INFO", "ping", "sentinel", "mysentinel", "mysentinel|myid", "sentinel|myid").([]any)
	if info[0] != nil || info[1] != nil || info[4] != nil {
		t.Errorf("COMMAND INFO of names nothing answers to: %v %v %v, want nil", info[0], info[1], info[4])
	}
	if e, ok := info[2].([]any); !ok || e[0] != "sentinel" {
		t.Errorf("COMMAND INFO mysentinel: %v, want sentinel's entry", info[2])
	}
	if e, ok := info[3].([]any); !ok || e[0] != "sentinel|myid" {
		t.Errorf("COMMAND INFO mysentinel|myid: %v, want sentinel|myid's entry", info[3])
	}
	if docs := do("COMMAND", "DOCS", "ping").([]any); len(docs) != 0 {
		t.Errorf("COMMAND DOCS ping: %v, want none", docs)
	}
	if docs := do("COMMAND", "DOCS", "mysentinel").([]any); len(docs) != 2 || docs[0] != "sentinel" {
		t.Errorf("COMMAND DOCS mysentinel: %v, want sentinel's", docs)
	}
	list := fmt.Sprint(do("COMMAND", "LIST", "FILTERBY", "PATTERN", "p*"))
	if list != "[psubscribe publish punsubscribe]" && list != "[psubscribe punsubscribe publish]" {
		t.Errorf("COMMAND LIST FILTERBY PATTERN p*: %s, want no ping", list)
	}
}
