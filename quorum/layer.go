package quorum

import (
	"errors"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Layer is the network Raft runs on: a listener that yields authenticated
// peer connections and a dialer that opens them. quorum declares it and
// imports nothing of ours; the node builds it from the sentinel port's mux
// sub-listener and the peer dialer (internal/peer.Layer has this shape).
type Layer interface {
	net.Listener
	// Dial opens an authenticated connection to the peer at address within
	// timeout.
	Dial(address string, timeout time.Duration) (net.Conn, error)
}

// streamLayer adapts a Layer to raft.StreamLayer and reports the advertised
// address as its own: Raft puts its local address in vote requests and in
// the leader it reports, and the listener's own address may be a wildcard
// (0.0.0.0:26379) that no peer can dial.
type streamLayer struct {
	Layer
	advertise net.Addr
}

func (s *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return s.Layer.Dial(string(address), timeout)
}

func (s *streamLayer) Addr() net.Addr { return s.advertise }

// advertisedAddr is a host:port as configured, not resolved.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// addressProvider adapts RaftConfig.DialAddress to raft's
// ServerAddressProvider; an unknown id makes raft dial the configuration's
// address.
//
// raft also asks it for the local server's own address, which it puts in
// every RPC's header, and a follower records that header's address as the
// leader's: the local id is always answered with the advertised address.
// Were DialAddress asked instead, the heartbeats (whose header raft builds
// once per term) and the other AppendEntries (built on every call) would
// carry different addresses whenever DialAddress learnt this server's
// address after the term began, and a follower's leader address would
// change on every RPC (TestRaftStore_FollowersSeeOneLeaderAddress).
type addressProvider struct {
	self, advertise string
	dial            func(id string) (string, bool)
}

var errNoAddress = errors.New("no current address known for this server")

func (p addressProvider) ServerAddr(id raft.ServerID) (raft.ServerAddress, error) {
	if string(id) == p.self {
		return raft.ServerAddress(p.advertise), nil
	}
	if a, ok := p.dial(string(id)); ok {
		return raft.ServerAddress(a), nil
	}
	return "", errNoAddress
}
