"""docker-compose.yml cannot run here (no Docker engine): check it against the code instead.

Every command a service runs must be a real ``parley`` command with real options,
every ``PARLEY_*`` variable must be read by the CLI, ports must line up, and the
load balancer must point at the gateway services.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import yaml

from parley.server.app import build_app
from parley.server.cli import main
from parley.server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def parley_services() -> dict[str, dict[str, Any]]:
    """The gateway nodes: services that run ``parley``."""
    return {
        name: svc for name, svc in compose()["services"].items() if svc.get("command", [""])[0] == "parley"
    }


def command_of(argv: list[str]) -> tuple[click.Command, list[str]]:
    assert argv[0] == "parley"
    group: click.Command = main
    rest = argv[1:]
    while isinstance(group, click.Group):
        group = group.commands[rest[0]]
        rest = rest[1:]
    return group, rest


def envvars(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            names.update([param.envvar] if isinstance(param.envvar, str) else param.envvar)
    return names


def test_two_gateway_nodes_run_real_commands_with_real_options() -> None:
    services = parley_services()
    assert len(services) >= 2
    for name, svc in services.items():
        command, args = command_of(svc["command"])
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for arg in args:
            if arg.startswith("--"):
                assert arg in options, f"{name}: {arg} is not an option of {command.name}"
        known = envvars(command)
        for var in svc["environment"]:
            assert var in known, f"{name}: {var} is not read by `parley {command.name}`"
        port = args[args.index("--port") + 1]
        assert port == "8700"
        assert "/readyz" in " ".join(svc["healthcheck"]["test"])


def test_node_ids_differ() -> None:
    ids = [svc["environment"]["PARLEY_NODE_ID"] for svc in parley_services().values()]
    assert len(set(ids)) == len(ids)


def test_health_and_gateway_routes_exist() -> None:
    paths = {getattr(route, "path", "") for route in build_app(Settings()).routes}
    assert {"/ws", "/readyz", "/healthz", "/metrics"} <= paths


def test_load_balancer_points_at_the_gateway_nodes() -> None:
    services = compose()["services"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    upstreams = re.findall(r"server (\w+):(\d+)", nginx)
    assert {host for host, _ in upstreams} == set(parley_services())
    assert {port for _, port in upstreams} == {"8700"}
    listen = re.search(r"listen (\d+);", nginx)
    assert listen is not None
    assert f"{listen.group(1)}:{listen.group(1)}" in services["lb"]["ports"][0] or services["lb"]["ports"][
        0
    ].endswith(f":{listen.group(1)}")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["lb"]["volumes"]
    assert "Upgrade $http_upgrade" in nginx, "WebSocket upgrade headers are forwarded"


def test_backing_services_match_the_urls() -> None:
    services = compose()["services"]
    env = next(iter(parley_services().values()))["environment"]
    assert env["PARLEY_REDIS_URL"].startswith("redis://redis:6379")
    assert env["PARLEY_MONGO_URL"].startswith("mongodb://mongo:27017")
    assert {"redis", "mongo"} <= set(services)


def test_dockerfile_installs_and_runs_parley() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and "ARG EXTRAS=server" in dockerfile
    cmd = re.search(r"CMD (\[.*\])", dockerfile)
    assert cmd is not None
    command_of(yaml.safe_load(cmd.group(1)))


def test_bot_service_runs_the_bot_with_its_options_and_variables() -> None:
    bot = compose()["services"]["bot"]
    assert bot["command"][:3] == ["python", "-m", "parley.bots"]
    assert bot["build"]["args"]["EXTRAS"] == "server,bots"
    source = (ROOT / "bots" / "__main__.py").read_text() + (ROOT / "bots" / "llm.py").read_text()
    for arg in bot["command"][3:]:
        if arg.startswith("--"):
            assert f'"{arg}"' in source, f"the bot has no option {arg}"
    for var in bot["environment"]:
        assert var in source, f"the bot does not read {var}"
    url = bot["command"][bot["command"].index("--url") + 1]
    assert url.startswith("ws://lb:") and url.endswith("/ws"), (
        "the bot talks to the gateway through the load balancer"
    )
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG EXTRAS" in dockerfile and ".[${EXTRAS}]" in dockerfile
