package config

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/x0tta6bl4/gosentinel/quorum"
)

func mustParse(t *testing.T, text string, overrides ...[]string) *Config {
	t.Helper()
	c, err := Parse("test.conf", []byte(text), overrides)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, "")
	wd, _ := os.Getwd()
	if c.Port != 26379 || c.LogLevel != "notice" || c.ProtectedMode || !c.DenyScriptsReconfig ||
		c.DefaultDownAfterMs != 30000 || c.DefaultFailoverTimeoutMs != 180000 ||
		!reflect.DeepEqual(c.Bind, DefaultBind) || c.TLSAuthClients != "yes" || c.Dir != wd ||
		!filepath.IsAbs(c.Path) {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `a b  c`, want: []string{"a", "b", "c"}},
		{in: `"a b" 'c d'`, want: []string{"a b", "c d"}},
		{in: `"\x41\n\t\"\\q"`, want: []string{"A\n\t\"\\q"}},
		{in: `'it\'s'`, want: []string{"it's"}},
		{in: `'a\nb'`, want: []string{`a\nb`}},
		{in: `""`, want: []string{""}},
		{in: `a"b"`, want: []string{"ab"}},
		{in: `"a"b`, bad: true},
		{in: `"abc`, bad: true},
		{in: `'abc`, bad: true},
		{in: "a\x00b c", want: []string{"a"}},
	}
	for _, tt := range tests {
		got, err := splitArgs(tt.in)
		if tt.bad != (err != nil) || (!tt.bad && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("splitArgs(%q) = %q, %v", tt.in, got, err)
		}
	}
	for _, s := range []string{"", "a b", "\x00\xff\"\\\n", "plain"} {
		got, err := splitArgs(repr(s))
		if err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("repr round trip of %q: %q %v", s, got, err)
		}
	}
}

func TestNormalizeIP(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1": "127.0.0.1", "127.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1",
		"2130706433": "127.0.0.1", "::1": "::1", "::FFFF:1.2.3.4": "::ffff:1.2.3.4",
		"::1.2.3.4": "::1.2.3.4", "2001:DB8:0:0:0:0:0:1": "2001:db8::1",
		"localhost": "", "1.2.3.4.5": "", "256.1.1.1": "", "": "", "1.2.3.4 ": "",
	}
	for in, want := range tests {
		got, ok := NormalizeIP(in)
		if ok != (want != "") || got != want {
			t.Errorf("NormalizeIP(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSentinelDirectives(t *testing.T) {
	script := filepath.Join(t.TempDir(), "notify.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Per-master lines before their monitor line, and globals last: the three passes.
	text := `
sentinel config-epoch mymaster 5
sentinel leader-epoch mymaster 6
sentinel known-slave mymaster 127.0.0.2 6380
sentinel known-replica mymaster 127.1 6381
sentinel known-sentinel mymaster 127.0.0.3 26379 ` + strings.Repeat("e", 40) + `
sentinel known-sentinel mymaster 127.0.0.4 26379
sentinel rename-command mymaster CONFIG XCONFIG
sentinel notification-script mymaster ` + script + `
sentinel auth-pass mymaster "p w"
sentinel auth-user mymaster u
sentinel master-reboot-down-after-period mymaster 1000
sentinel parallel-syncs mymaster -3
SENTINEL MONITOR mymaster 127.0.0.1 6379 2
sentinel current-epoch 3
sentinel myid ` + strings.Repeat("f", 40) + `
sentinel announce-ip ""
sentinel announce-port 26999
sentinel sentinel-user su
sentinel sentinel-pass sp
sentinel resolve-hostnames YES
sentinel announce-hostnames no
sentinel deny-scripts-reconfig no
sentinel
`
	c := mustParse(t, text)
	m := c.Master("mymaster")
	want := &Master{Name: "mymaster", Host: "127.0.0.1", Port: 6379,
		ConfigEpoch: 5, LeaderEpoch: 6,
		KnownReplicas:  []Addr{{Host: "127.0.0.2", Port: 6380}, {Host: "127.0.0.1", Port: 6381}},
		KnownSentinels: []KnownSentinel{{Addr{Host: "127.0.0.3", Port: 26379}, strings.Repeat("e", 40)}}, Settings: quorum.Settings{Quorum: 2, ParallelSyncs: -3, NotificationScript: script, AuthPass: "p w", AuthUser: "u", RebootDownAfterMs: 1000, RenameCommands: [][2]string{{"CONFIG", "XCONFIG"}}}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("master:\n got %+v\nwant %+v", m, want)
	}
	if c.CurrentEpoch != 5 || c.MyID != strings.Repeat("f", 40) || c.AnnounceIP != "" ||
		c.AnnouncePort != 26999 || c.SentinelUser != "su" || c.SentinelPass != "sp" ||
		!c.ResolveHostnames || c.AnnounceHostnames || c.DenyScriptsReconfig {
		t.Fatalf("globals: %+v", c)
	}
	if c.EffectiveDownAfterMs(m) != 30000 || c.EffectiveFailoverTimeoutMs(m) != 180000 {
		t.Fatal("effective defaults")
	}
}

func TestHostnames(t *testing.T) {
	c := mustParse(t, "sentinel resolve-hostnames yes\nsentinel monitor m redis-0.svc 6379 2\n"+
		"sentinel known-replica m 127.1 6380\n")
	m := c.Master("m")
	if m.Host != "redis-0.svc" || m.KnownReplicas[0].Host != "127.0.0.1" {
		t.Fatalf("%+v", m)
	}
	// redis would announce 127.1 but dial 127.0.0.1; Go's dialer takes
	// 127.1 for a name, so the sentinel never reached such a master.
	c = mustParse(t, "sentinel announce-hostnames yes\nsentinel monitor m 127.1 6379 2\n")
	if c.Master("m").Host != "127.0.0.1" {
		t.Fatalf("announce-hostnames: a numeric address kept as %q, want the IP it dials", c.Master("m").Host)
	}
}

func TestScriptsRelativeToDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := "sentinel monitor m 127.0.0.1 6379 2\nsentinel client-reconfig-script m ./s.sh\n"
	if _, err := Parse("x.conf", []byte(text), nil); err == nil {
		t.Fatal("script found relative to the process cwd, want relative to dir")
	}
	c := mustParse(t, "dir "+dir+"\n"+text)
	if c.Master("m").ClientReconfigScript != "./s.sh" || c.Dir != dir {
		t.Fatalf("%+v", c.Master("m"))
	}
}

func TestOverrides(t *testing.T) {
	c := mustParse(t, "port 26379\nloglevel warning\n",
		[]string{"port", "26380"}, []string{"sentinel"}, []string{"loglevel", "debug"},
		[]string{"save"}, []string{"maxmemory", "1gb"}, []string{"bind", "127.0.0.1 ::1"})
	if c.Port != 26380 || c.LogLevel != "debug" || !reflect.DeepEqual(c.Bind, []string{"127.0.0.1", "::1"}) {
		t.Fatalf("%+v", c)
	}
	var names []string
	for _, d := range c.Generic {
		names = append(names, d.Name)
	}
	if !reflect.DeepEqual(names, []string{"save", "maxmemory"}) {
		t.Fatalf("generic %v", names)
	}
	// The overrides come after the file and an empty line, like redis' options string.
	_, err := Parse("x.conf", []byte("port 1\n"), [][]string{{"port", "x y"}})
	var fe *FatalError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.Text != `port "x y"` {
		t.Fatalf("override error: %#v", err)
	}
}

func TestModeledGenerics(t *testing.T) {
	c := mustParse(t, `bind ""
logfile ""
daemonize YES
pidfile /run/s.pid
protected-mode yes
requirepass ""
aclfile /etc/users.acl
tls-port 26380
tls-cert-file c.pem
tls-key-file k.pem
tls-ca-cert-file ca.pem
tls-replication yes
tls-auth-clients OPTIONAL
user alice on >pw ~* +@all
`)
	if len(c.Bind) != 0 || c.Bind == nil || c.LogFile != "" || !c.Daemonize || c.PidFile != "/run/s.pid" ||
		!c.ProtectedMode || c.HasRequirePass || c.ACLFile != "/etc/users.acl" || c.TLSPort != 26380 ||
		c.TLSCertFile != "c.pem" || c.TLSKeyFile != "k.pem" || c.TLSCACertFile != "ca.pem" ||
		!c.TLSReplication || c.TLSAuthClients != "optional" || len(c.Generic) != 0 ||
		!reflect.DeepEqual(c.Users, [][]string{{"alice", "on", ">pw", "~*", "+@all"}}) {
		t.Fatalf("%+v", c)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := mustParse(t, "user a on\nhz 20\nsentinel monitor m 127.0.0.1 6379 2\nsentinel known-replica m 127.0.0.1 6380\n"+
		"sentinel known-sentinel m 127.0.0.1 26380 "+strings.Repeat("a", 40)+"\nsentinel rename-command m PING P\n")
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("clone differs")
	}
	d.Bind[0] = "x"
	d.Users[0][0] = "x"
	d.Generic[0].Args[0] = "x"
	dm := d.Masters[0]
	dm.Name = "x"
	dm.KnownReplicas[0].Port = 1
	dm.KnownSentinels[0].RunID = "x"
	dm.RenameCommands[0][1] = "x"
	d.Masters = append(d.Masters, &Master{})
	m := c.Masters[0]
	if c.Bind[0] != "*" || c.Users[0][0] != "a" || c.Generic[0].Args[0] != "20" || m.Name != "m" ||
		m.KnownReplicas[0].Port != 6380 || m.KnownSentinels[0].RunID != strings.Repeat("a", 40) ||
		m.RenameCommands[0][1] != "P" || len(c.Masters) != 1 {
		t.Fatal("clone shares memory with the original")
	}
	if (*Config)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.conf"), nil)
	var fe *FatalError
	if err == nil || errors.As(err, &fe) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load = %v", err)
	}
}

// TestMaxClients: the last maxclients line counts, as in redis; without
// one, redis' default.
func TestMaxClients(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"", DefaultMaxClients},
		{"maxclients 128\n", 128},
		{"maxclients 128\nmaxclients 64\n", 64},
		{"maxclients 4294967295\n", math.MaxInt32},
	} {
		if got := mustParse(t, tc.text).MaxClients(); got != tc.want {
			t.Errorf("%q: maxclients %d, want %d", tc.text, got, tc.want)
		}
	}
}

// TestHz: the configured hz is brought within redis' 1..500 after the file
// (config.c:loadServerConfigFromString), INFO's configured_hz.
func TestHz(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"", DefaultHz},
		{"hz 3\n", 3},
		{"hz 0\n", 1},
		{"hz 2147483647\n", 500},
		{"hz 700\nhz 20\n", 20},
	} {
		if got := mustParse(t, tc.text).Hz(); got != tc.want {
			t.Errorf("%q: hz %d, want %d", tc.text, got, tc.want)
		}
	}
}

// TestConfigText: the file's bytes as loadServerConfig reads them, fgets
// pieces of at most 1024 bytes each appended up to its first NUL (the cases
// of testdata/errors/nul-*, captured from redis-sentinel 7.0.15).
func TestConfigText(t *testing.T) {
	long := strings.Repeat("x", 1015)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"port 5\n", "port 5\n"},
		{"port 5", "port 5"},
		{"loglevel warning\x00junk\nport 5\n", "loglevel warningport 5\n"},
		{"foo\x00\nbar\n", "foobar\n"},
		{"a\n\x00\n\x00\nbogus\n", "a\nbogus\n"},
		{"\x00", ""},
		{"a\x00b\x00c\nd", "ad"},
		// A piece ends after 1024 bytes without a newline: what follows is
		// the next piece, read whether or not a NUL cut the first.
		{"loglevel\x00" + long + " warning\n", "loglevel warning\n"},
		{"loglevel\x00" + long + "x warning\n", "loglevelx warning\n"},
		{strings.Repeat("y", 1024) + "\x00z\nw", strings.Repeat("y", 1024) + "w"},
	} {
		if got := configText([]byte(tc.in)); got != tc.want {
			t.Errorf("configText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
