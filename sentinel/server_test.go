package sentinel

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/aclsyntax"
	"github.com/x0tta6bl4/gosentinel/internal/compat"
	"github.com/x0tta6bl4/gosentinel/internal/redistest"
)

func TestCommandTable(t *testing.T) {
	table := tableOf(compat.V70)
	if len(table.top) != 15 {
		t.Fatalf("%d top-level commands, want 15", len(table.top))
	}
	if len(table.all) != 72 {
		t.Fatalf("%d commands and subcommands, want 72", len(table.all))
	}
	for _, cmd := range table.all {
		if cmd.info[resp2] == nil || cmd.info[resp3] == nil || cmd.docs[resp2] == nil || cmd.docs[resp3] == nil {
			t.Errorf("%s lacks captured info or docs", cmd.name)
		}
		if cmd.proc == nil {
			t.Errorf("%s has no procedure", cmd.name)
		}
	}
	if !table.byName["auth"].noAuth || !table.byName["hello"].noAuth || table.byName["ping"].noAuth {
		t.Errorf("no_auth flags wrong")
	}
	if got := table.lookupFullName("SENTINEL|Get-Master-Addr-By-Name"); got == nil || got.arity != 3 {
		t.Errorf("lookup sentinel|get-master-addr-by-name = %+v", got)
	}
}

func TestPublishFrames(t *testing.T) {
	srv, addr := startServer(t, Config{})
	r2 := dialRaw(t, addr)
	r3 := dialRaw(t, addr)
	r3.do("HELLO", "3")
	if got := string(r2.do("SUBSCRIBE", "+sdown")); got != "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:1\r\n" {
		t.Fatalf("RESP2 subscribe = %q", got)
	}
	if got := string(r2.do("PSUBSCRIBE", "+*")); got != "*3\r\n$10\r\npsubscribe\r\n$2\r\n+*\r\n:2\r\n" {
		t.Fatalf("RESP2 psubscribe = %q", got)
	}
	if got := string(r3.do("PSUBSCRIBE", "*")); got != ">3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n" {
		t.Fatalf("RESP3 psubscribe = %q", got)
	}
	if n := srv.Publish("+sdown", "master m 1.2.3.4 6379"); n != 3 {
		t.Fatalf("Publish reached %d subscriptions, want 3", n)
	}
	want2 := []string{
		"*3\r\n$7\r\nmessage\r\n$6\r\n+sdown\r\n$21\r\nmaster m 1.2.3.4 6379\r\n",
		"*4\r\n$8\r\npmessage\r\n$2\r\n+*\r\n$6\r\n+sdown\r\n$21\r\nmaster m 1.2.3.4 6379\r\n",
	}
	for _, w := range want2 {
		b, err := r2.reply(2 * time.Second)
		if err != nil || string(b) != w {
			t.Fatalf("RESP2 message = %q, %v; want %q", b, err, w)
		}
	}
	b, err := r3.reply(2 * time.Second)
	if want := ">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$6\r\n+sdown\r\n$21\r\nmaster m 1.2.3.4 6379\r\n"; err != nil || string(b) != want {
		t.Fatalf("RESP3 message = %q, %v", b, err)
	}
	if n := srv.Publish("-odown", "x"); n != 1 {
		t.Fatalf("pattern-only Publish reached %d", n)
	}
	// PUBLISH by a client is a hello, not delivered locally.
	fb := srv.cfg.Backend.(*fakeBackend)
	r4 := dialRaw(t, addr)
	if got := string(r4.do("PUBLISH", "__sentinel__:hello", "payload")); got != ":1\r\n" {
		t.Fatalf("PUBLISH hello = %q", got)
	}
	fb.mu.Lock()
	hellos := fb.hellos
	fb.mu.Unlock()
	if !reflect.DeepEqual(hellos, []string{"payload"}) {
		t.Fatalf("backend hellos = %q", hellos)
	}
	st := srv.Stats()
	if st.PubsubChannels != 1 || st.PubsubPatterns != 2 || st.ConnectedClients != 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSlowSubscriberDoesNotBlockPublisher(t *testing.T) {
	srv, addr := startServer(t, Config{})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	if _, err := conn.Write(encodeCommand("SUBSCRIBE", "ch")); err != nil {
		t.Fatal(err)
	}
	redistest.Until(t, 5*time.Second, "subscription", func() bool { return srv.Stats().PubsubChannels == 1 })
	// The client never reads: the publisher must not block, and the
	// subscriber is disconnected once over the pubsub output limit.
	msg := strings.Repeat("x", 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2*pubsubHardLimit/len(msg); i++ {
			srv.Publish("ch", msg)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	redistest.Until(t, 5*time.Second, "slow subscriber disconnected", func() bool { return srv.Stats().ConnectedClients == 0 })
	if n := srv.Publish("ch", "x"); n != 0 {
		t.Fatalf("Publish after disconnect reached %d", n)
	}
}

func TestConcurrentPublish(t *testing.T) {
	srv, addr := startServer(t, Config{})
	rc := dialRaw(t, addr)
	rc.do("HELLO", "3")
	rc.do("SUBSCRIBE", "a")
	const n = 200
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < n/4; i++ {
				srv.Publish("a", "m")
			}
			done <- struct{}{}
		}()
	}
	go func() {
		for i := 0; i < 50; i++ {
			rc.send(encodeCommand("PING"))
		}
	}()
	pongs, msgs := 0, 0
	for pongs < 50 || msgs < n {
		b, err := rc.reply(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d pongs %d messages: %v", pongs, msgs, err)
		}
		switch string(b) {
		case "+PONG\r\n":
			pongs++
		case ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n":
			msgs++
		default:
			t.Fatalf("unexpected frame %q", b)
		}
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestClientPauseAll(t *testing.T) {
	srv, addr := startServer(t, Config{})
	a := dialRaw(t, addr)
	b := dialRaw(t, addr)
	a.do("CLIENT", "PAUSE", "300")
	start := time.Now()
	if got := string(b.do("PING")); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Fatalf("PING answered after %v during a 300 ms pause", waited)
	}
	// A WRITE pause holds back only PUBLISH, as redis-sentinel's does
	// (it may replicate): sentinel has no write commands.
	a.do("CLIENT", "PAUSE", "100000", "WRITE")
	if got := string(b.do("PING")); got != "+PONG\r\n" {
		t.Fatalf("PING during WRITE pause = %q", got)
	}
	b.send(encodeCommand("PUBLISH", "__sentinel__:hello", "x"))
	redistest.Until(t, 5*time.Second, "PUBLISH blocked", func() bool { return srv.Stats().BlockedClients == 1 })
	a.do("CLIENT", "UNPAUSE")
	if got, err := b.reply(5 * time.Second); err != nil || !strings.HasPrefix(string(got), ":") {
		t.Fatalf("PUBLISH after the WRITE pause = %q, %v", got, err)
	}
	// During an ALL pause, errors are still immediate and valid commands
	// wait (the client counts as blocked); Close releases them.
	a.do("CLIENT", "PAUSE", "100000")
	if got := string(b.do("NOSUCHCMD")); !strings.HasPrefix(got, "-ERR unknown command") {
		t.Fatalf("unknown command during pause = %q", got)
	}
	b.send(encodeCommand("PING"))
	redistest.Until(t, 5*time.Second, "blocked client", func() bool { return srv.Stats().BlockedClients == 1 })
	if _, err := b.reply(50 * time.Millisecond); err == nil {
		t.Fatalf("PING answered during the pause")
	}
}

func TestShutdown(t *testing.T) {
	var called atomic.Int32
	_, addr := startServer(t, Config{OnShutdown: func() { called.Add(1) }})
	rc := dialRaw(t, addr)
	if got := string(rc.do("SHUTDOWN", "ABORT")); got != "-ERR No shutdown in progress.\r\n" {
		t.Fatalf("SHUTDOWN ABORT = %q", got)
	}
	rc.send(encodeCommand("SHUTDOWN", "NOW"))
	out, err := rc.expectClosed(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Fatalf("SHUTDOWN sent %q, want nothing", out)
	}
	redistest.Until(t, 5*time.Second, "OnShutdown", func() bool { return called.Load() == 1 })
}

func TestServeAndClose(t *testing.T) {
	srv, err := NewServer(Config{Backend: &fakeBackend{}})
	if err != nil {
		t.Fatal(err)
	}
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(ln1) }()
	go func() { errs <- srv.Serve(ln2) }()
	for _, ln := range []net.Listener{ln1, ln2} {
		rc := dialRaw(t, ln.Addr().String())
		if got := string(rc.do("PING")); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
	}
	idle := dialRaw(t, ln1.Addr().String())
	idle.do("SUBSCRIBE", "x")
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	}
	if _, err := idle.expectClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ln3, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln3.Close()
	if err := srv.Serve(ln3); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st := srv.Stats(); st.ConnectedClients != 0 || st.TotalConnections != 3 || st.TotalCommands < 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestConfigUsersAndRequirePass(t *testing.T) {
	srv, addr := startServer(t, Config{
		RequirePass: "secret", HasRequirePass: true,
		Users: [][]string{
			{"alice", "on", ">pw1", "~*", "&chan*", "+@all", "-sentinel|reset"},
			{"bob", "off", "+ping"},
		},
	})
	if p, ok := srv.RequirePass(); p != "secret" || !ok {
		t.Fatalf("RequirePass = %q, %v", p, ok)
	}
	want := [][]string{
		{"alice", "on", "#" + aclsyntax.HashPassword("pw1"), "~*", "resetchannels", "&chan*", "+@all", "-sentinel|reset"},
		{"bob", "off", "resetchannels", "-@all", "+ping"},
		{"default", "on", "#" + aclsyntax.HashPassword("secret"), "~*", "&*", "+@all"},
	}
	if got := srv.ACLUserLines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ACLUserLines =\n%q\nwant\n%q", got, want)
	}
	rc := dialRaw(t, addr)
	if got := string(rc.do("PING")); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if got := string(rc.do("AUTH", "alice", "pw1")); got != "+OK\r\n" {
		t.Fatalf("AUTH alice = %q", got)
	}
	if got := string(rc.do("SENTINEL", "RESET", "*")); got != "-NOPERM this user has no permissions to run the 'sentinel|reset' command\r\n" {
		t.Fatalf("SENTINEL RESET = %q", got)
	}
	// The default user can be redefined by a user line (config rewrite).
	srv2, _ := startServer(t, Config{RequirePass: "old", HasRequirePass: true,
		Users: [][]string{{"default", "on", "nopass", "~*", "&*", "+@all"}}})
	if got := srv2.ACLUserLines(); !reflect.DeepEqual(got, [][]string{{"default", "on", "nopass", "sanitize-payload", "~*", "&*", "+@all"}}) {
		t.Fatalf("redefined default = %q", got)
	}
	for _, bad := range [][][]string{
		{{"x", "+@nosuchcategory"}},
		{{"x", "+nosuchcommand"}},
		{{"x", "bogus"}},
		{{"x", "on"}, {"x", "off"}},
		{{"x", "(+ping"}},
		{{"a b", "on"}},
		{{}},
	} {
		if _, err := NewServer(Config{Backend: &fakeBackend{}, Users: bad}); err == nil {
			t.Errorf("NewServer accepted users %q", bad)
		}
	}
	if _, err := NewServer(Config{}); err == nil {
		t.Errorf("NewServer accepted a nil Backend")
	}
}

func TestSentinelSubcommandsWithFakeBackend(t *testing.T) {
	var downArgs string
	fb := &fakeBackend{
		DownFn: func(ip string, port int, epoch uint64, runid string) (bool, string, uint64) {
			downArgs = fmt.Sprintf("%s %d %d %s", ip, port, epoch, runid)
			return true, "", 7
		},
		ScriptsFn: func() []PendingScript {
			return []PendingScript{
				{Argv: []string{"/s.sh", "+sdown"}, Running: true, Pid: 42, RunTimeMillis: 5, RetryNum: 1},
				{Argv: []string{"/s.sh"}, RunDelayMillis: -3},
			}
		},
		CacheFn: func(names []string) []InfoCacheMaster {
			return []InfoCacheMaster{{Name: "m", Entries: []InfoCacheEntry{{AgeMillis: 12, Info: "# Server\r\n", Valid: true}, {AgeMillis: 3}}}}
		},
		FlushFn: func() error { return errors.New("rename sentinel.conf: permission denied") },
	}
	_, addr := startServer(t, Config{Backend: fb})
	rc := dialRaw(t, addr)
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "10.0.0.1", "6379", "-1", "abc"}, "*3\r\n:1\r\n$1\r\n*\r\n:7\r\n"},
		{[]string{"SENTINEL", "PENDING-SCRIPTS"}, "*2\r\n*10\r\n$4\r\nargv\r\n*2\r\n$5\r\n/s.sh\r\n$6\r\n+sdown\r\n$5\r\nflags\r\n$7\r\nrunning\r\n$3\r\npid\r\n$2\r\n42\r\n$8\r\nrun-time\r\n$1\r\n5\r\n$9\r\nretry-num\r\n$1\r\n1\r\n" +
			"*10\r\n$4\r\nargv\r\n*1\r\n$5\r\n/s.sh\r\n$5\r\nflags\r\n$9\r\nscheduled\r\n$3\r\npid\r\n$1\r\n0\r\n$9\r\nrun-delay\r\n$1\r\n0\r\n$9\r\nretry-num\r\n$1\r\n0\r\n"},
		{[]string{"SENTINEL", "INFO-CACHE", "m"}, "*2\r\n$1\r\nm\r\n*2\r\n*2\r\n:12\r\n$10\r\n# Server\r\n\r\n*2\r\n:3\r\n$-1\r\n"},
		{[]string{"SENTINEL", "FLUSHCONFIG"}, "-ERR rename sentinel.conf: permission denied\r\n"},
		{[]string{"SENTINEL", "FAILOVER", "mymaster"}, "-NOGOODSLAVE No suitable replica to promote\r\n"},
		{[]string{"SENTINEL", "SIMULATE-FAILURE", "CRASH-AFTER-PROMOTION", "crash-after-election"}, "+OK\r\n"},
	}
	for _, c := range checks {
		if got := string(rc.do(c.args...)); got != c.want {
			t.Errorf("%q =\n%q\nwant\n%q", c.args, got, c.want)
		}
	}
	if downArgs != "10.0.0.1 6379 18446744073709551615 abc" {
		t.Errorf("IsMasterDownByAddr args = %q", downArgs)
	}
	fb.mu.Lock()
	flags := fb.simFlags
	fb.mu.Unlock()
	if !reflect.DeepEqual(flags, []string{"crash-after-promotion", "crash-after-election"}) {
		t.Errorf("SimulateFailure flags = %q", flags)
	}
	rc.do("HELLO", "3")
	if got := string(rc.do("SENTINEL", "INFO-CACHE", "m")); got != "*2\r\n$1\r\nm\r\n*2\r\n*2\r\n:12\r\n$10\r\n# Server\r\n\r\n*2\r\n:3\r\n_\r\n" {
		t.Errorf("RESP3 INFO-CACHE = %q", got)
	}
	if got := string(rc.do("SENTINEL", "DEBUG")); got != "%2\r\n$11\r\nINFO-PERIOD\r\n$5\r\n10000\r\n$11\r\nPING-PERIOD\r\n$4\r\n1000\r\n" {
		t.Errorf("RESP3 DEBUG = %q", got)
	}
}

func TestMaxClients(t *testing.T) {
	srv, addr := startServer(t, Config{})
	srv.mu.Lock()
	srv.maxClients = 2
	srv.mu.Unlock()
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.do("PING")
	b.do("PING")
	c := dialRaw(t, addr)
	out, err := c.expectClosed(5 * time.Second)
	if err != nil || string(out) != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client got %q, %v", out, err)
	}
	if st := srv.Stats(); st.RejectedConnections != 1 || st.ConnectedClients != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestMaxClientsOverTLSWithSilentPeer: on a TLS listener at maxclients, a
// connection is closed at once, before any handshake, as redis closes it
// (its write of the error fails before the handshake): a peer that
// connects and never sends its handshake holds nothing, nor does it hold
// up the clients behind it. The rejection was first written from the
// accept loop, where the write ran the handshake and waited on the silent
// peer for as long as it stayed connected, and Close with it; then from a
// goroutine of its own for up to a second, a descriptor held per refusal.
func TestMaxClientsOverTLSWithSilentPeer(t *testing.T) {
	files := redistest.NewTLSFiles(t)
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Backend: &fakeBackend{}, RunID: strings.Repeat("ab", 20)})
	if err != nil {
		t.Fatal(err)
	}
	srv.maxClients = 1
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := tcp.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(tcp, &tls.Config{Certificates: []tls.Certificate{cert}})) }()

	first, err := redistest.DialTLS(addr, files.Client, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if r, err := first.Do("PING"); err != nil || r.Str != "PONG" {
		t.Fatalf("first client PING = %+v, %v", r, err)
	}
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The silent peer is cut at once, and the client behind it is refused
	// its handshake.
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(silent); err != nil || len(b) != 0 {
		t.Fatalf("silent peer read %q, %v; want the end of the stream", b, err)
	}
	third, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, files.Client)
	if err == nil {
		_ = third.SetDeadline(time.Now().Add(5 * time.Second))
		out, rerr := io.ReadAll(third)
		third.Close()
		t.Fatalf("client behind the silent peer: handshake done, read %q, %v; want it refused", out, rerr)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waiting after 5 s")
	}
	if err := <-served; err != nil && !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// TestServeAcceptsPastEMFILE: Serve waits and accepts again after an
// accept error other than its listener's close. Only errors that said
// Timeout were retried, and EMFILE does not: Serve returned, and the port
// stayed open with nobody accepting.
func TestServeAcceptsPastEMFILE(t *testing.T) {
	srv, err := NewServer(Config{Backend: &fakeBackend{}, RunID: strings.Repeat("ab", 20)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(&redistest.EMFILEListener{Listener: ln, Fails: 3}) }()
	defer srv.Close()
	c, err := redistest.Dial(ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pong := make(chan string, 1)
	go func() {
		r, err := c.Do("PING")
		if err != nil {
			pong <- err.Error()
			return
		}
		pong <- r.Str
	}()
	select {
	case got := <-pong:
		if got != "PONG" {
			t.Fatalf("PING = %q", got)
		}
	case err := <-served:
		t.Fatalf("Serve returned %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no PONG after the accept errors")
	}
}

func TestBackendErrorMapping(t *testing.T) {
	fb := &fakeBackend{
		RemoveFn: func(string) error { return fmt.Errorf("wrapped: %w", ErrNoSuchMaster) },
		SetFn:    func(string, []string) error { return errors.New("NOQUORUM 1 usable Sentinels. x") },
		CfgSetFn: func([]string) error { return errors.New("disk\r\nfull") },
	}
	_, addr := startServer(t, Config{Backend: fb})
	rc := dialRaw(t, addr)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"SENTINEL", "REMOVE", "x"}, "-ERR No such master with that name\r\n"},
		{[]string{"SENTINEL", "SET", "x", "quorum", "1"}, "-NOQUORUM 1 usable Sentinels. x\r\n"},
		{[]string{"SENTINEL", "CONFIG", "SET", "a", "b"}, "-ERR disk  full\r\n"},
	} {
		if got := string(rc.do(c.args...)); got != c.want {
			t.Errorf("%q = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestCloseWithStuckReader: a client that pipelines lots of output and
// never reads must not keep Close waiting.
func TestCloseWithStuckReader(t *testing.T) {
	srv, err := NewServer(Config{Backend: &fakeBackend{}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		req := encodeCommand("COMMAND", "DOCS")
		for i := 0; i < 600; i++ {
			if _, err := conn.Write(req); err != nil {
				return
			}
		}
		_ = conn.(*net.TCPConn).CloseWrite()
	}()
	redistest.Until(t, 5*time.Second, "output backlog", func() bool { return srv.Stats().TotalCommands >= 100 })
	done := make(chan struct{})
	go func() {
		_ = srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a client that does not read")
	}
}

func TestClientKillForms(t *testing.T) {
	_, addr := startServer(t, Config{})
	admin := dialRaw(t, addr)
	victim := func() (*rawConn, string, string, string) {
		rc := dialRaw(t, addr)
		id := strings.Trim(string(rc.do("CLIENT", "ID")), ":\r\n")
		info := string(rc.do("CLIENT", "INFO"))
		field := func(k string) string {
			i := strings.Index(info, " "+k+"=")
			rest := info[i+len(k)+2:]
			return rest[:strings.IndexByte(rest, ' ')]
		}
		return rc, id, field("addr"), field("laddr")
	}
	rc, id, _, _ := victim()
	if got := string(admin.do("CLIENT", "KILL", "ID", id)); got != ":1\r\n" {
		t.Fatalf("KILL ID = %q", got)
	}
	if _, err := rc.expectClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	rc, _, raddr, _ := victim()
	if got := string(admin.do("CLIENT", "KILL", raddr)); got != "+OK\r\n" {
		t.Fatalf("KILL <addr> = %q", got)
	}
	if _, err := rc.expectClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	rc, _, raddr, laddr := victim()
	if got := string(admin.do("CLIENT", "KILL", "ADDR", raddr, "LADDR", laddr, "SKIPME", "yes")); got != ":1\r\n" {
		t.Fatalf("KILL ADDR LADDR = %q", got)
	}
	if _, err := rc.expectClosed(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The old form may kill the caller itself, after replying.
	self, _, saddr, _ := victim()
	self.send(encodeCommand("CLIENT", "KILL", saddr))
	out, err := self.expectClosed(5 * time.Second)
	if err != nil || string(out) != "+OK\r\n" {
		t.Fatalf("self kill: %q, %v", out, err)
	}
}

// TestHalfClosedClientGetsReplyAndEOF: a client that sends a request and
// shuts its side down at once (printf PING | nc -N) gets the reply and then
// the end of the stream, as redis answers and closes on EOF. The request
// and the FIN often arrive before the poller looks, and it reports them
// once (edge-triggered): only the read after the reply, which finds the
// end, sees that FIN. A loop that waited for readiness after a short read
// instead left such a client hanging (2 of 50 on loopback).
func TestHalfClosedClientGetsReplyAndEOF(t *testing.T) {
	_, addr := startServer(t, Config{})
	for i := 0; i < 200; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || string(got) != "+PONG\r\n" {
			t.Fatalf("connection %d: read %q, %v; want +PONG then the end of the stream", i, got, err)
		}
	}
}
