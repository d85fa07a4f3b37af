"""The console's knowledge upload against a real node: the size limit is a setting (413
problem+json past it) and a file that is not UTF-8 is refused with a stable code."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from tests.harness import running_node
from tests.server.console.conftest import PASSWORD, login

LIMIT = 1000


async def test_the_upload_limit_is_a_setting_and_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    async with running_node(tmp_path, knowledge_upload_max_bytes=LIMIT) as node:
        await node.node.services.console.add_user(node.app.app, "ada", PASSWORD, ["admin"], name="Ada")
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as web:
            h = {"x-csrf-token": await login(web, node.app.app, "ada")}
            url = "/console/api/knowledge/uploads"

            def b64(data: bytes) -> str:
                return base64.b64encode(data).decode()

            fits = "我们九点开门。\n".encode() * 10
            ok = await web.post(url, headers=h, json={"source": "hours.md", "content_base64": b64(fits)})
            assert ok.status_code == 201, ok.text
            too_big = b"a" * (LIMIT + 1)
            for body in ({"source": "big.md", "content_base64": b64(too_big)},
                         {"source": "big.md", "content": too_big.decode()}):  # fmt: skip
                r = await web.post(url, headers=h, json=body)
                assert r.status_code == 413, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["code"] == "body_too_large"
                assert f"at most {LIMIT} bytes" in r.json()["detail"]
            latin1 = "Öffnungszeiten: neun Uhr\n".encode("latin-1")
            r = await web.post(url, headers=h, json={"source": "de.md", "content_base64": b64(latin1)})
            assert r.status_code == 422, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "encoding_invalid"
            assert "UTF-8" in r.json()["detail"]
            r = await web.post(url, headers=h, json={"source": "x.md", "content_base64": "not base64!"})
            assert r.status_code == 422 and r.json()["code"] == "invalid_request", r.text
            # the node keeps serving: the good upload is listed, the refused ones are not
            listed = (await web.get(url)).json()["uploads"]
            assert [u["source"] for u in listed] == ["hours.md"]
        async with httpx.AsyncClient(
            base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
        ) as bot:
            (pending,) = (
                await bot.get(url.replace("/console/api", "/v1"), params={"state": "pending"})
            ).json()["uploads"]
            assert pending["content"] == fits.decode()
