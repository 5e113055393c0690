package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
	"github.com/x0tta6bl4/gosentinel/monitor"
)

// linkStub is a Link that records what it was asked and answers from a
// function.
type linkStub struct {
	mu     sync.Mutex
	calls  []string
	answer func(args []string) ([]string, error)
}

func (l *linkStub) call(_ context.Context, a monitor.Addr, args ...string) ([]string, error) {
	l.mu.Lock()
	l.calls = append(l.calls, a.String()+" "+strings.Join(args, " "))
	l.mu.Unlock()
	return l.answer(args)
}

// The periodic fence checks (onLink) ride on the link when it has one to
// the node: no client of the controller's own is made. A node the link
// cannot serve is read on a client for that call only; an error reply
// from the node is the answer, not a reason to ask again elsewhere. A
// failover's own calls (no onLink) never use the link: a node the failover
// paused holds the link's pipelined commands behind its hello PUBLISH.
func TestControllerFenceUsesTheLink(t *testing.T) {
	r := redistest.StartRedis(t, redistest.RedisOptions{Args: []string{"--rename-command", "CONFIG", "MYCONFIG"}})
	node := Target{Addr: addr(r.Port()), Rename: map[string]string{"CONFIG": "MYCONFIG"}}
	plain, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx := onLink(plain)

	link := &linkStub{answer: func(args []string) ([]string, error) {
		if args[1] != "GET" {
			return []string{"OK"}, nil
		}
		switch args[2] {
		case "min-replicas-to-write":
			return []string{args[2], "1"}, nil
		case "min-replicas-max-lag":
			return []string{args[2], "7"}, nil
		}
		return []string{"OK"}, nil
	}}
	c := NewController()
	defer c.Close()
	c.UseLink(link.call)
	got, err := c.Fence(ctx, node)
	if err != nil || got != (FenceConfig{ToWrite: 1, MaxLag: 7}) {
		t.Fatalf("Fence over the link = %+v, %v", got, err)
	}
	if err := c.SetFence(ctx, node, FenceConfig{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		node.Addr.String() + " CONFIG GET min-replicas-to-write",
		node.Addr.String() + " CONFIG GET min-replicas-max-lag",
		node.Addr.String() + " CONFIG SET min-replicas-to-write 0",
		node.Addr.String() + " CONFIG REWRITE",
	}
	if !slices.Equal(link.calls, want) {
		t.Fatalf("link asked %q, want %q", link.calls, want)
	}
	if n := len(c.clients); n != 0 {
		t.Fatalf("controller made %d clients of its own", n)
	}

	// An error reply is the node's answer.
	link.answer = func([]string) ([]string, error) { return nil, &monitor.ReplyError{Msg: "ERR nope"} }
	if _, err := c.Fence(ctx, node); err == nil || !strings.Contains(err.Error(), "ERR nope") {
		t.Fatalf("Fence with an error reply: %v", err)
	}
	if n := len(c.clients); n != 0 {
		t.Fatalf("controller made %d clients of its own after an error reply", n)
	}

	// No link to the node: a client for the call, renamed, not kept.
	link.answer = func([]string) ([]string, error) { return nil, monitor.ErrNoLink }
	if err := c.SetFence(ctx, node, FenceConfig{ToWrite: 1, MaxLag: 4}); err != nil {
		t.Fatal(err)
	}
	got, err = c.Fence(ctx, node)
	if err != nil || got != (FenceConfig{ToWrite: 1, MaxLag: 4}) {
		t.Fatalf("Fence without a link = %+v, %v", got, err)
	}
	if n := len(c.clients); n != 0 {
		t.Fatalf("controller kept %d clients for calls the link could not serve", n)
	}

	// A busy link: a read that may wait for a later tick (onLinkOrLater)
	// gets ErrLinkBusy and asks nobody else; one that may not is asked on
	// a client for the call, as when the link is down.
	link.answer = func([]string) ([]string, error) { return nil, fmt.Errorf("%w (1 ahead)", monitor.ErrLinkBusy) }
	if _, err := c.Fence(onLinkOrLater(plain), node); !errors.Is(err, monitor.ErrLinkBusy) {
		t.Fatalf("Fence that may wait, on a busy link: %v, want ErrLinkBusy", err)
	}
	got, err = c.Fence(ctx, node)
	if err != nil || got != (FenceConfig{ToWrite: 1, MaxLag: 4}) {
		t.Fatalf("Fence on a busy link = %+v, %v", got, err)
	}
	if n := len(c.clients); n != 0 {
		t.Fatalf("controller kept %d clients for calls on a busy link", n)
	}

	// A failover's call: the controller's own (cached) client, never the
	// link.
	asked := len(link.calls)
	got, err = c.Fence(plain, node)
	if err != nil || got != (FenceConfig{ToWrite: 1, MaxLag: 4}) {
		t.Fatalf("Fence outside the periodic checks = %+v, %v", got, err)
	}
	if len(link.calls) != asked {
		t.Fatalf("a call outside the periodic checks asked the link: %q", link.calls[asked:])
	}
	if n := len(c.clients); n != 1 {
		t.Fatalf("controller has %d clients, want 1", n)
	}
}
