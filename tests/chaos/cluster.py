"""A chaos cluster: gateway processes behind the LB, one Redis, one store, and the faults."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import redis

from parley.server.models import App
from parley.server.ports import Store
from tests.chaos.lb import LoadBalancer
from tests.chaos.procs import GatewayProcess, MongoProcess, tcp_peer_ports
from tests.servers import RedisServer

__all__ = ["Cluster"]


@dataclasses.dataclass
class Cluster:
    app: App
    store: Store
    redis: RedisServer
    mongo_url: str
    mongo_proc: MongoProcess | None
    database: str
    log_dir: Path
    nodes: list[GatewayProcess] = dataclasses.field(default_factory=list)
    lb: LoadBalancer | None = None

    async def start(
        self, count: int = 3, *, faketime: dict[int, str] | None = None, env: dict[str, str] | None = None
    ) -> LoadBalancer:
        """Start ``count`` nodes (node ``i`` under ``faketime[i]`` if given) and the LB in front."""
        for i in range(count):
            node = GatewayProcess(
                f"node{i}", redis_url=self.redis.url, mongo_url=self.mongo_url, mongo_database=self.database,
                log_dir=self.log_dir, faketime=(faketime or {}).get(i), env=env,
            )  # fmt: skip
            self.nodes.append(node)
        await asyncio.gather(*(asyncio.to_thread(n.start) for n in self.nodes))
        self.lb = LoadBalancer([n.port for n in self.nodes])
        await self.lb.start()
        return self.lb

    def node(self, node_id: str) -> GatewayProcess:
        (found,) = [n for n in self.nodes if n.node_id == node_id]
        return found

    async def close(self) -> None:
        """Stop the nodes (always, even if closing the LB fails or hangs), then the LB."""
        try:
            if self.lb is not None:
                async with asyncio.timeout(10):
                    await self.lb.close()
        finally:
            await asyncio.gather(*(asyncio.to_thread(n.stop) for n in self.nodes))

    def logs(self) -> str:
        return "\n".join(f"--- {n.node_id} (pid {n.proc and n.proc.pid})\n{n.log_tail()}" for n in self.nodes)

    # ------------------------------------------------------------------ faults

    def redis_clients_of(self, node: GatewayProcess) -> list[str]:
        """Addresses (``ip:port``) of ``node``'s connections as Redis lists them."""
        ports = tcp_peer_ports(node.pid, self.redis.port)
        with redis.Redis(port=self.redis.port) as r:
            listed = r.client_list()
        return [c["addr"] for c in listed if int(c["addr"].rsplit(":", 1)[1]) in ports]

    def kill_redis_connections(self, node: GatewayProcess) -> int:
        """``CLIENT KILL`` every connection of ``node`` (others keep theirs); how many were killed."""
        addrs = self.redis_clients_of(node)
        with redis.Redis(port=self.redis.port) as r:
            for addr in addrs:
                r.client_kill(addr)
        return len(addrs)
