package monitor

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// A node whose PING reply breaks a bound (nested too deep, an absurd
// count, a huge bulk) gets its link closed with a logged error, and the
// monitor carries on (it redials; nothing crashes or allocates the count).
func TestHostileReplyClosesLinkWithLoggedError(t *testing.T) {
	for name, reply := range map[string]string{
		"deep":  strings.Repeat("*1\r\n", 100000),
		"count": "*2147483647\r\n",
		"bulk":  "$536870912\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeServer(t, redisLike(func() string { return masterInfo(strings.Repeat("2", 40)) },
				func() string { return reply }))
			var logs redistest.LogBuffer
			rec := &recorder{}
			m := startMonitor(t, rec.config(idA, Config{Timing: fastTiming,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
			m.Watch(MasterSpec{Name: "m", Addr: Addr{Host: "127.0.0.1", Port: srv.port()}, DownAfter: time.Hour})
			redistest.Until(t, 5*time.Second, "the protocol error logged", func() bool {
				return strings.Contains(logs.String(), "resp protocol error")
			})
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "127.0.0.1:") {
				t.Fatalf("log = %s", logs.String())
			}
			// The link was closed and is dialled again.
			redistest.Until(t, 5*time.Second, "a second connection", func() bool {
				srv.mu.Lock()
				defer srv.mu.Unlock()
				return len(srv.conns) >= 3
			})
		})
	}
}
