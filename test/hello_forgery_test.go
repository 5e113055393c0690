package test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/bench/harness"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

// fakeSentinel is a TCP server that a forged hello announces as a sentinel:
// it answers PING, answers SENTINEL MYID with myid (an error if myid is
// ""), and says "down" to every is-master-down-by-addr.
type fakeSentinel struct {
	ln   net.Listener
	myid string

	mu    sync.Mutex
	asks  int // is-master-down-by-addr requests received
	conns []net.Conn
	wg    sync.WaitGroup
}

func startFakeSentinel(t *testing.T, myid string) *fakeSentinel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSentinel{ln: ln, myid: myid}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeSentinel) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSentinel) downAsks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asks
}

func (f *fakeSentinel) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(c)
	}
}

func (f *fakeSentinel) serve(c net.Conn) {
	defer f.wg.Done()
	br := bufio.NewReader(c)
	for {
		req, err := redistest.ReadReply(br)
		if err != nil || len(req.Elems) == 0 {
			return
		}
		args := make([]string, len(req.Elems))
		for i, e := range req.Elems {
			args[i] = strings.ToLower(e.Str)
		}
		var reply string
		switch {
		case args[0] == "ping":
			reply = "+PONG\r\n"
		case args[0] == "publish":
			reply = ":0\r\n"
		case len(args) == 2 && args[0] == "sentinel" && args[1] == "myid":
			if f.myid == "" {
				reply = "-ERR unknown subcommand 'myid'\r\n"
			} else {
				reply = fmt.Sprintf("$%d\r\n%s\r\n", len(f.myid), f.myid)
			}
		case len(args) > 1 && args[0] == "sentinel" && args[1] == "is-master-down-by-addr":
			f.mu.Lock()
			f.asks++
			f.mu.Unlock()
			reply = "*3\r\n:1\r\n$1\r\n*\r\n:0\r\n"
		default:
			reply = "+OK\r\n"
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

// TestForgedHelloSentinelsDoNotCountForODOWN: whoever can PUBLISH to a
// monitored master can announce sentinels. Two forged ones (one answering
// SENTINEL MYID with another id than announced, one refusing MYID) say
// "down" to every is-master-down-by-addr; with quorum 3, before, the
// sentinel counted them with its own SDOWN and declared +odown. Now only
// the sentinel that confirmed the id its hello announced is asked and
// counted: 2 votes of 3, no ODOWN.
func TestForgedHelloSentinelsDoNotCountForODOWN(t *testing.T) {
	master := redistest.StartRedis(t, redistest.RedisOptions{})
	honestID := strings.Repeat("1", 40)
	honest := startFakeSentinel(t, honestID)
	liar := startFakeSentinel(t, strings.Repeat("b", 40)) // announced as a...a
	mute := startFakeSentinel(t, "")                      // announced as c...c
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Bin: candidateBin(t), MasterPort: master.Port(),
		Quorum: 3, DownAfter: time.Second})

	hellos := []string{
		fmt.Sprintf("127.0.0.1,%d,%s,0,%s,127.0.0.1,%d,0", honest.port(), honestID, harness.MasterName, master.Port()),
		fmt.Sprintf("127.0.0.1,%d,%s,0,%s,127.0.0.1,%d,0", liar.port(), strings.Repeat("a", 40), harness.MasterName, master.Port()),
		fmt.Sprintf("127.0.0.1,%d,%s,0,%s,127.0.0.1,%d,0", mute.port(), strings.Repeat("c", 40), harness.MasterName, master.Port()),
	}
	mc := master.Dial(t)
	redistest.Poll(t, 10*time.Second, 200*time.Millisecond, func() error {
		for _, h := range hellos {
			if _, err := mc.Do("PUBLISH", "__sentinel__:hello", h); err != nil {
				return err
			}
		}
		peers, err := s.Sentinels(harness.MasterName)
		if err != nil {
			return err
		}
		for _, f := range []*fakeSentinel{honest, liar, mute} {
			if !hasInstance(peers, f.port()) {
				return fmt.Errorf("the sentinel does not list %d yet: %v", f.port(), peers)
			}
		}
		return nil
	})

	if err := master.Kill(); err != nil {
		t.Fatal(err)
	}
	// Three asks of the confirmed sentinel: the master has been SDOWN for
	// three ask periods, so every sentinel that would be asked was, and
	// ODOWN was evaluated with every answer.
	redistest.Poll(t, 15*time.Second, 100*time.Millisecond, func() error {
		if n := honest.downAsks(); n < 3 {
			return fmt.Errorf("the confirmed sentinel was asked %d times", n)
		}
		return nil
	})
	m, err := s.Master(harness.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m["flags"], "s_down") || strings.Contains(m["flags"], "o_down") {
		t.Errorf("master flags %q, want s_down without o_down (2 votes of 3)", m["flags"])
	}
	if n := liar.downAsks() + mute.downAsks(); n != 0 {
		t.Errorf("the unconfirmed sentinels were asked %d times for their vote", n)
	}
	peers, err := s.Sentinels(harness.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		down := strings.Contains(p["flags"], "master_down")
		if want := p["port"] == fmt.Sprint(honest.port()); down != want {
			t.Errorf("sentinel %s:%s flags %q (master_down expected: %v)", p["ip"], p["port"], p["flags"], want)
		}
	}
	if strings.Contains(s.Log(), "+odown") {
		t.Errorf("+odown logged:\n%s", s.LogTail(30))
	}
}
