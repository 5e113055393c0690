// Package test holds the system tests: real redis-server processes watched
// by real sentinel processes, driven over TCP on 127.0.0.1.
//
// The sentinel under test (the "candidate") is gosentinel, built once per
// run by TestMain from ./cmd/gosentinel, or the binary named by the
// GOSENTINEL_BIN environment variable. The reference is redis-sentinel
// (REFERENCE_SENTINEL, default /usr/bin/redis-sentinel). Setting
// GOSENTINEL_BIN=/usr/bin/redis-sentinel runs every test against the
// reference on both sides, which proves the tests themselves.
//
// SENTINEL_TEST_TARGETS (comma-separated "candidate", "reference"; default
// "candidate") selects which binaries the per-binary tests (discovery,
// clients) run against.
package test
