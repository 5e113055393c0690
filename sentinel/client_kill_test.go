package sentinel

import (
	"strings"
	"testing"
	"time"
)

// A client killed by CLIENT KILL is gone from the next command's view at
// once, as in redis (freeClient runs inside CLIENT KILL): the killer's
// very next CLIENT LIST and INFO's connected_clients do not count it, even
// though its connection goroutine may not have noticed the close yet. Sent
// in one pipeline, so the killed client's goroutine has no time to catch
// up before CLIENT LIST runs.
func TestClientKillUnlistsAtOnce(t *testing.T) {
	for range 20 {
		_, addr := startServer(t, Config{})
		victim := dialRaw(t, addr)
		victim.do("CLIENT", "SETNAME", "victim")
		killer := dialRaw(t, addr)
		killer.send(append(append(encodeCommand("CLIENT", "KILL", "TYPE", "normal"),
			encodeCommand("CLIENT", "LIST")...), encodeCommand("INFO", "clients")...))
		if r, err := killer.reply(5 * time.Second); err != nil || string(r) != ":1\r\n" {
			t.Fatalf("CLIENT KILL TYPE normal: %q %v, want :1", r, err)
		}
		list, err := killer.reply(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(list), "name=victim") {
			t.Fatalf("CLIENT LIST right after CLIENT KILL still lists the killed client:\n%s", list)
		}
		info, err := killer.reply(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(info), "connected_clients:1\r\n") {
			t.Fatalf("INFO right after CLIENT KILL counts the killed client:\n%s", info)
		}
		if _, err := victim.expectClosed(5 * time.Second); err != nil {
			t.Fatalf("killed client: %v", err)
		}
	}
}
