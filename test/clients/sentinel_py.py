#!/usr/bin/python3
"""Drive redis-py's Sentinel support against running sentinels.

Usage: sentinel_py.py '<json config>'

The config has sentinel_ports, sentinel_password, data_password,
master_name, key and value. The script discovers the master and the
replicas through the sentinels (SENTINEL MASTERS / SENTINEL SLAVES, with
the sentinel password passed in sentinel_kwargs as redis-py requires),
writes key=value through master_for() and reads it back, and prints one
JSON object with what it saw. Any exception exits non-zero with a
traceback, which the Go test prints.

Run it with Debian's /usr/bin/python3 (python3-redis 4.3.4).
"""
import json
import sys

from redis.sentinel import Sentinel


def main():
    cfg = json.loads(sys.argv[1])
    sentinels = [("127.0.0.1", port) for port in cfg["sentinel_ports"]]
    sentinel = Sentinel(
        sentinels,
        socket_timeout=5,
        sentinel_kwargs={"password": cfg["sentinel_password"], "socket_timeout": 5},
    )
    name = cfg["master_name"]
    master_addr = sentinel.discover_master(name)
    replica_addrs = sentinel.discover_slaves(name)
    master = sentinel.master_for(name, password=cfg["data_password"], socket_timeout=5)
    master.set(cfg["key"], cfg["value"])
    value = master.get(cfg["key"])
    role = master.execute_command("ROLE")[0]
    print(json.dumps({
        "master": [master_addr[0], int(master_addr[1])],
        "replicas": sorted([[ip, int(port)] for ip, port in replica_addrs]),
        "get": value.decode() if value is not None else None,
        "role": role.decode() if isinstance(role, bytes) else role,
        "redis_py": __import__("redis").__version__,
    }))


if __name__ == "__main__":
    main()
