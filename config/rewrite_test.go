package config

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

// TestStartInitTemplateKeptByteIdentical reproduces the official suite's (start-init) check
// (tests/sentinel/tests/includes/start-init-tests.tcl): the harness appends its lines to
// tests/sentinel/tests/includes/sentinel.conf of redis 7.0.15, the sentinel flushes its
// config (at startup, since there is no myid, and on SENTINEL FLUSHCONFIG), and every line of
// the template up to its first empty line must be unchanged.
func TestStartInitTemplateKeptByteIdentical(t *testing.T) {
	tmpl, err := os.ReadFile("testdata/start-init-template.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sentinel_0"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sentinel_0", "sentinel.conf")
	harness := "port 20000\nrepl-diskless-sync-delay 0\ndir ./sentinel_0\nlogfile log.txt\n" +
		"sentinel deny-scripts-reconfig no\nenable-protected-configs yes\nenable-debug-command yes\n"
	if err := os.WriteFile(conf, append(append([]byte{}, tmpl...), harness...), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := Load("sentinel_0/sentinel.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != conf || c.Dir != filepath.Join(dir, "sentinel_0") {
		t.Fatalf("Path %q Dir %q", c.Path, c.Dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "sentinel_0", "log.txt")); err != nil {
		t.Fatalf("Load did not open the log file relative to dir: %v", err)
	}
	m := c.Master("setmaster")
	if m == nil || m.Host != "10.0.0.1" || m.Port != 30000 || m.Quorum != 2 || m.DownAfterMs != 20000 ||
		m.ParallelSyncs != 2 || m.FailoverTimeoutMs != 240000 || c.DenyScriptsReconfig {
		t.Fatalf("template not applied: %+v deny=%v", m, c.DenyScriptsReconfig)
	}
	c.MyID = strings.Repeat("a", 40)
	for i := 0; i < 2; i++ { // startup flush, then SENTINEL FLUSHCONFIG
		if err := Rewrite(c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	s1 := bufio.NewScanner(bytes.NewReader(tmpl))
	s2 := bufio.NewScanner(bytes.NewReader(got))
	for s1.Scan() && s1.Text() != "" {
		if !s2.Scan() {
			t.Fatal("sentinel config file rewrite sequence changed")
		}
		if s1.Text() != s2.Text() {
			t.Fatalf("line changed: %q -> %q\n%s", s1.Text(), s2.Text(), got)
		}
	}
	if c2, err := Load(conf, nil); err != nil || !reflect.DeepEqual(Render(c2, nil), Render(c, nil)) {
		t.Fatalf("reload of the rewritten file differs: %v", err)
	}
}

func TestRewriteAtomicAndMode(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("port 26380\n# keep me\nsentinel monitor m 127.0.0.1 6379 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(conf)
	if err != nil {
		t.Fatal(err)
	}
	c.MyID = strings.Repeat("b", 40)
	c.Master("m").ConfigEpoch = 5
	if err := Rewrite(c); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(conf)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Fatal("file rewritten in place; want a new inode renamed over it")
	}
	// The file holds secrets (auth-pass, sentinel-pass): its 0600 is kept
	// (redis' rewrite, and ours before, made it 0644 &^ umask).
	if want := os.FileMode(0o600); after.Mode().Perm() != want {
		t.Fatalf("mode %v, want %v kept", after.Mode().Perm(), want)
	}
	got, _ := os.ReadFile(conf)
	if !bytes.HasPrefix(got, []byte("port 26380\n# keep me\nsentinel monitor m 127.0.0.1 6379 2\n")) ||
		!bytes.Contains(got, []byte("sentinel config-epoch m 5\n")) {
		t.Fatalf("unexpected content:\n%s", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestRewriteFailsWhenPathIsADirectory(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor m 127.0.0.1 6379 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What 03-runtime-reconf.tcl does to provoke "Failed to save config file".
	if err := os.Remove(conf); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	err = Rewrite(c)
	if err == nil || !strings.Contains(err.Error(), conf) {
		t.Fatalf("Rewrite = %v, want an error naming the file", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestRewriteCreatesMissingFile(t *testing.T) {
	c, err := Parse("", []byte("sentinel monitor m 127.0.0.1 6379 2\nsentinel myid "+strings.Repeat("c", 40)+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Path = filepath.Join(t.TempDir(), "new.conf")
	if err := Rewrite(c); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(c.Path)
	if !strings.HasPrefix(string(got), rewriteSignature+"\n") || !strings.Contains(string(got), "sentinel monitor m 127.0.0.1 6379 2\n") {
		t.Fatalf("content:\n%s", got)
	}
}

func TestRenderRules(t *testing.T) {
	id := strings.Repeat("d", 40)
	tests := []struct {
		name      string
		in        string
		mutate    func(c *Config)
		want      string
		wantInOut []string
	}{
		{
			name: "surplus old lines removed and blank runs collapsed",
			in:   "port 1\n\n\nport 2\nsentinel myid " + id + "\n",
			want: "port 2\n\nsentinel myid " + id + "\n\n" + rewriteSignature + "\n",
		},
		{
			name:      "unknown and unparsable lines are commented out",
			in:        "list-max-ziplist-entries 5\nmymod.opt 1\nsentinel myid " + id + "\n",
			wantInOut: []string{"# ??? list-max-ziplist-entries 5\n", "# ??? mymod.opt 1\n"},
		},
		{
			name:      "known-slave lines are replaced by known-replica lines (redis duplicates them)",
			in:        "sentinel monitor m 127.0.0.1 6379 2\nsentinel known-slave m 127.0.0.1 6380\nsentinel myid " + id + "\n",
			wantInOut: []string{"sentinel monitor m 127.0.0.1 6379 2\nsentinel known-replica m 127.0.0.1 6380\n"},
		},
		{
			name:      "values that need it are quoted",
			in:        "sentinel monitor m 127.0.0.1 6379 2\nsentinel myid " + id + "\n",
			mutate:    func(c *Config) { c.Master("m").AuthPass = "a b\"c"; c.AnnounceIP = "10.0.0.9" },
			wantInOut: []string{"sentinel auth-pass m \"a b\\\"c\"\n", "sentinel announce-ip \"10.0.0.9\"\n"},
		},
		{
			name:      "generic options are canonicalized and kept in place",
			in:        "maxmemory 2048\nappendonly YES\noom-score-adj relative\nrename-command PING \"\"\nsentinel myid " + id + "\n",
			wantInOut: []string{"maxmemory 2kb\nappendonly yes\noom-score-adj yes\nrename-command PING \"\"\n"},
		},
		{
			name:      "aclfile drops user lines",
			in:        "aclfile /tmp/users.acl\nuser alice on\nsentinel myid " + id + "\n",
			wantInOut: []string{"aclfile \"/tmp/users.acl\"\n\nsentinel myid"},
		},
		{
			// Captured from redis-sentinel 7.0.15: hz is brought within 1..500 after the
			// file, and watchdog-period raised to two timer periods at that hz.
			name: "hz and watchdog-period are written as applied (high hz)",
			in:   "hz 2147483647\nwatchdog-period 12\nsentinel myid " + id + "\n",
			want: "hz 500\nwatchdog-period 12\n",
		},
		{
			name: "hz and watchdog-period are written as applied (hz 0)",
			in:   "hz 0\nwatchdog-period 12\nsentinel myid " + id + "\n",
			want: "hz 1\nwatchdog-period 2000\n",
		},
		{
			name: "hz and watchdog-period are written as applied (hz 3, default hz)",
			in:   "hz 3\nwatchdog-period 12\nwatchdog-period 0\nwatchdog-period 12\nsentinel myid " + id + "\n",
			want: "hz 3\nwatchdog-period 666\n\nsentinel myid",
		},
		{
			name: "watchdog-period at the default hz",
			in:   "watchdog-period 12\nsentinel myid " + id + "\n",
			want: "watchdog-period 200\n",
		},
		{
			// redis-sentinel 7.0.15 writes an empty list as "" however it was given.
			name: "latency-tracking-info-percentiles without an argument",
			in:   "latency-tracking-info-percentiles\nsentinel myid " + id + "\n",
			want: "latency-tracking-info-percentiles \"\"\n",
		},
		{
			// strtod's numbers, as redis-sentinel 7.0.15 reads and writes them.
			name: "latency-tracking-info-percentiles in hex",
			in:   "latency-tracking-info-percentiles 0x10 0x1p-2 1e-320 0x.8\nsentinel myid " + id + "\n",
			want: "latency-tracking-info-percentiles 16 0.25 0 0.5\n",
		},
		{
			// strtoll leaves end at the start of an empty string: redis-sentinel
			// 7.0.15 reads it as 0.
			name: "unixsocketperm empty",
			in:   "unixsocketperm \"\"\nsentinel myid " + id + "\n",
			want: "unixsocketperm 0\n",
		},
		{
			name: "unixsocketperm cut at a NUL",
			in:   "unixsocketperm \"7\\x00x\"\nsentinel myid " + id + "\n",
			want: "unixsocketperm 7\n",
		},
		{
			name:      "bind and requirepass",
			in:        "bind 127.0.0.1 ::1\nrequirepass pw\nsentinel myid " + id + "\n",
			wantInOut: []string{"bind 127.0.0.1 ::1\nrequirepass \"pw\"\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("x.conf", []byte(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.mutate != nil {
				tt.mutate(c)
			}
			got := string(Render(c, []byte(tt.in)))
			if tt.want != "" && !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got:\n%s\nwant prefix:\n%s", got, tt.want)
			}
			for _, w := range tt.wantInOut {
				if !strings.Contains(got, w) {
					t.Fatalf("got:\n%s\nwant to contain:\n%s", got, w)
				}
			}
			if _, err := Parse("x.conf", []byte(got), nil); err != nil {
				t.Fatalf("rendered config does not load: %v", err)
			}
		})
	}
}

func TestRenderHandBuiltConfig(t *testing.T) {
	c := &Config{Port: 26379, Dir: "/data", MyID: strings.Repeat("1", 40), DenyScriptsReconfig: true,
		Masters: []*Master{{Name: "m", Host: "10.0.0.5", Port: 6379, Settings: quorum.Settings{Quorum: 2, ParallelSyncs: 1},
			KnownReplicas: []Addr{{Host: "10.0.0.6", Port: 6379}}}},
		Users: [][]string{{"default", "on", "nopass", "~*", "&*", "+@all"}}}
	want := rewriteSignature + "\nprotected-mode no\nport 26379\ndir \"/data\"\n" +
		"latency-tracking-info-percentiles 50 99 99.9\nuser default on nopass ~* &* +@all\n" +
		"sentinel myid " + strings.Repeat("1", 40) + "\nsentinel monitor m 10.0.0.5 6379 2\n" +
		"sentinel config-epoch m 0\nsentinel leader-epoch m 0\nsentinel known-replica m 10.0.0.6 6379\n" +
		"sentinel current-epoch 0\n"
	if got := string(Render(c, nil)); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A sentinel loads no module, and redis' rewrite writes the modules loaded:
// redis-sentinel 7.0.15 blanks a loadmodule line at its first rewrite (seen
// by hand). Ours kept it.
func TestRewriteDropsLoadmodule(t *testing.T) {
	in := []byte("loadmodule /nonexistent/mod.so\nsentinel myid 0123456789012345678901234567890123456789\n")
	c, err := Parse("s.conf", in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := Render(c, in); bytes.Contains(out, []byte("loadmodule")) {
		t.Fatalf("rewrite kept the loadmodule line:\n%s", out)
	}
}

// The dir written is the physical working directory, getcwd(2)'s, as redis
// writes it. os.Getwd answered $PWD, a symlink's path to the same directory.
func TestDirIsThePhysicalWorkingDirectory(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real, link := filepath.Join(base, "real"), filepath.Join(base, "link")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(link)
	t.Setenv("PWD", link)
	c, err := Parse("s.conf", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != real {
		t.Fatalf("Dir = %q, redis writes dir %q", c.Dir, real)
	}
}

// TestRewriteReadsNULsAsRedis: the rewrite reads the old file whole
// (rewriteConfigReadOldFile's fread), not as the load does: NULs at either
// end of a line are trimmed with the blanks, a line kept keeps the NUL inside
// it, and a signature line followed by a NUL is the signature (strcmp). The
// lines before the appended block are what redis-sentinel 7.0.15 wrote for
// the same file (its port from --port).
func TestRewriteReadsNULsAsRedis(t *testing.T) {
	in := "sentinel monitor m 127.0.0.1 6399 2\n#x\x00\n\n#y\x00z\n\n\x00 \x00#w\n\nport 1\x00bar\n\n" +
		rewriteSignature + "\x00x\n\n"
	want := "sentinel monitor m 127.0.0.1 6399 2\n#x\n\n#y\x00z\n\n#w\n\nport 1\n\n" +
		rewriteSignature + "\x00x\n\n"
	c, err := Parse("x.conf", []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 1 {
		t.Fatalf("port %d, want 1", c.Port)
	}
	got := string(Render(c, []byte(in)))
	if !strings.HasPrefix(got, want) || strings.Count(got, rewriteSignature) != 1 {
		t.Fatalf("got:\n%q\nwant prefix:\n%q", got, want)
	}
}
