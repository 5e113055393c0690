// Package harness drives failover experiments against real processes: a
// redis-server master with replicas watched by three sentinels (gosentinel
// or redis-sentinel), a go-redis FailoverClient writing through them, ROLE
// sampling of the data nodes and event counting from the sentinels' logs.
//
// It is shared by the failover system tests (package test, which assert)
// and the benchmark program bench/failover (which measures and compares),
// so both see the same deployment and the same client. Like
// internal/redistest, on which it builds, it takes a testing.TB: processes
// are stopped by pid in its cleanups, and everything listens on 127.0.0.1.
package harness
