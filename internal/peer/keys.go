package peer

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// Key is a peer key: the shared secret stretched by DeriveKey. Handshakes
// use only keys, never the secret itself, so a node can keep a key it must
// still accept (Keys.Rotate) without keeping the password it came from.
type Key [32]byte

// keySalt and keyIterations stretch the secret: sentinel-pass and
// requirepass are passwords people choose, and a MAC made with the key
// (which an active attacker can obtain by posing as a peer) lets it test
// guesses offline, each guess costing it keyIterations HMACs. The salt is
// fixed because every member must derive the same key from the same secret.
const (
	keySalt       = "gosentinel peer key v3"
	keyIterations = 1 << 15
)

// DeriveKey stretches secret (which may be empty) into a Key.
func DeriveKey(secret string) Key {
	b, err := pbkdf2.Key(sha256.New, secret, []byte(keySalt), keyIterations, len(Key{}))
	if err != nil {
		panic(fmt.Sprintf("peer: pbkdf2: %v", err)) // only for an invalid length
	}
	return Key(b)
}

// DefaultRotationGrace is how long a key that was replaced stays accepted
// (and offered) so that members still on it are reached during a rolling
// change of the secret.
const DefaultRotationGrace = time.Hour

// Keys is the set of keys a node proves and accepts: the current one and,
// for a bounded time after a rotation, the previous one. Every handshake
// reads it afresh, so a rotation applies to the next connection; a
// connection already up lives as long as the key it was made with is
// accepted, and is closed when a change drops that key or its grace ends
// (track): a secret set where there was none, or a previous secret whose
// hour is over, must not keep a session open to whoever held it.
type Keys struct {
	mu       sync.Mutex
	current  Key
	previous *Key
	until    time.Time
	now      func() time.Time
	conns    map[*Conn]Key // connections up, with the key each was made with
	expiry   *time.Timer   // sweeps once the previous key's grace ends
}

// NewKeys returns a set holding only current.
func NewKeys(current Key) *Keys {
	return &Keys{current: current, now: time.Now, conns: map[*Conn]Key{}}
}

// NewSecretKeys returns a set holding only DeriveKey(secret).
func NewSecretKeys(secret string) *Keys { return NewKeys(DeriveKey(secret)) }

// Rotate makes next the current key and keeps the one it replaces for
// grace. Rotating to the current key changes nothing (it neither extends
// nor drops the previous key).
func (k *Keys) Rotate(next Key, grace time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if next == k.current {
		return
	}
	prev := k.current
	k.current, k.previous, k.until = next, &prev, k.now().Add(grace)
	k.changedLocked()
}

// Restore sets the whole state (a node reloading what it persisted):
// previous is kept until until, if it differs from current.
func (k *Keys) Restore(current, previous Key, until time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.current, k.previous, k.until = current, nil, time.Time{}
	if previous != current && k.now().Before(until) {
		k.previous, k.until = &previous, until
	}
	k.changedLocked()
}

// changedLocked closes the connections whose key the set no longer accepts,
// and arms the sweep for the end of the previous key's grace.
func (k *Keys) changedLocked() {
	if k.expiry != nil {
		k.expiry.Stop()
		k.expiry = nil
	}
	if k.previous != nil {
		k.expiry = time.AfterFunc(k.until.Sub(k.now()), k.sweep)
	}
	k.sweepLocked()
}

// sweep closes the connections whose key is no longer accepted, and, the
// timer having fired early (the wall clock stepped back since until was
// set), sweeps again once the previous key's grace is over.
func (k *Keys) sweep() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.previous != nil && k.now().Before(k.until) {
		k.expiry = time.AfterFunc(k.until.Sub(k.now()), k.sweep)
	}
	k.sweepLocked()
}

func (k *Keys) sweepLocked() {
	for c, key := range k.conns {
		if !k.acceptsLocked(key) {
			delete(k.conns, c)
			// Closed off the lock: Close untracks, which takes it.
			go c.Conn.Close()
		}
	}
}

func (k *Keys) acceptsLocked(key Key) bool {
	return key == k.current || (k.previous != nil && key == *k.previous && k.now().Before(k.until))
}

// track registers a connection just made with key, to be closed once key is
// no longer accepted; made with a key dropped during its handshake, it is
// refused at once.
func (k *Keys) track(c *Conn, key Key) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.acceptsLocked(key) {
		// Off the lock every handshake takes: a TLS close may wait.
		go c.Conn.Close()
		return errKeyDropped
	}
	c.keys = k
	k.conns[c] = key
	return nil
}

func (k *Keys) untrack(c *Conn) {
	k.mu.Lock()
	delete(k.conns, c)
	k.mu.Unlock()
}

// errKeyDropped refuses a connection whose key a change dropped while its
// handshake ran.
var errKeyDropped = fmt.Errorf("%w: the peer key it proved was dropped meanwhile", ErrAuthFailed)

// Current returns the key proved now.
func (k *Keys) Current() Key {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.current
}

// State returns the current key and, if it is still accepted, the previous
// one and until when (ok false if there is none).
func (k *Keys) State() (current, previous Key, until time.Time, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.previous != nil && k.now().Before(k.until) {
		return k.current, *k.previous, k.until, true
	}
	return k.current, Key{}, time.Time{}, false
}

// list returns the keys to offer and accept: the current one first.
func (k *Keys) list() []Key {
	cur, prev, _, ok := k.State()
	if ok {
		return []Key{cur, prev}
	}
	return []Key{cur}
}
