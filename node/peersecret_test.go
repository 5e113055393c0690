package node

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x0tta6bl4/gosentinel/config"
	"github.com/x0tta6bl4/gosentinel/internal/group"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// TestChoosePeerSecret: whenever the sentinel port is protected at all,
// peers need a secret derived from that protection, and the source is
// named; only a port with no password anywhere leaves peers on "".
// Before, a sentinel protected only by ACL users ran with "".
func TestChoosePeerSecret(t *testing.T) {
	users := func(lines ...string) map[string][]string {
		cfg, err := config.Parse("t.conf", []byte("port 26379\n"+strings.Join(lines, "\n")+"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return sentinel.UserPasswordHashes(cfg.Users)
	}
	acl := users("user default off", "user admin on >adminpw +@all", "user app on >apppw +@all")
	for _, tc := range []struct {
		name       string
		in         peerSecretInputs
		wantSource string // "" means no secret
		wantValue  string // checked when not ""
	}{
		{"nothing", peerSecretInputs{}, "", ""},
		{"explicit wins", peerSecretInputs{Explicit: "x", ExplicitSource: secretFromClusterSecret, SentinelPass: "sp", RequirePass: "rp", UserPasswords: acl}, secretFromClusterSecret, "x"},
		{"sentinel-pass", peerSecretInputs{SentinelPass: "sp", RequirePass: "rp", UserPasswords: acl}, secretFromSentinelPass, "sp"},
		{"requirepass", peerSecretInputs{RequirePass: "rp", UserPasswords: acl}, secretFromRequirePass, "rp"},
		{"acl users only", peerSecretInputs{UserPasswords: acl}, secretFromACL + " (admin, app)", ""},
		{"acl users without passwords", peerSecretInputs{UserPasswords: users("user app on nopass +@all", "user off1 off >pw")}, "", ""},
	} {
		got := choosePeerSecret(tc.in)
		if got.source != tc.wantSource {
			t.Errorf("%s: source %q, want %q", tc.name, got.source, tc.wantSource)
		}
		if (got.value == "") != (tc.wantSource == "") {
			t.Errorf("%s: value %q with source %q", tc.name, got.value, got.source)
		}
		if tc.wantValue != "" && got.value != tc.wantValue {
			t.Errorf("%s: value %q, want %q", tc.name, got.value, tc.wantValue)
		}
	}
	// The ACL secret is a function of the users' names and passwords only:
	// the same users in another order give the same secret, another
	// password another one, and the secret is never a password itself.
	a := choosePeerSecret(peerSecretInputs{UserPasswords: acl})
	b := choosePeerSecret(peerSecretInputs{UserPasswords: users("user app on >apppw +@all", "user admin on #"+sha256hex("adminpw")+" +@all")})
	c := choosePeerSecret(peerSecretInputs{UserPasswords: users("user admin on >adminpw +@all", "user app on >other +@all")})
	if a.value != b.value {
		t.Error("the same users in another order gave another secret")
	}
	if a.value == c.value {
		t.Error("another password gave the same secret")
	}
	if strings.Contains(a.value, "adminpw") {
		t.Error("the ACL secret contains a password in clear")
	}
}

func sha256hex(s string) string {
	return sentinel.UserPasswordHashes([][]string{{"x", "on", ">" + s}})["x"][0]
}

func testCluster(t *testing.T, dir string, cfg *config.Config, sentinelPass string) *cluster {
	t.Helper()
	n := &Node{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	n.globals.sentinelPass = sentinelPass
	c := &cluster{n: n, dir: dir, opts: ClusterOptions{SecretGrace: time.Minute}}
	c.initPeerKeys()
	return c
}

// TestPeerKeys_RestartWithNewSecret: a member restarted with a new secret
// proves and accepts the old one for the grace period (its file keeps the
// old key, 0600, never the secret), so the members not yet restarted still
// reach it and it still reaches them; CONFIG SET does the same at run time.
func TestPeerKeys_RestartWithNewSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "raft")
	cfg := &config.Config{}
	c := testCluster(t, dir, cfg, "old")
	if _, _, _, ok := c.keys.State(); ok {
		t.Fatal("a first start has a previous key")
	}
	fi, err := os.Stat(filepath.Join(dir, peerKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s is %v, want 0600", peerKeysFile, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(filepath.Join(dir, peerKeysFile))
	if strings.Contains(string(b), "old") {
		t.Fatal("the keys file holds the secret")
	}

	c = testCluster(t, dir, cfg, "new") // restarted with a new secret
	cur, prev, _, ok := c.keys.State()
	if cur != peer.DeriveKey("new") || !ok || prev != peer.DeriveKey("old") {
		t.Fatal("restarted with a new secret: the old key is not kept as previous")
	}
	c = testCluster(t, dir, cfg, "new") // and again, within the grace
	if _, prev, _, ok := c.keys.State(); !ok || prev != peer.DeriveKey("old") {
		t.Fatal("a second restart within the grace forgot the old key")
	}

	// CONFIG SET sentinel-pass: the same rotation at run time.
	c.n.globals.sentinelPass = "newer"
	c.peerSecretChanged()
	cur, prev, _, ok = c.keys.State()
	if cur != peer.DeriveKey("newer") || !ok || prev != peer.DeriveKey("new") {
		t.Fatal("CONFIG SET sentinel-pass did not rotate the peer key")
	}
	if c.secret.source != secretFromSentinelPass {
		t.Fatalf("source %q", c.secret.source)
	}
	// An explicit cluster-secret is not touched by sentinel-pass.
	c2 := &cluster{n: &Node{cfg: cfg, log: slog.New(slog.DiscardHandler)}, dir: t.TempDir(), opts: ClusterOptions{Secret: "fixed", SecretSource: secretFromClusterSecret}}
	c2.initPeerKeys()
	c2.n.globals.sentinelPass = "whatever"
	c2.peerSecretChanged()
	if cur, _, _, ok := c2.keys.State(); cur != peer.DeriveKey("fixed") || ok {
		t.Fatal("sentinel-pass rotated an explicit cluster-secret")
	}
}

// TestClusterSettingsPrecedence: the options given win, then the
// environment, then sentinel.conf, for the secret, the seeds and the size.
func TestClusterSettingsPrecedence(t *testing.T) {
	file := &config.Config{ClusterSecret: "file", ClusterPeers: []string{"f:1"}, ClusterSize: 3}
	type got struct {
		secret, secretSource string
		peers                string
		size                 int
		sizeSource           string
	}
	for _, tc := range []struct {
		name string
		env  bool
		opts ClusterOptions
		want got
	}{
		{"file", false, ClusterOptions{}, got{"file", secretFromClusterSecret, "f:1", 3, group.SourceDirective}},
		{"environment over file", true, ClusterOptions{}, got{"env", config.EnvClusterSecret, "e:1,e:2", 5, group.SourceEnv}},
		{"options over both", true, ClusterOptions{Secret: "opt", Peers: []string{"o:1"}, Size: 7, SizeSource: "options"}, got{"opt", "", "o:1", 7, "options"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range map[string]string{config.EnvClusterSecret: "env", config.EnvPeers: "e:1, e:2", config.EnvClusterSize: "5"} {
				if !tc.env {
					v = ""
				}
				t.Setenv(k, v)
			}
			o := clusterSettings(tc.opts, file)
			if g := (got{o.Secret, o.SecretSource, strings.Join(o.Peers, ","), o.Size, o.SizeSource}); g != tc.want {
				t.Errorf("got %+v, want %+v", g, tc.want)
			}
		})
	}
}

// TestPeerKeys_SettingASecretClosesTheOpenKey: the key of the empty secret
// is everybody's, so a secret set where there was none (a restart with a
// password, CONFIG SET sentinel-pass, or a keys file of an older version
// that kept it) never keeps it accepted for the grace.
func TestPeerKeys_SettingASecretClosesTheOpenKey(t *testing.T) {
	cfg := &config.Config{}
	noPrevious := func(what string, c *cluster) {
		t.Helper()
		cur, prev, _, ok := c.keys.State()
		if cur != peer.DeriveKey("s") || ok {
			t.Errorf("%s: current is the secret's key %v, previous kept %v (the open key: %v)", what, cur == peer.DeriveKey("s"), ok, prev == openKey())
		}
	}

	dir := filepath.Join(t.TempDir(), "raft")
	testCluster(t, dir, cfg, "")
	noPrevious("restarted with a secret", testCluster(t, dir, cfg, "s"))

	c := testCluster(t, filepath.Join(t.TempDir(), "raft"), cfg, "")
	c.n.globals.sentinelPass = "s"
	c.peerSecretChanged()
	noPrevious("CONFIG SET sentinel-pass", c)

	dir = filepath.Join(t.TempDir(), "raft")
	s, open := peer.DeriveKey("s"), openKey()
	old, _ := json.Marshal(persistedKeys{Current: hex.EncodeToString(s[:]), Previous: hex.EncodeToString(open[:]), Until: time.Now().Add(time.Hour)})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, peerKeysFile), old, 0o600); err != nil {
		t.Fatal(err)
	}
	noPrevious("an older keys file", testCluster(t, dir, cfg, "s"))

	// A restart without a secret, after CONFIG SET emptied one: the
	// previous secret is still accepted for its grace (only the open key
	// is never kept).
	dir = filepath.Join(t.TempDir(), "raft")
	c = testCluster(t, dir, cfg, "a")
	c.n.globals.sentinelPass = ""
	c.peerSecretChanged()
	c = testCluster(t, dir, cfg, "")
	if cur, prev, _, ok := c.keys.State(); cur != openKey() || !ok || prev != peer.DeriveKey("a") {
		t.Error("a restart without a secret dropped the previous one")
	}

	// A secret that replaces another still keeps the old one for the grace.
	c = testCluster(t, filepath.Join(t.TempDir(), "raft"), cfg, "a")
	c.n.globals.sentinelPass = "s"
	c.peerSecretChanged()
	if _, prev, _, ok := c.keys.State(); !ok || prev != peer.DeriveKey("a") {
		t.Error("a rotation between two secrets dropped the old one")
	}
}

// TestCheckedPeersDropsWhatCannotBeDialed: GOSENTINEL_PEERS is not checked
// at load as cluster-peers is, so a seed that is not host:port is dropped
// (and logged) rather than counted toward the expected size forever.
func TestCheckedPeersDropsWhatCannotBeDialed(t *testing.T) {
	n := &Node{log: slog.New(slog.DiscardHandler)}
	got := n.checkedPeers([]string{"10.0.0.2", "s-0:26379", "s-1:0", "[::1]:26379", "a:1,b:2"})
	if want := []string{"s-0:26379", "[::1]:26379"}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// TestConcurrentSecretChangesEndOnTheLastSecret: CONFIG SET sentinel-pass
// from several clients at once. The key was derived (PBKDF2, slow) and
// rotated after the lock that set c.secret, so rotations landed in either
// order and the node could prove the key of a secret it no longer had;
// a later SET of the same value changed nothing, and once the grace ended
// the node was cut off from every peer with the new secret.
func TestConcurrentSecretChangesEndOnTheLastSecret(t *testing.T) {
	c := testCluster(t, filepath.Join(t.TempDir(), "raft"), &config.Config{}, "s0")
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.n.mu.Lock()
				c.n.globals.sentinelPass = fmt.Sprintf("r%d-%d", round, i)
				c.n.mu.Unlock()
				c.peerSecretChanged()
			}()
		}
		wg.Wait()
		c.n.mu.Lock()
		last := c.n.globals.sentinelPass
		c.n.mu.Unlock()
		c.mu.Lock()
		s := c.secret
		c.mu.Unlock()
		if s.value != last || c.keys.Current() != peer.DeriveKey(last) {
			t.Fatalf("round %d: sentinel-pass is %q, the secret recorded %q, and the key proved is %s", round, last, s.value,
				map[bool]string{true: "its", false: "another secret's"}[c.keys.Current() == peer.DeriveKey(last)])
		}
	}
}

// TestPeerKeys_StartNeedsNoWrite: a restart whose keys did not change
// writes nothing, and one that cannot write (a full disk, a directory it
// cannot create) still starts with its keys: the start used to stop with
// "failed to save the peer keys", a crash loop for as long as the disk
// stayed full, where redis-sentinel starts and answers.
func TestPeerKeys_StartNeedsNoWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "raft")
	cfg := &config.Config{}
	testCluster(t, dir, cfg, "pw")
	inode := func() uint64 {
		fi, err := os.Stat(filepath.Join(dir, peerKeysFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	before := inode()
	testCluster(t, dir, cfg, "pw")
	if inode() != before {
		t.Fatal("a restart with the same keys rewrote the keys file")
	}

	// A Raft directory under a regular file can be neither created nor
	// written (root writes anywhere else).
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := testCluster(t, filepath.Join(file, "raft"), cfg, "pw")
	if cur, _, _, _ := c.keys.State(); cur != peer.DeriveKey("pw") {
		t.Fatal("a start that cannot write its keys has not derived them")
	}
}
