package sentinel

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/redisargs"
)

// fuzzDeadline bounds how long the server may take to answer and close.
const fuzzDeadline = 5 * time.Second

// newFuzzServer builds a server over a fake backend with CLIENT PAUSE
// capped, so that no input can stall it for long.
func newFuzzServer(t testing.TB) *Server {
	srv, err := NewServer(Config{Backend: &fakeBackend{}, RunID: strings.Repeat("0", 40)})
	if err != nil {
		t.Fatal(err)
	}
	srv.maxPause = 20 * time.Millisecond
	return srv
}

// checkRESPStream verifies out is a sequence of complete RESP values.
func checkRESPStream(t *testing.T, out []byte) {
	for len(out) > 0 {
		_, n, err := scanRESP(out)
		if err != nil {
			t.Fatalf("malformed output %q: %v", out, err)
		}
		out = out[n:]
	}
}

// FuzzServe feeds arbitrary bytes through a connection: the server must
// answer with well-formed RESP and close the connection once the client
// has finished sending, within a bounded time, and shut down cleanly.
func FuzzServe(f *testing.F) {
	for _, s := range []string{
		"PING\r\n\n", "*1\r\n$4\r\nPING\r\n", "*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nPING\r\n",
		"HELLO 3\r\nSUBSCRIBE a b\r\nPING\r\nUNSUBSCRIBE\r\n", "CLIENT REPLY SKIP\r\nPING\r\n",
		"ACL SETUSER u on >p +@all\r\nAUTH u p\r\nACL LIST\r\n", "*2\r\n$4\r\nPING\r\n$-1\r\n",
		"PING \"unbalanced\r\n", "SENTINEL MASTERS\r\nINFO\r\nCOMMAND DOCS\r\n", "CLIENT PAUSE 1000\r\nPING\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := newFuzzServer(t)
		ln := newMemListener()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		conn, err := ln.dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go func() {
			// The server may close first (protocol error): ignore errors.
			_, _ = conn.Write(data)
			_ = conn.CloseWrite()
		}()
		outc := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(conn)
			outc <- b
		}()
		var out []byte
		select {
		case out = <-outc:
		case <-time.After(fuzzDeadline):
			t.Fatalf("server neither answered nor closed within %v", fuzzDeadline)
		}
		if !bytes.Contains(data, []byte("POST")) && !bytes.Contains(bytes.ToLower(data), []byte("host:")) && !bytes.Contains(bytes.ToLower(data), []byte("shutdown")) {
			checkRESPStream(t, out)
		}
		closed := make(chan struct{})
		go func() {
			_ = srv.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(fuzzDeadline):
			t.Fatalf("Close did not return")
		}
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
	})
}

var (
	dispatchOnce sync.Once
	dispatchLn   *memListener
)

// FuzzDispatch runs arbitrary argument vectors (NUL-separated in the
// input; a leading 0x03 selects RESP3) through the command table on a
// shared server: every command must get well-formed replies and the
// server must stay responsive.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		"PING", "SENTINEL\x00MASTERS", "SENTINEL\x00IS-MASTER-DOWN-BY-ADDR\x00127.0.0.1\x00x\x000\x00*",
		"\x03ACL\x00GETUSER\x00default", "ACL\x00SETUSER\x00x\x00(+ping\x00~a)", "CLIENT\x00KILL\x00ID\x0099",
		"CLIENT\x00TRACKING\x00on\x00BCAST\x00PREFIX\x00a", "\x03SUBSCRIBE\x00a", "COMMAND\x00INFO\x00client|list",
		"HELLO\x003\x00AUTH\x00default\x00x\x00SETNAME\x00n", "SENTINEL\x00SIMULATE-FAILURE\x00help",
		"ACL\x00DRYRUN\x00default\x00PUBLISH\x00a\x00b", "INFO\x00everything",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dispatchOnce.Do(func() {
			srv := newFuzzServer(t)
			dispatchLn = newMemListener()
			go func() { _ = srv.Serve(dispatchLn) }()
		})
		resp3 := len(data) > 0 && data[0] == 3
		if resp3 {
			data = data[1:]
		}
		args := strings.Split(string(data), "\x00")
		if len(args) > 64 {
			args = args[:64]
		}
		first := redisargs.Lower(args[0])
		if first == "shutdown" || first == "post" || first == "host:" {
			return // these close the connection without a reply by design
		}
		if first == "client" && len(args) > 1 && redisargs.Lower(args[1]) == "pause" {
			// The server is shared by every iteration: a long CLIENT PAUSE
			// would stall all the following ones (and the fuzzer's own
			// shutdown at -fuzztime). Pausing is covered by unit tests.
			return
		}
		conn, err := dispatchLn.dial()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var in []byte
		if resp3 {
			in = append(in, encodeCommand("HELLO", "3")...)
		}
		in = append(in, encodeCommand(args...)...)
		// CLIENT REPLY OFF/SKIP would hide the marker's reply.
		in = append(in, encodeCommand("CLIENT", "REPLY", "ON")...)
		in = append(in, encodeCommand(markerText)...)
		go func() { _, _ = conn.Write(in) }()
		done := make(chan []byte, 1)
		go func() {
			var out []byte
			buf := make([]byte, 64<<10)
			for !bytes.Contains(out, []byte(markerText)) {
				n, err := conn.Read(buf)
				out = append(out, buf[:n]...)
				if err != nil {
					break // e.g. CLIENT KILL of itself
				}
			}
			done <- out
		}()
		select {
		case out := <-done:
			if i := bytes.Index(out, []byte("-ERR unknown command '"+markerText)); i >= 0 {
				checkRESPStream(t, out[:i])
			}
		case <-time.After(fuzzDeadline):
			// Show where the server is stuck (bounded: a fuzz worker's
			// failure report must stay small).
			buf := make([]byte, 32<<10)
			n := runtime.Stack(buf, true)
			t.Fatalf("%q: no reply within %v; goroutines:\n%s", args, fuzzDeadline, buf[:n])
		}
	})
}
