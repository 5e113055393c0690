// ioredis through a failover, driven by test/ioredis_test.go.
//
// Usage: node failover.js '<config JSON>' where the config is
//   {sentinels: [{host, port}], name, sentinelPassword, prefix,
//    preAcks, postAcks, commandTimeoutMs, deadlineMs}
//
// It prints one JSON object per line on stdout, each with an "event":
//   version  ioredis and node versions.
//   writing  the master-role client has preAcks acknowledged writes on
//            master_port, and a slave-role client read one of them back
//            from a replica (replica_before): the Go side now kills the
//            master.
//   result   ok, the acknowledged writes made after the switch (post_switch:
//            [{seq, port}], port being the node whose connection
//            acknowledged the write), errors and sentinel_errors (counts by
//            text), and replica_after: a
//            fresh slave-role client reading a post-switch write.
// Key "<prefix>:<seq>" holds String(seq). The script writes one SET after
// another, retrying with the next seq after any error, until postAcks
// writes were acknowledged by a node other than the first master.
"use strict";

const Redis = require("ioredis");
const ioredisVersion = require("ioredis/package.json").version;
const { cfg, deadline, emit, sleep, checkDeadline, watchdog, writeThroughSwitch } = require("../common.js");

// errors tallies the client's error events and failed commands by text;
// sentinelErrors the "sentinelError" events, which ioredis emits when a
// sentinel could not be asked or gave no usable address.
const errors = new Map();
const sentinelErrors = new Map();
function tally(m, text) {
  if (m.has(text) || m.size < 20) m.set(text, (m.get(text) || 0) + 1);
}
function noteError(where, err) {
  tally(errors, `${where}: ${err && err.message}`);
}
function counts(m) {
  return Object.fromEntries(m);
}

// sentinelClient returns an ioredis client that finds its node through the
// sentinels. retryStrategy is a constant 50 ms (not ioredis' growing
// backoff, up to 2 s) so the time to the first write after the switch
// measures the sentinels rather than the client's backoff.
function sentinelClient(role) {
  const c = new Redis({
    sentinels: cfg.sentinels,
    name: cfg.name,
    sentinelPassword: cfg.sentinelPassword,
    role,
    commandTimeout: cfg.commandTimeoutMs,
    retryStrategy: () => 50,
  });
  // Without listeners ioredis prints "Unhandled error event" to stderr.
  c.on("error", (err) => noteError(`${role} client`, err));
  c.on("sentinelError", (err) => tally(sentinelErrors, `${role}: ${err && err.message}`));
  return c;
}

// ready resolves once c is ready (connected to a node of its role, as
// ioredis checked with INFO). ioredis keeps reconnecting through the
// sentinels meanwhile; connect() would instead reject on the first closed
// attempt, e.g. while no replica is listed as usable yet.
function ready(c, what) {
  if (c.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} not ready within the deadline (status ${c.status})`)),
      Math.max(0, deadline - Date.now()),
    );
    c.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// remotePort is the port of the node a client is connected to now. Read
// right after a reply resolved, it is the node that sent the reply: a
// reconnection happens in a later turn of the event loop.
function remotePort(client) {
  return client.stream ? client.stream.remotePort : 0;
}

// readFromReplica connects a slave-role client, polls GET key until it
// holds value (replication is asynchronous), and asks that connection for
// ROLE, which a replica answers ["slave", host, port, state, offset].
async function readFromReplica(key, value) {
  const c = sentinelClient("slave");
  try {
    await ready(c, "slave-role client");
    let got = null;
    for (;;) {
      checkDeadline(`reading ${key} from a replica (last ${got})`);
      try {
        got = await c.get(key);
        if (got === value) break;
      } catch (err) {
        noteError("slave GET", err);
      }
      await sleep(10);
    }
    const port = remotePort(c);
    const role = await c.role();
    return {
      port,
      key,
      value: got,
      role: String(role[0]),
      master_port: Number(role[2]),
    };
  } finally {
    c.disconnect();
  }
}

async function main() {
  watchdog(() => ({ errors: counts(errors), sentinel_errors: counts(sentinelErrors) }));
  emit({ event: "version", ioredis: ioredisVersion, node: process.version });

  const master = sentinelClient("master");
  await ready(master, "master-role client");
  const firstPort = remotePort(master);

  const { postSwitch, preAcks, gapMs } = await writeThroughSwitch({
    firstPort,
    write: async (key, value) => {
      await master.set(key, value);
      return remotePort(master);
    },
    onError: (err) => noteError("master SET", err),
    retryMs: 2,
    signal: async (seq, acks) => {
      const replicaBefore = await readFromReplica(`${cfg.prefix}:${seq}`, String(seq));
      emit({ event: "writing", master_port: firstPort, acks, replica_before: replicaBefore });
    },
  });
  master.disconnect();

  const last = postSwitch[postSwitch.length - 1];
  const replicaAfter = await readFromReplica(`${cfg.prefix}:${last.seq}`, String(last.seq));
  emit({
    event: "result",
    ok: true,
    first_master_port: firstPort,
    pre_switch_acks: preAcks,
    post_switch: postSwitch,
    writes_gap_ms: gapMs,
    errors: counts(errors),
    sentinel_errors: counts(sentinelErrors),
    replica_after: replicaAfter,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    emit({ event: "result", ok: false, error: String(err && err.stack), errors: counts(errors), sentinel_errors: counts(sentinelErrors) });
    process.exit(1);
  },
);
