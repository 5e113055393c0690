// node-redis v5 (createSentinel) through a failover, driven by
// test/noderedis_test.go.
//
// Usage: node failover.js '<config JSON>' where the config is
//   {sentinels: [{host, port}], name, sentinelPassword, password, resp, prefix,
//    preAcks, postAcks, deadlineMs}
//
// It prints one JSON object per line on stdout, each with an "event":
//   version  node-redis and node versions, and the protocol asked for.
//   writing  preAcks writes were acknowledged by master_port (the node of
//            the leased master client that ran them), and the client's
//            topology lists replicas (replicas_before): the Go side now
//            kills the master.
//   result   ok, the acknowledged writes made after the switch (post_switch:
//            [{seq, port}]), errors (counts by text), topology changes
//            seen, and the client's replicas after the switch
//            (replicas_after).
// Key "<prefix>:<seq>" holds String(seq). The script writes one SET after
// another, retrying with the next seq after any error, until postAcks
// writes were acknowledged by a node other than the first master.
"use strict";

const { createSentinel } = require("redis");
const version = require("redis/package.json").version;
const { cfg, emit, sleep, checkDeadline, watchdog, writeThroughSwitch } = require("../common.js");

const errors = new Map();
function noteError(where, err) {
  const text = `${where}: ${err && (err.message || err)}`;
  if (errors.has(text) || errors.size < 20) errors.set(text, (errors.get(text) || 0) + 1);
}
const topology = [];

function replicaPorts(sentinel) {
  return [...sentinel.getReplicaNodes().keys()].map((n) => n.port).sort((a, b) => a - b);
}

// write runs one SET on a leased master client and returns the port of the
// node that acknowledged it: the same connection's CLIENT INFO names it
// (laddr, the node's own address).
async function write(sentinel, key, value) {
  return sentinel.use(async (client) => {
    await client.set(key, value);
    const info = String(await client.sendCommand(false, ["CLIENT", "INFO"]));
    const m = /laddr=\S*:(\d+)/.exec(info);
    if (!m) throw new Error(`no laddr in CLIENT INFO: ${info}`);
    return Number(m[1]);
  });
}

async function main() {
  watchdog(() => ({ errors: Object.fromEntries(errors), topology }));
  emit({ event: "version", noderedis: version, node: process.version, resp: cfg.resp });
  const sentinel = createSentinel({
    name: cfg.name,
    sentinelRootNodes: cfg.sentinels,
    sentinelClientOptions: { password: cfg.sentinelPassword, RESP: cfg.resp },
    nodeClientOptions: { password: cfg.password, RESP: cfg.resp },
    RESP: cfg.resp,
    scanInterval: 1000,
    // Replicas are tracked (and listed by getReplicaNodes) only with a
    // replica pool; the script reads nothing through it.
    replicaPoolSize: 1,
  });
  sentinel.on("error", (err) => noteError("sentinel", err));
  sentinel.on("topology-change", (ev) => {
    if (topology.length < 50) topology.push(ev.type);
  });
  checkDeadline("connecting through the sentinels");
  await sentinel.connect();
  const firstPort = sentinel.getMasterNode().port;

  const { postSwitch, preAcks, gapMs } = await writeThroughSwitch({
    firstPort,
    write: (key, value) => write(sentinel, key, value),
    onError: (err) => noteError("SET", err),
    retryMs: 20,
    signal: async (seq, acks) => {
      emit({ event: "writing", master_port: firstPort, acks, replicas_before: replicaPorts(sentinel) });
    },
  });
  // The scan (scanInterval) lists the new master's replicas.
  let replicasAfter = replicaPorts(sentinel);
  while (replicasAfter.length === 0 || replicasAfter.includes(sentinel.getMasterNode().port)) {
    checkDeadline(`waiting for the replicas of the new master (${replicasAfter})`);
    await sleep(50);
    replicasAfter = replicaPorts(sentinel);
  }
  const masterAfter = sentinel.getMasterNode().port;
  await sentinel.close();
  emit({
    event: "result",
    ok: true,
    first_master_port: firstPort,
    master_after: masterAfter,
    pre_switch_acks: preAcks,
    post_switch: postSwitch,
    writes_gap_ms: gapMs,
    errors: Object.fromEntries(errors),
    topology,
    replicas_after: replicasAfter,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    emit({ event: "result", ok: false, error: String(err && err.stack), errors: Object.fromEntries(errors) });
    process.exit(1);
  },
);
