// Package sentinel is gosentinel's RESP command surface: a server that
// answers clients exactly like redis-sentinel 7.0.15 does, byte for byte,
// over a Backend that holds the sentinel state (implemented by the node
// package). The one deliberate exception is CLIENT SETINFO, which current
// client libraries send on every connection (cmd_client_setinfo.go): it
// runs as in redis-sentinel 7.2 (+OK, 7.2's arity and validation errors,
// NOAUTH before authentication) and CLIENT LIST/INFO lines end with 7.2's
// lib-name= and lib-ver= fields. It is not in the command table, so
// COMMAND (COUNT 15, LIST 72, INFO, DOCS), ACL CAT and CLIENT HELP stay
// 7.0.15's byte for byte and ACL rules cannot name it (as in 7.0). For ACL
// it counts as CLIENT SETNAME, which has SETINFO's flags and categories in
// 7.2: +client, +@connection or +client|setname allow it, -client|setname
// denies it, and the NOPERM error and ACL LOG name 'client|setinfo'.
//
// The other addition is SENTINEL MAINTENANCE ON|OFF [<master-name> ...]
// and SENTINEL MAINTENANCE [STATUS], gosentinel's maintenance mode
// (automatic failovers paused, cmd_sentinel_maintenance.go). It is
// unlisted the same way, so SENTINEL HELP stays 7.0.15's, and for ACL it
// counts as SENTINEL FAILOVER (@admin).
//
// What it covers: RESP2 and RESP3 (HELLO), pipelining and inline
// commands; the 15 sentinel-mode commands (ACL AUTH CLIENT COMMAND HELLO
// INFO PING PSUBSCRIBE PUBLISH PUNSUBSCRIBE ROLE SENTINEL SHUTDOWN
// SUBSCRIBE UNSUBSCRIBE) with redis' arity checks and error texts; the ACL
// system (users, passwords, selectors, command/category/channel rules,
// ACL LOG) including redis' rule description algorithm; pub/sub with
// Publish for the node's events.
//
// Layout: request.go parses requests like networking.c; dispatch.go runs
// processCommand's checks; cmd_*.go are the commands; acl*.go the ACL
// system; pubsub.go the subscriptions; client.go and outbuf.go a
// connection's goroutines and output; captured.go the command table, built
// from replies captured from the real binary (go generate, internal/gen),
// which COMMAND and COMMAND DOCS replay.
//
// On redcon: replies are encoded with github.com/tidwall/redcon's RESP
// append helpers, but requests are read by this package's own parser and
// connections are served by its own loop. redcon's reader differs from
// redis in ways clients and the protocol tests observe (it rejects "*0",
// checks the CRLF after bulk data, parses quotes differently, has no size
// limits for unauthenticated clients, and cannot be stopped mid-pipeline
// for CLIENT PAUSE), and its connection model writes from the reading
// goroutine, which would let a slow subscriber block publishers.
//
// Concurrency: each connection has a command goroutine and a writer
// goroutine. Server.mu guards clients, users and the pause state;
// Server.psmu guards subscriptions (lock order: mu, then psmu, then a
// client's output buffer). Backend methods are always called without any
// of these locks, so a Backend may call Publish, ACLUserLines or
// RequirePass from inside them.
package sentinel
