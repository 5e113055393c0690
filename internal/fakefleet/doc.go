// Package fakefleet is a fleet of fake Redis 7.0.15 masters without
// replicas, served by one process on one listener per master: the
// instrument of issue 12's "many masters" benchmark (bench/fleet) and of
// test/fleet_test.go. A real redis-server per master would cost about 3 MB
// and a process each; a fake master costs a listener and, per connection,
// one goroutine and two small buffers.
//
// A fake master answers what redis-sentinel 7.0.15 and gosentinel's
// monitor send to a master: PING, INFO (every field of a real 7.0.15
// master's reply, in its order and about its 5 KB, since a sentinel keeps
// each node's last INFO: run_id, role, connected_slaves and
// master_repl_offset as sentinelRefreshInstanceInfo reads them, the other
// values those of a fresh empty master, and the replica lines after a
// REPLICAOF),
// SUBSCRIBE/UNSUBSCRIBE/PUBLISH (channels are per master: a PUBLISH on
// master i reaches only master i's subscribers), ROLE, REPLICAOF/SLAVEOF
// (accepted and recorded: INFO and ROLE then report a replica whose link
// is down), CONFIG REWRITE, CLIENT SETNAME/GETNAME/KILL/ID, MULTI/EXEC/
// DISCARD, SCRIPT KILL, AUTH, ECHO, QUIT, and redis' error for anything
// else. CLIENT KILL kills nobody (it answers :0).
//
// Control, on any master's own port and answered even while that master
// is dark:
//
//	FAKEFLEET DARK   the master stops answering, as a hung (SIGSTOPped)
//	                 process: connections stay open and are still
//	                 accepted, commands are read but not answered until
//	                 FAKEFLEET LIGHT, then answered in order.
//	FAKEFLEET LIGHT  the master answers again.
//	FAKEFLEET STATE  "dark=0|1 replicaof=<host:port|none> clients=N".
//	FAKEFLEET PINGS  since the last DARK, per client name (CLIENT SETNAME),
//	                 when its first PING arrived, in Unix microseconds:
//	                 a flat array name, time, name, time... A sentinel's
//	                 SDOWN clock starts at its first unanswered PING, sent
//	                 up to a ping period (1 s) after the master hung, so
//	                 this separates a sentinel's own lateness from where
//	                 the hang fell in its PING cycle.
//	FAKEFLEET STATS  fleet-wide counters since the start: "accepted=N
//	                 ping=N info=N publish=N ... other=N" (connections
//	                 accepted, commands received by name).
package fakefleet
