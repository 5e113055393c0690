// What the client scripts (ioredis/failover.js, noderedis/failover.js)
// share: the run's config from argv, its deadline, output lines and
// sleeping.
"use strict";

// cfg is the JSON config the Go side passes as the first argument.
const cfg = JSON.parse(process.argv[2]);
const deadline = Date.now() + cfg.deadlineMs;

// emit prints one JSON event line on stdout.
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// pending is what the script last said it was doing (checkDeadline), for
// the watchdog.
let pending = "starting";

// watchdog ends the script at its deadline with a failed result naming
// what it was doing, and report()'s fields (its error tallies): a client
// call that never returns (node-redis retries a refused connect forever)
// never reaches checkDeadline, and the Go side saw no result line at all.
function watchdog(report) {
  setTimeout(() => {
    emit({ event: "result", ok: false, error: `deadline of ${cfg.deadlineMs} ms passed while ${pending}: a client call never returned`, ...report() });
    process.exit(1);
  }, Math.max(0, deadline - Date.now())).unref();
}

// checkDeadline throws once the run's deadline passed, naming what it was
// doing.
function checkDeadline(what) {
  pending = what;
  if (Date.now() > deadline) {
    throw new Error(`deadline of ${cfg.deadlineMs} ms passed while ${what}`);
  }
}

// writeThroughSwitch writes "<prefix>:<seq>" = seq, one SET after another
// through write(key, value), which resolves to the port of the node that
// acknowledged it, retrying with the next seq after an error (onError,
// then a pause of retryMs), until cfg.postAcks writes were acknowledged by
// a node other than firstPort. Once cfg.preAcks were acknowledged by
// firstPort, it awaits signal(seq, preAcks) (which tells the Go side to
// kill the master) once. It returns the writes acknowledged after the
// switch ([{seq, port}]), how many were acknowledged before it, and the
// time between the last of those and the first after it.
async function writeThroughSwitch({ firstPort, write, onError, retryMs, signal }) {
  let seq = 0;
  let preAcks = 0;
  let lastPreAckAt = 0;
  let firstPostAckAt = 0;
  let signalled = false;
  const postSwitch = [];
  while (postSwitch.length < cfg.postAcks) {
    seq++;
    checkDeadline(`writing ${cfg.prefix}:${seq} (${preAcks} acks on ${firstPort}, ${postSwitch.length} after the switch)`);
    try {
      const port = await write(`${cfg.prefix}:${seq}`, String(seq));
      if (port === firstPort) {
        preAcks++;
        lastPreAckAt = Date.now();
      } else {
        if (postSwitch.length === 0) firstPostAckAt = Date.now();
        postSwitch.push({ seq, port });
      }
    } catch (err) {
      onError(err);
      await sleep(retryMs);
    }
    if (!signalled && preAcks >= cfg.preAcks) {
      await signal(seq, preAcks);
      signalled = true;
    }
  }
  return { postSwitch, preAcks, gapMs: firstPostAckAt - lastPreAckAt };
}

module.exports = { cfg, deadline, emit, sleep, checkDeadline, watchdog, writeThroughSwitch };
