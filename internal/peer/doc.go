// Package peer is the authenticated channel between gosentinels: the
// connection Raft and the peer RPC run on, and that RPC itself.
//
// # Transport
//
// Peer traffic shares the sentinel port with RESP clients (internal/mux). A
// dialer writes one header byte that no Redis client ever sends first
// (HeaderRaft or HeaderRPC, both >= 0xF0), then the handshake below, then the
// payload. The mux hands the connection, header consumed, to the listener
// registered for that byte; NewListener wraps that listener so that Accept
// returns only connections that completed the handshake.
//
// # Authentication
//
// A mutual challenge/response over the shared secret (sentinel-pass,
// requirepass, or a dedicated directive, as the node decides):
//
//	server -> client  "GSP2" | Ns (32 random bytes)
//	client -> server  Nc (32 random bytes) | HMAC-SHA256(secret, "gosentinel peer client" | Ns | Nc)
//	server -> client  len(ID) (1 byte) | ID | HMAC-SHA256(secret, "gosentinel peer server" | Ns | Nc | ID)
//
// ID is the server's identity (its sentinel id, WithIdentity), stated under
// its proof. A dialer that names the server it means to reach (TargetAddr:
// Raft dials its peers by id) refuses any other: an address that moved to
// another sentinel never receives a vote request or an append meant for
// the sentinel that left it.
//
// The client proves itself first, so a process without the secret receives
// nothing but the magic and the server's nonce before the server closes the
// connection; it never reaches Raft or the RPC server, so it can neither
// vote, nor append, nor join. Both nonces are fresh per connection, so no
// proof can be replayed, and the two directions use different labels, so a
// server's proof can never be reflected back as a client's. Proofs are
// compared in constant time (hmac.Equal) and the whole exchange runs under a
// deadline, so a silent peer cannot hold a handshake slot for long.
//
// With an empty secret the exchange still runs (both sides prove they know
// ""), so the wire format never depends on configuration; the node logs a
// notice at start in that case.
//
// This is authentication only: after the handshake the bytes travel in clear,
// exactly like Redis' own replication and sentinel links. It does not stop a
// man in the middle who relays both directions; networks where that matters
// need TLS or a NetworkPolicy in front of the port.
//
// # RPC
//
// Server and Client carry small JSON requests over HeaderRPC connections:
// forwarding proposals to the Raft leader, join and leave requests, and SDOWN
// reports. Each frame is a 4-byte big-endian length followed by JSON; a
// connection carries one request at a time and is pooled by the client.
package peer
