// Command gen captures, from a real redis-sentinel binary, the replies that
// the sentinel package replays verbatim: COMMAND and COMMAND DOCS (in RESP2
// and RESP3, which describe the command table: names, arities, flags, ACL
// categories, documentation) and the HELP texts of the container commands.
//
// It starts its own redis-sentinel on a free loopback port in a temporary
// directory, captures the raw reply bytes and stops the process it started.
// Run it through `go generate ./sentinel/` (see the directive in
// sentinel/captured.go); the output files are committed.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// capture is one file to write: the commands to send first (replies
// discarded), then the command whose raw reply is saved, and how to put the
// reply in a canonical order (redis lists commands in hash-table order,
// which changes with every process).
type capture struct {
	file      string
	setup     [][]string
	command   []string
	canonical func(*node)
}

var captures = []capture{
	{file: "command.resp2", command: []string{"COMMAND"}, canonical: sortCommandInfo},
	{file: "command.resp3", setup: [][]string{{"HELLO", "3"}}, command: []string{"COMMAND"}, canonical: sortCommandInfo},
	{file: "docs.resp2", command: []string{"COMMAND", "DOCS"}, canonical: sortCommandDocs},
	{file: "docs.resp3", setup: [][]string{{"HELLO", "3"}}, command: []string{"COMMAND", "DOCS"}, canonical: sortCommandDocs},
	{file: "help-sentinel.resp", command: []string{"SENTINEL", "HELP"}},
	{file: "help-client.resp", command: []string{"CLIENT", "HELP"}},
	{file: "help-acl.resp", command: []string{"ACL", "HELP"}},
	{file: "help-command.resp", command: []string{"COMMAND", "HELP"}},
}

func main() {
	out := flag.String("out", "captured", "directory to write the captured replies to")
	bin := flag.String("sentinel", "/usr/bin/redis-sentinel", "redis-sentinel binary to capture from")
	flag.Parse()
	if err := run(*bin, *out); err != nil {
		log.Fatal(err)
	}
}

func run(bin, out string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gosentinel-gen-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\ndir %s\n", port, dir)), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	cmd := exec.Command(bin, conf)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", out, err)
	}
	for _, c := range captures {
		raw, err := captureOne(addr, c)
		if err != nil {
			return fmt.Errorf("capture %s: %w", c.file, err)
		}
		if c.canonical != nil {
			n, used, err := parseNode(raw)
			if err != nil || used != len(raw) {
				return fmt.Errorf("parse %s: %v", c.file, err)
			}
			c.canonical(n)
			raw = n.bytes()
		}
		if err := os.WriteFile(filepath.Join(out, c.file), raw, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", c.file, err)
		}
		log.Printf("captured %s (%d bytes)", c.file, len(raw))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// captureOne dials (retrying while the sentinel starts), runs the setup
// commands and returns the raw reply of the captured command.
func captureOne(addr string, c capture) ([]byte, error) {
	var conn net.Conn
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err = net.Dial("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(conn)
	for _, args := range append(c.setup, c.command) {
		if _, err := conn.Write(encode(args)); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
	}
	for range c.setup {
		if _, err := readReply(rd); err != nil {
			return nil, err
		}
	}
	return readReply(rd)
}

func encode(args []string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// readReply reads one complete RESP2/RESP3 reply and returns its raw bytes.
func readReply(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errors.New("malformed reply line")
	}
	head := string(line[1 : len(line)-2])
	switch line[0] {
	case '+', '-', ':', ',', '_', '#', '(':
		return line, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(head)
		if err != nil {
			return nil, fmt.Errorf("bad length %q: %w", head, err)
		}
		if n < 0 {
			return line, nil
		}
		body := make([]byte, n+2)
		if _, err := ioReadFull(rd, body); err != nil {
			return nil, err
		}
		return append(line, body...), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(head)
		if err != nil {
			return nil, fmt.Errorf("bad count %q: %w", head, err)
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			el, err := readReply(rd)
			if err != nil {
				return nil, err
			}
			out = append(out, el...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line[0])
}

func ioReadFull(rd *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := rd.Read(b[n:])
		n += m
		if err != nil {
			return n, fmt.Errorf("read body: %w", err)
		}
	}
	return n, nil
}
