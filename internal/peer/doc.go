// Package peer is the authenticated, encrypted channel between
// gosentinels: the connection Raft and the peer RPC run on, and that RPC
// itself.
//
// # Transport
//
// Peer traffic shares the sentinel port with RESP clients (internal/mux). A
// dialer writes one header byte that no Redis client ever sends first
// (HeaderRaft or HeaderRPC, both >= 0xF0), then the handshake below, then the
// payload. The mux hands the connection, header consumed, to the listener
// registered for that byte; NewListener wraps that listener so that Accept
// returns only connections that completed the handshake. TLS between peers
// (tls-replication) wraps the TCP connection below all this: the dialer's
// WithTransport, and on the server the TLS listener in front of the mux.
//
// # Authentication and sealing (protocol GSP3)
//
// Every member holds a key: the shared secret (cluster-secret,
// sentinel-pass, requirepass or the ACL users' passwords, as the node
// decides) stretched by PBKDF2 (DeriveKey). After the header byte:
//
//	1 server -> client  "GSP3" | Ns (32 random bytes) | Es (X25519 ephemeral public key)
//	2 client -> server  "GSP3" | Nc | Ec | id_c | addr_c | want | n | n proofs
//	3 server -> client  id_s | addr_s | server proof
//
// (id, addr and want are one length byte then at most 255 bytes; n is 1,
// or 2 while a rotation keeps a previous key.) Both sides compute the
// X25519 secret Z and, for a key K, prk = HKDF-Extract(K | Z); every output
// is HKDF-Expand(prk, label | SHA-256(transcript)), where the transcript is
// a protocol label, the header byte and every byte of messages 1 and 2 (and
// of 3 for what follows it):
//
//	T2 = label | header | m1 | m2 up to n          T3 = T2 | id_s | addr_s
//	client proof = Expand("client proof ", T2)     server proof = Expand("server proof ", T3)
//	the two record keys = Expand("client to server ", T3), Expand("server to client ", T3)
//
// The server accepts if one of the client's proofs matches one of its keys,
// and answers under that key; the client checks the server's proof under
// each of its keys and, when it dialled a TargetAddr, that id_s is the id it
// wanted (the server refuses too, after proving itself, when want names
// another id). Every byte after message 3 travels in AES-256-GCM records
// (Conn), one key per direction, the nonce a per-direction record counter.
//
// What this gives, against someone who can read, drop, alter and inject
// bytes on the path but holds no key: they never complete a handshake (a
// proof needs K), never learn Z (ephemeral Diffie-Hellman: also no reading
// recorded traffic later with a stolen key), cannot rewrite anything either
// side stated (it is in the transcript both proofs and both keys are bound
// to), and cannot make use of a handshake they relay: the connection's keys
// are the two ends', so injected, altered, replayed, reordered or reflected
// records fail to open, the connection is closed and the rejection
// reported. A relay that forwards a dial meant for "attacker" to a real
// member is refused by both ends (the member proves its own id); one that
// forwards faithfully is a wire, able only to delay or drop. The client
// proves first, so a connection without a key learns only the server's
// nonce and ephemeral key. The proofs let an active attacker that a member
// dials (it announced itself in a hello) test guesses of the secret
// offline, each guess costing PBKDF2's iterations: a password-strength
// secret is only as strong as that; cluster-secret should be random.
//
// With an empty secret the exchange still runs (both sides prove they know
// ""), so the wire format never depends on configuration: against a passive
// listener the records are still confidential, against an active one there
// is no protection; the node logs a warning at start in that case.
//
// GSP3 does not speak to GSP2 (the previous, authentication-only protocol,
// whose bytes after the handshake were in clear): each side refuses the
// other's magic with ErrNotPeer, and the listener's reject hook logs it.
//
// # RPC
//
// Server and Client carry small JSON requests over HeaderRPC connections:
// forwarding proposals to the Raft leader, join and leave requests, and SDOWN
// reports. Each frame is a 4-byte big-endian length followed by JSON; a
// connection carries one request at a time and is pooled by the client.
package peer
