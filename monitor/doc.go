// Package monitor is one sentinel's health checker: it keeps links to every
// monitored master, its replicas and the other sentinels watching it, and
// reproduces redis-sentinel 7.0's link and timer logic (sentinel.c
// sentinelReconnectInstance, sentinelSendPeriodicCommands,
// sentinelRefreshInstanceInfo, sentinelProcessHelloMessage step 1,
// sentinelCheckSubjectivelyDown, sentinelAskMasterStateToOtherSentinels).
//
// Design:
//   - State (instances, links, clocks) lives under one mutex. A single
//     timer goroutine (Run) does what sentinelTimer does: a pass over every
//     instance every 100 ms (passInterval), and 50 ms looks at the few
//     instances near down in between (tick.go).
//   - Each TCP connection is a hand-written RESP2 pipeline (conn.go),
//     dialled by a goroutine of the dial gate. On Linux its plain TCP
//     socket is then read by the monitor's event loop (poller_linux.go:
//     one goroutine on an epoll set), which hands each reply to the
//     handler queued with its command, under the mutex; elsewhere, and
//     under TLS, a goroutine per connection reads. Queued commands are
//     written by a short-lived goroutine started when a command is queued
//     on an idle connection, or together by the timer's pass (at 1000
//     masters, a writer parked per connection was 2000 goroutines doing
//     nothing). So the mutex is never held across network I/O and Status
//     never blocks on it.
//   - Callbacks into the node go through one ordered queue (notify.go) and
//     are never called with the mutex held; the node's synchronous
//     callbacks are called by the timer without the mutex: Timing,
//     CurrentEpoch and Tilt before its pass over the instances,
//     HelloPayload after it, for the hellos the pass found due.
//   - Failover, ODOWN, epochs and config-epoch handling are not here: the
//     node gets hellos via OnHello and the live view via Status/OnInfo.
package monitor
