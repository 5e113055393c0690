package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

// `loglevel nothing` (Redis 7.2's) under the 7.0 profile: redis-sentinel
// 7.0.15 refuses the file with its table of levels, so gosentinel must too,
// or a file the 8.0 profile wrote would not read back after a roll back.
func TestLogLevelNothingRefusedUnder70(t *testing.T) {
	t.Setenv("GOSENTINEL_COMPAT", "7.0")
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("port 0\nloglevel nothing\nsentinel monitor m 127.0.0.1 6379 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	exited := make(chan int, 1)
	go func() { exited <- run([]string{conf}, &stdout, &stderr) }()
	select {
	case code := <-exited:
		if code != 1 {
			t.Fatalf("exit code %d, want 1", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running after 10 s: the file was accepted")
	}
	want := "Reading the configuration file, at line 2\n>>> 'loglevel nothing'\n" +
		"argument(s) must be one of the following: debug, verbose, notice, warning\n"
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr:\n%s\nwant it to hold:\n%s", stderr.String(), want)
	}
}

// parseArgs follows redis-server's argv (7.0.1 on): the argument after an
// option's bare name is its value even if it starts with "--", but for
// --save and --sentinel, which take none when an option follows.
func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want [][]string
	}{
		{[]string{"s.conf", "--port", "1", "--sentinel"}, [][]string{{"port", "1"}, {"sentinel"}}},
		{[]string{"s.conf", "--requirepass", "--secret"}, [][]string{{"requirepass", "--secret"}}},
		{[]string{"s.conf", "--loglevel", "--x", "--port", "2"}, [][]string{{"loglevel", "--x"}, {"port", "2"}}},
		{[]string{"s.conf", "--save", "--port", "3"}, [][]string{{"save"}, {"port", "3"}}},
		{[]string{"s.conf", "--sentinel", "--port", "4"}, [][]string{{"sentinel"}, {"port", "4"}}},
		{[]string{"s.conf", "--sentinel", "myid", "x"}, [][]string{{"sentinel", "myid", "x"}}},
		{[]string{"s.conf", "--port 5", "--bind", "a", "b"}, [][]string{{"port 5"}, {"bind", "a", "b"}}},
		{[]string{"s.conf", "--save"}, [][]string{{"save"}}},
	} {
		path, got, err := parseArgs(tc.args)
		if err != nil || path != "s.conf" || !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("parseArgs(%q) = %q, %q, %v; want %q", tc.args, path, got, err, tc.want)
		}
	}
}
