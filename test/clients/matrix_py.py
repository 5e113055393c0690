#!/usr/bin/python3
"""Drive redis-py's Sentinel support through a failover.

Usage: matrix_py.py '<json config>'

Run by test/client_matrix_test.go with Debian's /usr/bin/python3
(python3-redis 4.3.4). The config has sentinel_ports, sentinel_password,
data_password, master_name, prefix, after_acks, interval (seconds between
writes) and deadline (seconds, for each wait of the script).

The script talks to the test a line at a time: JSON objects on stdout,
words on stdin.

1. It discovers the master and the replicas through the sentinels
   (Sentinel(..., sentinel_kwargs={"password": ...}, password=...)), writes
   <prefix>:before:<i> through master_for(), WAITs for both replicas, reads
   the last key through slave_for() and prints {"phase": "before", ...}.
2. It then writes <prefix>:w:<seq> = <seq> through master_for() every
   interval, whatever fails. "killed" on stdin says the master is dead: the
   writes acknowledged from then on are the post-kill ones, which must all
   be on the new master.
3. "stop" on stdin: once after_acks post-kill writes were acknowledged (or
   the deadline passed) it discovers again, reads the last post-kill key
   through slave_for() and prints {"phase": "after", ...}.

Every read through slave_for() is pipelined with ROLE and CLIENT INFO on
the same connection, so the test sees which node served it (laddr) and
that the node is a replica. Any unexpected exception exits non-zero with a
traceback, which the test prints.
"""
import json
import select
import sys
import time

import redis
from redis.sentinel import Sentinel


def text(v):
    """Decode bytes (redis-py 4.3.4 returns raw bytes) for JSON."""
    return v.decode() if isinstance(v, bytes) else v


def served_port(client_info):
    """The local port of CLIENT INFO's laddr=ip:port: the node that answered."""
    for field in text(client_info).split():
        if field.startswith("laddr="):
            return int(field.rsplit(":", 1)[1])
    return 0


def replica_read(replica, key, want, deadline):
    """Read key through slave_for() until it holds want on a replica.

    Returns what the last read saw (value, role, its master, which node).
    """
    last = {}
    while True:
        try:
            pipe = replica.pipeline(transaction=False)
            pipe.get(key)
            pipe.execute_command("ROLE")
            pipe.execute_command("CLIENT", "INFO")
            value, role, info = pipe.execute()
            last = {
                "value": text(value),
                "role": text(role[0]),
                "master_port": int(role[2]) if text(role[0]) == "slave" else 0,
                "served_port": served_port(info),
            }
            if last["value"] == want and last["role"] == "slave":
                return last
        except (redis.ConnectionError, redis.TimeoutError) as e:
            last = {"error": repr(e)}
        if time.monotonic() > deadline:
            return last
        time.sleep(0.02)  # pacing between attempts, not synchronisation


def discovery(sentinel, name):
    """What discover_master / discover_slaves answer now."""
    ip, port = sentinel.discover_master(name)
    return {
        "master_ip": ip,
        "master_port": int(port),
        "replica_ports": sorted(int(p) for _, p in sentinel.discover_slaves(name)),
    }


def stdin_word():
    """A word the test wrote on stdin, or None if there is none yet."""
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    if not ready:
        return None
    line = sys.stdin.readline()
    return line.strip() if line else "eof"


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    cfg = json.loads(sys.argv[1])
    name, prefix = cfg["master_name"], cfg["prefix"]
    sentinel = Sentinel(
        [("127.0.0.1", p) for p in cfg["sentinel_ports"]],
        sentinel_kwargs={"password": cfg["sentinel_password"], "socket_timeout": 1},
        password=cfg["data_password"],
        socket_timeout=1,
    )
    master = sentinel.master_for(name)
    replica = sentinel.slave_for(name)

    before = discovery(sentinel, name)
    seqs = list(range(10))
    for i in seqs:
        master.set("%s:before:%d" % (prefix, i), i)
    waited = master.execute_command("WAIT", 2, 2000)
    last = "%s:before:%d" % (prefix, seqs[-1])
    before.update({
        "phase": "before",
        "redis_py": redis.__version__,
        "before": seqs,
        "waited": int(waited),
        "replica_read": replica_read(replica, last, str(seqs[-1]),
                                     time.monotonic() + cfg["deadline"]),
    })
    emit(before)

    post_kill, pre_kill, errors = [], 0, {}
    killed_at = first_ack = stop_deadline = None
    seq = 0
    while True:
        word = stdin_word()
        if word == "killed":
            killed_at = time.monotonic()
        elif word == "stop":
            stop_deadline = time.monotonic() + cfg["deadline"]
        elif word == "eof":
            sys.exit("stdin closed before stop")
        if stop_deadline is not None and (
                len(post_kill) >= cfg["after_acks"] or time.monotonic() > stop_deadline):
            break
        try:
            master.set("%s:w:%d" % (prefix, seq), seq)
            if killed_at is None:
                pre_kill += 1
            else:
                post_kill.append(seq)
                if first_ack is None:
                    first_ack = time.monotonic() - killed_at
        except redis.RedisError as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        seq += 1
        time.sleep(cfg["interval"])  # the client's pace, not synchronisation

    after = discovery(sentinel, name)
    after.update({
        "phase": "after",
        "pre_kill": pre_kill,
        "post_kill": post_kill,
        "first_ack_after_s": first_ack,
        "errors": errors,
        "replica_read": replica_read(
            replica, "%s:w:%d" % (prefix, post_kill[-1]), str(post_kill[-1]),
            time.monotonic() + cfg["deadline"]) if post_kill else {},
    })
    emit(after)


if __name__ == "__main__":
    main()
