"""Personal fields never reach the logs: a full scenario against a real ``parley serve`` process
with JSON logs at debug level (SDK identify with phone and email, track, messages, bad input that
echoes personal values, admin export and erase, a console login), then every personal value is
searched for in everything the process wrote."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from loadtests.procs import free_port, start_listening
from loadtests.procs import stop as stop_process
from parley.sdk import Client, ReplyError

pytestmark = pytest.mark.timeout(120)

PHONE_RAW, PHONE = "(415) 555-0177", "+14155550177"
EMAIL = "zelda.quimby@example.org"
NAME = "Zelda Quimby"
TEXT = "meet me at 42 Wallaby Way"
BAD_EMAIL = "zelda-at-nowhere"
PASSWORD = "Quimby-passw0rd-77"
PERSONAL = [PHONE_RAW, PHONE, PHONE[1:], "4155550177", EMAIL, NAME, "Zelda", "Quimby", TEXT, "Wallaby", BAD_EMAIL,
            PASSWORD]  # fmt: skip

SCHEMA = {
    "attributes": {"city": {"type": "string"}},
    "consent_topics": ["marketing"],
    "identity": {"default_region": "US"},
    "events": {"viewed": {"properties": {"sku": "string"}}},
}


def _setup(db: str, parley: str) -> tuple[str, str]:
    """An app and a console admin with a personal name, made by the CLI (a process: it runs its own
    event loop); the app id and API key."""
    created = subprocess.run([parley, "app", "create", "--name", "demo", "--format", "json", "--sqlite-path", db],
                             capture_output=True, check=True)  # fmt: skip
    values = json.loads(created.stdout)
    app, key = values["PARLEY_APP"], values["PARLEY_API_KEY"]
    subprocess.run(
        [parley, "console-user", "add", "--app", app, "--user", "zq", "--role", "admin", "--name", NAME,
         "--password-stdin", "--sqlite-path", db], input=(PASSWORD + "\n").encode(), capture_output=True, check=True,
    )  # fmt: skip
    return app, key


async def test_a_full_run_logs_no_personal_value(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    parley = str(Path(sys.executable).parent / "parley")
    app, key = _setup(db, parley)
    log_path = tmp_path / "serve.log"
    with log_path.open("ab") as log:

        def spawn(port: int) -> subprocess.Popen[bytes]:
            cmd = [parley, "serve", "--port", str(port), "--sqlite-path", db,
                   "--log-level", "debug", "--log-format", "json"]  # fmt: skip
            return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

        proc, port = start_listening(spawn, free_port(), "parley serve", timeout=30)
    try:
        http = f"http://127.0.0.1:{port}"
        headers = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=http, headers=headers, timeout=10) as api:
            assert (await api.put("/v1/audience/schema", json=SCHEMA)).status_code == 200
            for user, name in (("zq", NAME), ("bob", "Bob")):
                assert (await api.post("/v1/users", json={"user": user, "name": name})).status_code == 201
            conv = (
                await api.post("/v1/conversations", json={"kind": "direct", "members": ["zq", "bob"]})
            ).json()["conv"]
            token = (await api.post("/v1/tokens", json={"user": "zq"})).json()["token"]
            async with Client(f"ws://127.0.0.1:{port}/ws", token=token) as zq:
                pid = await zq.identify({"phone": PHONE_RAW, "email": EMAIL})
                await zq.set_attributes({"city": "Wallaby"})
                await zq.track("viewed", {"sku": "s1"})
                await zq.send(conv, TEXT)
                with pytest.raises(ReplyError) as bad:
                    await zq.identify({"email": BAD_EMAIL})
                assert bad.value.code == "identifier_invalid"
            refused = await api.post(
                "/v1/audience/identify",
                json={"identifiers": [{"kind": "phone", "value": "555-" + PHONE_RAW}]},
            )
            assert refused.status_code == 422
            odd = await api.patch(
                f"/v1/audience/profiles/{pid}", json={"attributes": {"city": 7, "nick": NAME}}
            )
            assert odd.status_code == 422
            events = [{"eid": "x1", "event": "viewed", "user": "zq", "props": {"sku": 1, "note": EMAIL}}]
            assert (await api.post("/v1/audience/events", json={"events": events})).status_code == 422
            export = await api.get(f"/v1/audience/profiles/{pid}/export")
            assert EMAIL in export.text and TEXT in export.text, "the export has them: the logs must not"
            assert NAME in export.text, "her directory record (display name) is exported"
            assert (await api.post(f"/v1/audience/profiles/{pid}/erase")).status_code == 200
            assert (await api.get("/v1/users/zq")).json()["name"] == "", "and erased"
            again = await api.post(
                "/v1/audience/identify", json={"identifiers": [{"kind": "email", "value": EMAIL}]}
            )
            assert again.status_code == 409
        async with httpx.AsyncClient(base_url=http, timeout=10) as browser:
            login = await browser.post(
                "/console/api/login", json={"app": app, "username": "zq", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            wrong = await browser.post(
                "/console/api/login", json={"app": app, "username": "zq", "password": PASSWORD + "x"}
            )
            assert wrong.status_code == 401
    finally:
        stop_process(proc)
    logged = log_path.read_text(errors="replace")
    assert len(logged.splitlines()) > 10, "debug logging was on: the scan has something to scan"
    assert all(line.startswith("{") for line in logged.splitlines() if line.strip()), "JSON logs"
    leaks = [(value, line) for line in logged.splitlines() for value in PERSONAL if _found(value, line)]
    assert not leaks, f"personal values in the logs: {leaks[:5]}"


HEX_RUN = re.compile(r"(?:\b[0-9a-f]{2}(?: |\b)){4,}")


def _found(value: str, line: str) -> bool:
    """Whether ``value`` (or any 6 characters of it) is in ``line`` as text, or in a hex dump of
    bytes (a frame logged as ``6d 70 6c 65 ...`` carries the content all the same)."""
    texts = [line.lower()]
    texts += [
        bytes.fromhex(m.group(0).replace(" ", "")).decode("latin-1").lower() for m in HEX_RUN.finditer(line)
    ]
    v = value.lower()
    # Digits alone: the whole number (6 digits of a phone could be part of any timestamp).
    windows = {v} if not re.search("[a-z]", v) else {v[i : i + 6] for i in range(max(1, len(v) - 5))}
    return any(w in t for t in texts for w in windows)
