// Package redistest starts real redis-server and sentinel processes for
// tests and talks to them with a raw RESP client.
//
// Everything here is test support: processes listen on 127.0.0.1 only, on
// ports handed out by the kernel, live in t.TempDir(), are stopped by pid in
// t.Cleanup and have their logs printed when the test fails. The sentinel
// binary is a parameter, so the same harness drives redis-sentinel (the
// reference) and gosentinel (the candidate).
//
// The RESP client returns replies as a typed tree (Reply) that keeps the
// exact wire bytes, the reply kind of every node and the key order of maps,
// so two servers can be compared byte for byte (see Diff).
package redistest
