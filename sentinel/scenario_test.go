package sentinel

import (
	"bytes"
	"testing"
	"time"
)

// A scenario step runs on one of several connections opened in order; the
// replies of the real sentinel and of ours are compared. A step with no
// args only reads the next reply (a pushed message); close expects the
// server to close the connection.
type scenarioStep struct {
	conn  int
	args  []string
	read  int // extra replies to read after the step's own (pushes)
	norm  normMode
	close bool
}

type scenario struct {
	name  string
	steps []scenarioStep
}

func st(conn int, args ...string) scenarioStep { return scenarioStep{conn: conn, args: args} }

var scenarios = []scenario{
	{name: "acl default off (09-acl-support)", steps: []scenarioStep{
		st(0, "ACL", "SETUSER", "testuser", ">secret", "+@all", "on"),
		st(0, "ACL", "SETUSER", "default", "off"),
		st(1, "PING"),
		st(1, "HELLO", "3"),
		st(1, "AUTH", "secret"),
		st(1, "AUTH", "default", "x"),
		st(1, "AUTH", "testuser", "secret"),
		st(1, "ACL", "WHOAMI"),
		{conn: 0, args: []string{"CLIENT", "KILL", "USER", "default", "SKIPME", "no"}, close: true},
		st(2, "PING"),
		st(2, "HELLO", "3", "AUTH", "testuser", "secret"),
		st(2, "ACL", "SETUSER", "default", "on"),
		st(3, "PING"),
		st(2, "ACL", "DELUSER", "testuser"),
		{conn: 1, args: []string{"PING"}, close: true},
		st(3, "ACL", "USERS"),
	}},
	{name: "default password changes", steps: []scenarioStep{
		st(0, "ACL", "SETUSER", "default", ">pw"),
		st(1, "PING"),
		st(1, "HELLO", "3"),
		st(0, "ACL", "SETUSER", "default", "nopass"),
		st(1, "PING"),
		st(1, "HELLO", "3"),
		st(1, "AUTH", "x"),
		st(1, "AUTH", "default", "x"),
		st(1, "HELLO", "3"),
		st(0, "ACL", "LIST"),
	}},
	{name: "deluser self", steps: []scenarioStep{
		st(0, "ACL", "SETUSER", "tmp", "on", "nopass", "+@all"),
		st(0, "AUTH", "tmp", "x"),
		{conn: 0, args: []string{"ACL", "DELUSER", "tmp"}, close: true},
		st(1, "ACL", "USERS"),
	}},
	{name: "subscriber loses channel permission", steps: []scenarioStep{
		st(0, "ACL", "SETUSER", "sub", "on", "nopass", "+@all", "&news*"),
		st(1, "AUTH", "sub", "x"),
		st(1, "SUBSCRIBE", "news1"),
		st(0, "ACL", "SETUSER", "sub", "&other"),
		st(2, "PING"),
		{conn: 0, args: []string{"ACL", "SETUSER", "sub", "resetchannels", "&x"}},
		{conn: 1, args: []string{"PING"}, close: true},
		st(0, "ACL", "DELUSER", "sub"),
	}},
	{name: "events reach subscribers", steps: []scenarioStep{
		st(0, "SUBSCRIBE", "+monitor", "-monitor"),
		st(1, "HELLO", "3"),
		st(1, "PSUBSCRIBE", "*monitor"),
		st(2, "SENTINEL", "MONITOR", "evm", "127.0.0.1", "7777", "2"),
		{conn: 0, read: 1},
		{conn: 1, read: 1},
		st(2, "SENTINEL", "REMOVE", "evm"),
		{conn: 0, read: 1},
		{conn: 1, read: 1},
		st(0, "PING"),
		st(1, "PING"),
	}},
	{name: "client list and kill", steps: []scenarioStep{
		st(0, "CLIENT", "SETNAME", "first"),
		st(1, "SUBSCRIBE", "x"),
		{conn: 2, args: []string{"CLIENT", "LIST"}, norm: nMaskLib},
		{conn: 2, args: []string{"CLIENT", "LIST", "TYPE", "pubsub"}, norm: nMaskLib},
		{conn: 2, args: []string{"CLIENT", "LIST", "TYPE", "normal"}, norm: nMaskLib},
		st(2, "CLIENT", "KILL", "TYPE", "pubsub"),
		{conn: 1, args: []string{"PING"}, close: true},
		st(2, "CLIENT", "KILL", "TYPE", "normal"),
		{conn: 0, args: []string{"PING"}, close: true},
		{conn: 2, args: []string{"CLIENT", "LIST"}, norm: nMaskLib},
	}},
	{name: "pause", steps: []scenarioStep{
		st(0, "CLIENT", "PAUSE", "100000", "WRITE"),
		st(1, "PING"),
		st(0, "CLIENT", "UNPAUSE"),
		st(1, "PING"),
	}},
}

func TestScenariosWithRealSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real redis-sentinel processes")
	}
	masterPort := absentPort(t)
	real := startRealSentinel(t, "", masterPort)
	mirrored := startRealSentinel(t, "", masterPort)
	srv, ours := startServer(t, Config{Backend: newMirrorBackend(t, mirrored, "")})
	forwardEvents(t, mirrored, srv)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runScenario(t, real, sc)
			got := runScenario(t, ours, sc)
			for i, step := range sc.steps {
				for j := range want[i] {
					var g []byte
					if j < len(got[i]) {
						g = got[i][j]
					}
					if !sameReply(want[i][j], g, step.norm) {
						t.Errorf("step %d %q reply %d:\nreal: %q\nours: %q", i, step.args, j, clip(want[i][j]), clip(g))
					}
				}
			}
		})
	}
}

// runScenario runs the steps and returns each step's replies; a closed
// connection is recorded as the reply "<closed>".
func runScenario(t *testing.T, addr string, sc scenario) [][][]byte {
	conns := map[int]*rawConn{}
	out := make([][][]byte, len(sc.steps))
	for i, step := range sc.steps {
		rc := conns[step.conn]
		if rc == nil {
			rc = dialRaw(t, addr)
			conns[step.conn] = rc
		}
		n := step.read
		if step.args != nil {
			rc.send(encodeCommand(step.args...))
			n++
		}
		for j := 0; j < n; j++ {
			b, err := rc.reply(3 * time.Second)
			if err == errEOF {
				out[i] = append(out[i], []byte("<closed>"))
				break
			}
			if err != nil {
				t.Fatalf("%s step %d: %v", sc.name, i, err)
			}
			out[i] = append(out[i], b)
		}
		if step.close {
			if _, err := rc.expectClosed(3 * time.Second); err != nil {
				t.Errorf("%s step %d: %v", sc.name, i, err)
			}
			out[i] = append(out[i], []byte("<closed>"))
		}
	}
	return out
}

// forwardEvents subscribes to every event of a real sentinel and publishes
// them on srv, like the node does with its own events.
func forwardEvents(t *testing.T, addr string, srv *Server) {
	rc := dialRaw(t, addr)
	rc.send(encodeCommand("PSUBSCRIBE", "*"))
	if _, err := rc.reply(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			b, err := rc.reply(time.Hour)
			if err != nil {
				return
			}
			v, _, err := scanRESP(b)
			if err != nil || len(v.children) != 4 || !bytes.Equal([]byte(v.children[0].str), []byte("pmessage")) {
				continue
			}
			srv.Publish(v.children[2].str, v.children[3].str)
		}
	}()
}
