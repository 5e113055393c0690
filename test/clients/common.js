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

// checkDeadline throws once the run's deadline passed, naming what it was
// doing.
function checkDeadline(what) {
  if (Date.now() > deadline) {
    throw new Error(`deadline of ${cfg.deadlineMs} ms passed while ${what}`);
  }
}

module.exports = { cfg, deadline, emit, sleep, checkDeadline };
