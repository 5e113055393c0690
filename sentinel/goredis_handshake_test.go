package sentinel

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// handshakeRecorder is a go-redis hook that records every command the
// client sends, including its connection handshake (initConn runs through
// the client's hooks), with the error each got.
type handshakeRecorder struct {
	mu   sync.Mutex
	cmds []recordedCmd
}

type recordedCmd struct {
	name string // lower-case "client setinfo", "hello", ...
	err  error
}

// record notes a command and its error: the one its hook chain returned
// (go-redis sets cmd.Err only after the hooks), else the command's own
// (pipelined commands carry theirs).
func (h *handshakeRecorder) record(err error, cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		name := strings.ToLower(c.Name())
		if args := c.Args(); len(args) > 1 && (name == "client" || name == "sentinel") {
			name += " " + strings.ToLower(fmt.Sprint(args[1]))
		}
		e := c.Err()
		if len(cmds) == 1 && err != nil {
			e = err
		}
		h.cmds = append(h.cmds, recordedCmd{name, e})
	}
}

func (h *handshakeRecorder) snapshot() []recordedCmd {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recordedCmd(nil), h.cmds...)
}

func (h *handshakeRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *handshakeRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.record(err, cmd)
		return err
	}
}

func (h *handshakeRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.record(nil, cmds...)
		return err
	}
}

// What go-redis v9 sends when it connects with its defaults (RESP3,
// identity on, maintenance notifications in auto mode): HELLO 3 AUTH ...
// SETNAME, CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type ..., then a
// pipeline of CLIENT SETINFO LIB-NAME / LIB-VER. No error reaches the
// application: SETINFO is accepted like on 7.2, and MAINT_NOTIFICATIONS
// gets the same "unknown subcommand" as from every open-source Redis, on
// which go-redis' auto mode silently turns the feature off for the client
// (it is not tried again on the next connection).
func TestGoRedisHandshakeAccepted(t *testing.T) {
	srv, addr := startServer(t, Config{Backend: &fakeBackend{}, RequirePass: "secret", HasRequirePass: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec := &handshakeRecorder{}
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Password: "secret", ClientName: "app1"})
	defer sc.Close()
	sc.AddHook(rec)

	errorsBefore := srv.Stats().TotalErrorReplies
	if got, err := sc.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	if _, err := sc.GetMasterAddrByName(ctx, "mymaster").Result(); err != nil {
		t.Fatalf("get-master-addr-by-name: %v", err)
	}
	// A second connection (the pub/sub one) runs the handshake again.
	ps := sc.Subscribe(ctx, "+switch-master")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	count := map[string]int{}
	for _, c := range rec.snapshot() {
		count[c.name]++
		switch c.name {
		case "client maint_notifications":
			if c.err == nil || !strings.HasPrefix(c.err.Error(), "ERR unknown subcommand 'maint_notifications'") {
				t.Errorf("CLIENT MAINT_NOTIFICATIONS: err %v, want the unknown-subcommand error go-redis falls back on", c.err)
			}
		default:
			if c.err != nil {
				t.Errorf("%s: %v", c.name, c.err)
			}
		}
	}
	if count["hello"] != 2 || count["client setinfo"] != 4 {
		t.Errorf("handshake commands %v: want HELLO and two CLIENT SETINFO per connection", count)
	}
	if count["client maint_notifications"] != 1 {
		t.Errorf("CLIENT MAINT_NOTIFICATIONS sent %d times, want once (auto mode falls back for the client)", count["client maint_notifications"])
	}
	if n := srv.Stats().TotalErrorReplies - errorsBefore; n != 1 {
		t.Errorf("%d error replies during the handshakes, want 1 (MAINT_NOTIFICATIONS)", n)
	}

	// The server shows what go-redis said about itself.
	admin := dialRaw(t, addr)
	admin.do("AUTH", "secret")
	list := string(admin.do("CLIENT", "LIST"))
	libName := "go-redis(," + strings.ReplaceAll(runtime.Version(), " ", "_") + ")"
	want := " name=app1 "
	wantTail := fmt.Sprintf(" resp=3 lib-name=%s lib-ver=%s\n", libName, redis.Version())
	if strings.Count(list, wantTail) != 2 || strings.Count(list, want) != 2 {
		t.Errorf("CLIENT LIST = %q, want two lines with%q and ending %q", list, want, wantTail)
	}
}
