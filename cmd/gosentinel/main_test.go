package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A port another process holds: exit 1 with the reason in the log, and
// nothing on stderr (redis' test harness fails a run on any stderr output,
// and restarting onto a busy port is one of its cases).
func TestBusyPortIsReportedInTheLog(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	logPath := filepath.Join(dir, "log.txt")
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\nlogfile %s\n", port, logPath)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{conf}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr not empty: %q", stderr.String())
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Failed listening on port %d (TCP), aborting.", port)
	if !strings.Contains(string(log), "Could not create server TCP listening socket") || !strings.Contains(string(log), want) {
		t.Fatalf("log does not report the busy port:\n%s", log)
	}
}
