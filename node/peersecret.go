package node

// The secret the sentinel's peers prove to each other (internal/peer):
// where it comes from, and how it rotates without partitioning the group.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x0tta6bl4/gosentinel/internal/atomicfile"
	"github.com/x0tta6bl4/gosentinel/internal/peer"
	"github.com/x0tta6bl4/gosentinel/sentinel"
)

// Where a peer secret came from, as the log names it.
const (
	secretFromClusterSecret = "sentinel cluster-secret"
	secretFromOptions       = "ClusterOptions.Secret"
	secretFromSentinelPass  = "sentinel sentinel-pass"
	secretFromRequirePass   = "requirepass"
	secretFromACL           = "the ACL users' passwords"
)

// peerSecretInputs are every setting a peer secret may come from.
type peerSecretInputs struct {
	// Explicit is the dedicated secret and ExplicitSource where it was set
	// (sentinel cluster-secret, GOSENTINEL_CLUSTER_SECRET, the options).
	Explicit, ExplicitSource string
	SentinelPass             string
	RequirePass              string
	// UserPasswords are the enabled ACL users' password hashes by name,
	// from the config's `user` lines (sentinel.UserPasswordHashes).
	UserPasswords map[string][]string
}

// peerSecret is the secret and where it came from ("" for nowhere: the
// sentinel port is not protected, and neither are its peers).
type peerSecret struct {
	value, source string
}

// choosePeerSecret picks the peer secret: the dedicated one, else
// sentinel-pass, else requirepass, else one derived from the ACL users'
// password hashes (the same users on every member give the same secret).
// Whenever the sentinel port is protected at all, peers need a secret;
// with no password anywhere the sentinel trusts its network, as
// redis-sentinel does.
func choosePeerSecret(in peerSecretInputs) peerSecret {
	switch {
	case in.Explicit != "":
		return peerSecret{in.Explicit, in.ExplicitSource}
	case in.SentinelPass != "":
		return peerSecret{in.SentinelPass, secretFromSentinelPass}
	case in.RequirePass != "":
		return peerSecret{in.RequirePass, secretFromRequirePass}
	case len(in.UserPasswords) > 0:
		names := make([]string, 0, len(in.UserPasswords))
		for name := range in.UserPasswords {
			names = append(names, name)
		}
		slices.Sort(names)
		var b strings.Builder
		b.WriteString("gosentinel acl users\x00")
		for _, name := range names {
			hashes := slices.Clone(in.UserPasswords[name])
			slices.Sort(hashes)
			fmt.Fprintf(&b, "%s\x00%s\x01", name, strings.Join(hashes, "\x00"))
		}
		return peerSecret{b.String(), secretFromACL + " (" + strings.Join(names, ", ") + ")"}
	}
	return peerSecret{}
}

// peerSecretInputs gathers the node's settings now (sentinel-pass may
// change at run time; the rest is the config file's).
func (c *cluster) peerSecretInputs() peerSecretInputs {
	n := c.n
	n.mu.Lock()
	sp := n.globals.sentinelPass
	n.mu.Unlock()
	in := peerSecretInputs{Explicit: c.opts.Secret, ExplicitSource: c.opts.SecretSource, SentinelPass: sp}
	if n.cfg != nil {
		in.RequirePass = n.cfg.RequirePass
		in.UserPasswords = sentinel.UserPasswordHashes(n.cfg.Users)
	}
	if in.Explicit != "" && in.ExplicitSource == "" {
		in.ExplicitSource = secretFromOptions
		if n.cfg != nil && in.Explicit == n.cfg.ClusterSecret {
			in.ExplicitSource = secretFromClusterSecret
		}
	}
	return in
}

// openKey is the key of the empty secret: anybody's. It is never kept as
// the previous key of a rotation, so setting a secret where there was none
// closes the port at once; the members not yet given the secret are cut
// off until they get it (a roll keeps a majority on one side or the other
// at every step).
var openKey = sync.OnceValue(func() peer.Key { return peer.DeriveKey("") })

// peerKeysFile keeps the key in use and, during a rotation, the previous
// one with its expiry, so that a member restarted with a new secret still
// proves and accepts the old one while the others are rolled. It holds
// keys (peer.DeriveKey), never the secret, and is written 0600.
const peerKeysFile = "peer-keys.json"

type persistedKeys struct {
	Current  string    `json:"current"`
	Previous string    `json:"previous,omitempty"`
	Until    time.Time `json:"until,omitzero"`
}

func decodeKey(s string) (peer.Key, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(peer.Key{}) {
		return peer.Key{}, false
	}
	return peer.Key(b), true
}

// initPeerKeys derives the key from the chosen secret, logs where the
// secret came from (never its value), and restores a rotation under way:
// if the key recorded by the last run differs, that one stays accepted
// for the grace period.
func (c *cluster) initPeerKeys() {
	s := choosePeerSecret(c.peerSecretInputs())
	c.secret = s
	key := peer.DeriveKey(s.value)
	c.keys = peer.NewKeys(key)
	if s.source == "" {
		c.n.log.Warn("No sentinel-pass, requirepass, ACL user password or cluster-secret set: Raft peers authenticate with an empty secret, so anything that can reach this port can join the group")
	} else {
		c.n.log.Info("Raft peers authenticate with a secret derived from " + s.source)
	}
	// Nothing here stops the start: a sentinel whose disk is full or
	// whose Raft directory cannot be written still answers from memory,
	// as redis-sentinel does (its Raft state opens when it can).
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		c.n.log.Warn("Failed to create the Raft directory: the peer keys are not kept", "dir", c.dir, "error", err)
	}
	b, err := os.ReadFile(filepath.Join(c.dir, peerKeysFile))
	if err != nil && !os.IsNotExist(err) {
		c.n.log.Warn("Ignoring an unreadable peer keys file", "file", filepath.Join(c.dir, peerKeysFile), "error", err)
	}
	var p persistedKeys
	if err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			c.n.log.Warn("Ignoring an unreadable peer keys file", "file", filepath.Join(c.dir, peerKeysFile), "error", err)
		}
	}
	switch old, ok := decodeKey(p.Current); {
	case ok && old == openKey() && key != openKey():
		c.n.log.Warn("The peer secret is set where there was none: sentinels still without it are not accepted (nor is anybody else without it)", "source", s.source)
	case ok && old != key:
		c.keys.Restore(old, peer.Key{}, time.Time{})
		c.keys.Rotate(key, c.grace())
		c.n.log.Warn("The peer secret changed since the last run: the previous one stays accepted while the other sentinels are rolled", "source", s.source, "grace", c.grace().String())
	default:
		if prev, ok := decodeKey(p.Previous); ok && prev != openKey() {
			c.keys.Restore(key, prev, p.Until)
		}
	}
	if err := c.savePeerKeys(); err != nil {
		c.n.log.Warn("Failed to record the peer keys: a restart within a grace period forgets the previous one", "error", err)
	}
}

// keepsPrevious reports whether a previous key is still accepted.
func (c *cluster) keepsPrevious() bool {
	_, _, _, ok := c.keys.State()
	return ok
}

func (c *cluster) grace() time.Duration {
	if c.opts.SecretGrace > 0 {
		return c.opts.SecretGrace
	}
	return peer.DefaultRotationGrace
}

// savePeerKeys writes the keys' state, 0600, replacing the file atomically.
func (c *cluster) savePeerKeys() error {
	cur, prev, until, ok := c.keys.State()
	p := persistedKeys{Current: hex.EncodeToString(cur[:])}
	if ok {
		p.Previous, p.Until = hex.EncodeToString(prev[:]), until
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	// Unchanged (every start but the first and those after a rotation):
	// nothing to write, so a full disk does not matter.
	path := filepath.Join(c.dir, peerKeysFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := atomicfile.Write(path, b); err != nil { // 0600
		return fmt.Errorf("failed to save the peer keys: %w", err)
	}
	return nil
}

// peerSecretChanged re-reads the settings after a CONFIG SET: if the peer
// secret changed, new connections prove the new key, and the previous one
// stays proved and accepted for the grace period, so that the members not
// yet changed are still reached; connections made with a key no longer
// accepted are closed (peer.Keys). One change runs at a time, from the
// settings read to the keys saved: two CONFIG SETs at once rotated in
// either order, and could leave the node proving the key of the secret it
// no longer had.
func (c *cluster) peerSecretChanged() {
	c.secretChange.Lock()
	defer c.secretChange.Unlock()
	s := choosePeerSecret(c.peerSecretInputs())
	c.mu.Lock()
	same := s == c.secret
	c.secret = s
	c.mu.Unlock()
	if same {
		return
	}
	if next, cur := peer.DeriveKey(s.value), c.keys.Current(); cur == openKey() {
		// Where there was no secret there is nothing to keep accepting:
		// the key of "" is everybody's, and keeping it for the grace
		// would leave the port open for an hour after it was closed.
		c.keys.Restore(next, peer.Key{}, time.Time{})
	} else {
		c.keys.Rotate(next, c.grace())
	}
	switch {
	case s.source == "":
		c.n.log.Warn("The peer secret is now empty (no password left anywhere): anything that can reach this port can join the group")
	case !c.keepsPrevious():
		c.n.log.Warn("The peer secret is set where there was none: it is now derived from " + s.source + "; sentinels still without it are not accepted (nor is anybody else without it)")
	default:
		c.n.log.Warn("The peer secret changed: it is now derived from "+s.source+"; the previous one stays accepted while the other sentinels are changed", "grace", c.grace().String())
	}
	if err := c.savePeerKeys(); err != nil {
		c.n.log.Warn("Failed to record the rotated peer key: a restart within the grace period forgets the previous one", "error", err)
	}
}
